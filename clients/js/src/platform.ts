// What differs between a browser and Node: how a file is read, how bytes are PUT to the storage
// (with progress from bytes really sent), and where resume records live.
import type { ResumeStore } from "./store.js";

/** A file as the upload sees it: its name, size and type, slices to send, bytes to read. */
export interface Source {
  name: string;
  size: number;
  type: string;
  /** The bytes [start, end) as the platform's `put` sends them (a Blob slice, a file range). */
  slice(start: number, end: number): unknown;
  /** The bytes [start, end) in memory (fingerprints, part checksums). */
  read(start: number, end: number): Promise<Uint8Array>;
}

export interface PutAnswer {
  status: number;
  etag: string | null;
  /** The answer's body (S3's XML error), for a refusal. */
  text: string;
  retryAfter: string | null;
}

/** A PUT of `body` to a presigned `url` with exactly `headers` (they are signed). `onSent(bytes)`
 * reports the bytes sent so far; an aborted `signal` rejects with Interrupted, no answer with
 * NetworkError. */
export type Put = (
  url: string,
  headers: Record<string, string>,
  body: unknown,
  onSent: (bytes: number) => void,
  signal: AbortSignal,
) => Promise<PutAnswer>;

export interface Platform<Input> {
  open(input: Input): Promise<Source>;
  put: Put;
  store: ResumeStore;
}

const SAMPLE = 64 * 1024;
const SAMPLES = 16;

/**
 * Which file this is, cheaply: its name and size, and a 64-bit hash of 16 samples of 64 KiB
 * spread over it (all of it up to 1 MiB). Not the modification time: a File made in memory gets
 * a new one each time, and the same bytes must resume. Not a security measure: completion checks
 * sizes and ETags, and a resume record only continues the caller's own upload.
 */
export async function fingerprint(source: Source): Promise<string> {
  const { size } = source;
  let h1 = 0xdeadbeef ^ size;
  let h2 = 0x41c6ce57 ^ size;
  const spans =
    size <= SAMPLE * SAMPLES
      ? [0]
      : Array.from({ length: SAMPLES }, (_, i) => Math.floor((i * (size - SAMPLE)) / (SAMPLES - 1)));
  for (const start of spans) {
    const bytes = await source.read(start, size <= SAMPLE * SAMPLES ? size : start + SAMPLE);
    for (let i = 0; i < bytes.length; i++) {
      h1 = Math.imul(h1 ^ bytes[i]!, 2654435761);
      h2 = Math.imul(h2 ^ bytes[i]!, 1597334677);
    }
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return `${size}:${(h2 >>> 0).toString(16)}.${(h1 >>> 0).toString(16)}:${source.name}`;
}

/** A fresh random key (crypto.randomUUID needs a secure context; getRandomValues does not). */
export function randomKey(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Base64 SHA-256 of bytes, as the API takes checksums (WebCrypto: a secure context in browsers). */
export async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return btoa(String.fromCharCode(...digest));
}
