// createClient: the whole API behind one object. Uploads go through Transfer (upload.ts); every
// other route is one call of the contract with its own types.
import { makeCall, tokenSubject, type Call, type CallOptions } from "./api.js";
import { ApiError, Interrupted } from "./errors.js";
import { fingerprint, randomKey, type Platform } from "./platform.js";
import type { ResumeRecord, ResumeStore } from "./store.js";
import type {
  CompletedUpload,
  ErrorCode,
  CreateShareRequest,
  CreateShareResponse,
  CreateUploadRequest,
  CreateUploadResponse,
  DownloadsRequest,
  DownloadsResponse,
  PartUrl,
  ShareInfo,
  ShareList,
  ShareListQuery,
  UploadList,
  UploadListQuery,
  UploadStatus,
} from "./types.js";
import { Stale, Transfer, type UploadEvent, type UploadOptions } from "./upload.js";

export interface ClientOptions {
  /** The API's address, e.g. https://api.example.com */
  baseUrl: string;
  /** A bearer token (a JWT), or `getToken` to be asked before each call (and once more after a 401). */
  token?: string;
  getToken?: () => string | Promise<string>;
  /** Where resume records live. Default: IndexedDB in a browser (memory where there is none), a
   * file per upload under $XDG_STATE_HOME/presign/ (or the platform's equivalent) in Node. */
  store?: ResumeStore;
  /** Whose records these are; default: the token's `sub`. Records are keyed by base URL, owner
   * and file, so another user of the same browser never continues yours. */
  owner?: string;
  /** How long (ms) a failing request is retried (429 and 503 after Retry-After, no answer with
   * backoff) before its error is thrown. Default 120 s: longer than the 30 s an
   * Idempotency-Key claim of a failed request may hold (docs/lifecycle.md). */
  patience?: number;
  /** The fetch used for API calls (default: the global one). */
  fetch?: typeof fetch;
  /** Every upload's events, besides its own `onEvent`. */
  onEvent?: (event: UploadEvent) => void;
}

export interface PresignClient<Input = Blob> {
  /** The whole upload: create, the bytes (one PUT or parts), complete. Resolves to the completed
   * record; an aborted `signal` rejects with Interrupted (name "AbortError") and the same file
   * uploaded again continues the same upload, in this page, after a reload, or in a new process. */
  upload(input: Input, options?: UploadOptions): Promise<CompletedUpload>;
  /** Stops an upload of this file if one runs here, deletes it (`DELETE /uploads/{id}`) and its
   * resume record. Resolves true if there was one. */
  cancel(input: Input, options?: UploadOptions): Promise<boolean>;
  uploads: {
    get(uploadId: string): Promise<UploadStatus>;
    list(query?: UploadListQuery): Promise<UploadList>;
    /** Every upload, newest first, following the cursor. */
    all(query?: UploadListQuery): AsyncGenerator<UploadStatus>;
    delete(uploadId: string): Promise<void>;
  };
  /** `POST /downloads`: presigned GETs for one or many keys. */
  downloads(request: DownloadsRequest): Promise<DownloadsResponse>;
  /** One key's presigned GET; a refused key throws its ApiError. */
  downloadUrl(key: string, options?: Omit<DownloadsRequest, "keys">): Promise<string>;
  shares: {
    create(request: CreateShareRequest): Promise<CreateShareResponse>;
    list(query?: ShareListQuery): Promise<ShareList>;
    all(query?: ShareListQuery): AsyncGenerator<ShareInfo>;
    get(handle: string): Promise<ShareInfo>;
    revoke(handle: string): Promise<void>;
  };
  /** Any route, with the token, the error shape and the retries. */
  request<T>(method: string, path: string, body?: unknown, options?: CallOptions): Promise<T>;
}

const query = (q: object = {}) => {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(q)) if (value != null) params.set(name, String(value));
  const text = params.toString();
  return text ? `?${text}` : "";
};
const path = (id: string) => encodeURIComponent(id);

export function createClientWith<Input>(platform: Platform<Input>, options: ClientOptions): PresignClient<Input> {
  const patience = options.patience ?? 120_000;
  const store = options.store ?? platform.store;
  const call: Call = makeCall({
    ...options,
    patience,
    onRetry: (error, wait) =>
      options.onEvent?.({ type: "retry", status: error.status, code: (error as ApiError).code ?? "network", wait }),
  });
  const running = new Map<string, { controller: AbortController; done: Promise<unknown> }>();
  const urls = new Map<string, Map<number, PartUrl>>();

  async function prepare(input: Input, o: UploadOptions) {
    const source = await platform.open(input);
    const request: CreateUploadRequest = {
      filename: o.filename ?? source.name,
      content_type: o.contentType ?? (source.type || "application/octet-stream"),
      size: source.size,
    };
    if (o.kind != null) request.kind = o.kind;
    if (o.target != null) request.target = o.target;
    if (o.metadata) request.metadata = o.metadata;
    if (o.expiresIn != null) request.expires_in = o.expiresIn;
    if (o.multipart != null) request.multipart = o.multipart;
    // Part checksums need a multipart upload (the server refuses them on a single PUT), so the
    // option asks for one whatever the size; an empty file has no parts.
    if (o.checksums && source.size > 0) Object.assign(request, { multipart: true, part_checksums: true });
    const token = options.token ?? (await options.getToken?.());
    const owner = options.owner ?? tokenSubject(token);
    const storeKey = JSON.stringify([options.baseUrl.replace(/\/+$/, ""), owner, await fingerprint(source)]);
    return { source, request, storeKey };
  }

  async function upload(input: Input, o: UploadOptions = {}): Promise<CompletedUpload> {
    const { source, request, storeKey } = await prepare(input, o);
    // One transfer per file at a time: a resume waits for the interrupted run to let go.
    await running.get(storeKey)?.done.catch(() => {});
    const controller = new AbortController();
    const interrupt = () => controller.abort();
    if (o.signal?.aborted) throw new Interrupted();
    o.signal?.addEventListener("abort", interrupt, { once: true });
    const emit = (event: UploadEvent) => {
      o.onEvent?.(event);
      options.onEvent?.(event);
    };
    const work = (async () => {
      let found = await store.get(storeKey);
      // A record of another request for the same file (another kind, target, metadata) is not this upload.
      if (found && JSON.stringify(found.request) !== JSON.stringify(request)) found = undefined;
      // An upload named by its id, of which this store has no record: continued from what the API says.
      if (o.uploadId && found?.upload_id !== o.uploadId) {
        found = { v: 1, idempotency_key: randomKey(), request, upload_id: o.uploadId, parts: [], created_at: new Date().toISOString() };
      }
      for (let fresh = 0; ; fresh++) {
        const record: ResumeRecord = found ?? {
          v: 1,
          idempotency_key: randomKey(),
          request,
          parts: [],
          created_at: new Date().toISOString(),
        };
        // Kept before the create is sent: an answer lost with the process is found again by
        // replaying the same key and body.
        if (!found) await store.set(storeKey, record).catch(() => {}); // (without a store, no resume)
        const transfer = new Transfer({
          call,
          platform: platform as Platform<never>,
          store,
          storeKey,
          source,
          record,
          resumed: !!found,
          urls,
          signal: controller.signal,
          patience,
          options: o,
          emit,
        });
        try {
          return await transfer.run();
        } catch (error) {
          await transfer.settled();
          if (controller.signal.aborted) throw new Interrupted(record.upload_id ?? null);
          // A resumed upload that cannot go on (expired, aborted, deleted): once, a new one.
          if (error instanceof Stale && fresh === 0) {
            found = undefined;
            continue;
          }
          throw error;
        }
      }
    })();
    running.set(storeKey, { controller, done: work });
    try {
      return await work;
    } finally {
      o.signal?.removeEventListener("abort", interrupt);
      if (running.get(storeKey)?.done === work) running.delete(storeKey);
    }
  }

  async function cancel(input: Input, o: UploadOptions = {}): Promise<boolean> {
    const { storeKey } = await prepare(input, o);
    const active = running.get(storeKey);
    active?.controller.abort();
    await active?.done.catch(() => {});
    const record = await store.get(storeKey);
    if (!record) return false;
    let id = record.upload_id;
    if (!id) {
      // The create's answer never came: replaying it names the upload it made, if it made one.
      id = (await call<CreateUploadResponse>("POST", "/uploads", record.request, { key: record.idempotency_key }).catch(() => null))
        ?.upload_id;
    }
    if (id) {
      urls.delete(id);
      await call("DELETE", `/uploads/${path(id)}`).catch((error: unknown) => {
        if (!(error instanceof ApiError && [404, 410].includes(error.status))) throw error;
      });
    }
    await store.delete(storeKey);
    return true;
  }

  async function* pages<T>(list: (q: { cursor?: string | null }) => Promise<{ items: T[]; cursor?: string | null }>) {
    let cursor: string | null | undefined;
    do {
      const page = await list({ cursor });
      yield* page.items;
      cursor = page.cursor;
    } while (cursor);
  }

  const client: PresignClient<Input> = {
    upload,
    cancel,
    uploads: {
      get: (id) => call("GET", `/uploads/${path(id)}`),
      list: (q) => call("GET", `/uploads${query(q)}`),
      all: (q) => pages((page) => client.uploads.list({ ...q, ...page })),
      delete: (id) => call("DELETE", `/uploads/${path(id)}`),
    },
    downloads: (request) => call("POST", "/downloads", request),
    async downloadUrl(key, o = {}) {
      const { items } = await client.downloads({ ...o, keys: [key] });
      const item = items[0]!;
      if (item.error || !item.url) {
        throw new ApiError(403, (item.error?.code ?? "forbidden") as ErrorCode, item.error?.message ?? "refused");
      }
      return item.url;
    },
    shares: {
      // Not resent without an answer: a second POST would make a second link.
      create: (request) => call("POST", "/shares", request, { resend: false }),
      list: (q) => call("GET", `/shares${query(q)}`),
      all: (q) => pages((page) => client.shares.list({ ...q, ...page })),
      get: (handle) => call("GET", `/shares/${path(handle)}`),
      revoke: (handle) => call("DELETE", `/shares/${path(handle)}`),
    },
    request: call,
  };
  return client;
}
