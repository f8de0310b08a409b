// @presign/client in Node (20 and later): file paths as well as Blobs and Files, node:http(s) for
// the storage PUTs (with the signed Content-Length, counting the bytes the socket took), and resume
// records in files under a fixed per-user directory, so a new process in any working directory
// finds them.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { homedir } from "node:os";
import { basename, extname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { blobSource } from "./browser.js";
import { createClientWith, type ClientOptions, type PresignClient } from "./client.js";
import { Interrupted, NetworkError } from "./errors.js";
import type { Platform, Put, Source } from "./platform.js";
import type { ResumeRecord, ResumeStore } from "./store.js";

/** What the Node client uploads: a path (string or file: URL), a Blob or a File. */
export type NodeInput = string | URL | Blob;

export interface NodeClientOptions extends ClientOptions {
  /** Where the file store keeps resume records (default: defaultStateDir()). Ignored with `store`. */
  stateDir?: string;
}

export function createClient(options: NodeClientOptions): PresignClient<NodeInput> {
  return createClientWith(nodePlatform(options.stateDir), options);
}

/**
 * The per-user state directory: `$XDG_STATE_HOME/presign` (an absolute XDG_STATE_HOME only, as the
 * XDG spec says), else `~/.local/state/presign` on Linux and the BSDs, `~/Library/Application
 * Support/presign` on macOS, `%LOCALAPPDATA%\presign` on Windows.
 */
export function defaultStateDir(
  env: Record<string, string | undefined> = process.env,
  platform: string = process.platform,
  home: string = homedir(),
): string {
  const xdg = env.XDG_STATE_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, "presign");
  if (platform === "win32") return join(env.LOCALAPPDATA || join(home, "AppData", "Local"), "presign");
  if (platform === "darwin") return join(home, "Library", "Application Support", "presign");
  return join(home, ".local", "state", "presign");
}

/** Resume records as files, one per upload, named by a hash of the record's key, readable by
 * their owner only; written to a temporary name and renamed, so a crash never leaves half a record. */
export function fileStore(dir: string = defaultStateDir()): ResumeStore {
  const folder = join(dir, "uploads");
  const file = (key: string) => join(folder, createHash("sha256").update(key).digest("hex") + ".json");
  return {
    async get(key) {
      try {
        return JSON.parse(await readFile(file(key), "utf8")) as ResumeRecord;
      } catch {
        return undefined;
      }
    },
    async set(key, record) {
      await mkdir(folder, { recursive: true, mode: 0o700 });
      const temporary = `${file(key)}.${process.pid}.${Math.random().toString(36).slice(2)}`;
      await writeFile(temporary, JSON.stringify(record), { mode: 0o600 });
      await rename(temporary, file(key));
    },
    delete: (key) => rm(file(key), { force: true }),
  };
}

// Enough to give the common files their type; anything else is application/octet-stream unless
// the upload says `contentType`.
const TYPES: Record<string, string> = {
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".avif": "image/avif",
  ".pdf": "application/pdf",
  ".txt": "text/plain",
  ".json": "application/json",
  ".csv": "text/csv",
  ".mp4": "video/mp4",
  ".mp3": "audio/mpeg",
  ".zip": "application/zip",
};

interface FileRange {
  path: string;
  start: number;
  end: number;
}

async function pathSource(input: string | URL): Promise<Source> {
  const path = resolve(typeof input === "string" ? input : fileURLToPath(input));
  const { size } = await stat(path);
  return {
    name: basename(path),
    size,
    type: TYPES[extname(path).toLowerCase()] ?? "",
    slice: (start, end): FileRange => ({ path, start, end }),
    async read(start, end) {
      const handle = await open(path);
      try {
        const bytes = new Uint8Array(end - start);
        const { bytesRead } = await handle.read(bytes, 0, bytes.length, start);
        return bytes.subarray(0, bytesRead);
      } finally {
        await handle.close();
      }
    },
  };
}

async function* chunks(body: unknown): AsyncGenerator<Uint8Array> {
  if (body instanceof Blob) {
    yield* body.stream() as unknown as AsyncIterable<Uint8Array>;
    return;
  }
  const { path, start, end } = body as FileRange;
  if (end > start) yield* createReadStream(path, { start, end: end - 1, highWaterMark: 256 * 1024 });
}

/** A PUT with node:http(s): the headers as signed (Content-Length among them, which a presigned
 * PUT needs), the body written chunk by chunk, `onSent` counting what the socket has taken. */
export const nodePut: Put = (url, headers, body, onSent, signal) =>
  new Promise((resolvePut, reject) => {
    if (signal.aborted) return reject(new Interrupted());
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      request.destroy();
      reject(error);
    };
    const target = new URL(url);
    const send = target.protocol === "https:" ? httpsRequest : httpRequest;
    const request = send(target, { method: "PUT", headers }, (response: IncomingMessage) => {
      const parts: Buffer[] = [];
      response.on("data", (part: Buffer) => parts.push(part));
      response.on("error", () => fail(new NetworkError("the storage's answer broke off")));
      response.on("end", () => {
        settled = true;
        signal.removeEventListener("abort", abort);
        resolvePut({
          status: response.statusCode ?? 0,
          etag: (response.headers.etag as string | undefined) ?? null,
          text: Buffer.concat(parts).toString("utf8"),
          retryAfter: (response.headers["retry-after"] as string | undefined) ?? null,
        });
      });
    });
    const abort = () => fail(new Interrupted());
    signal.addEventListener("abort", abort, { once: true });
    request.on("error", (error) =>
      fail(signal.aborted ? new Interrupted() : new NetworkError(`no answer from the storage (${error.message})`)),
    );
    (async () => {
      let sent = 0;
      for await (const chunk of chunks(body)) {
        if (settled) return;
        const more = request.write(chunk, () => onSent((sent += chunk.length)));
        if (!more) await drained(request);
      }
      request.end();
    })().catch(fail); // the file could not be read: not worth another attempt
  });

/** Until the socket takes more (or the request is gone). */
const drained = (request: NodeJS.WritableStream) =>
  new Promise<void>((go) => {
    const done = () => {
      request.off("drain", done);
      request.off("close", done);
      go();
    };
    request.on("drain", done);
    request.on("close", done);
  });

export function nodePlatform(stateDir?: string): Platform<NodeInput> {
  return {
    open: async (input) => (input instanceof Blob ? blobSource(input) : pathSource(input)),
    put: nodePut,
    store: fileStore(stateDir),
  };
}

export { blobSource } from "./browser.js";
export * from "./common.js";
