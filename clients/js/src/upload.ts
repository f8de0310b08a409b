// One upload, start to end: the create (with its Idempotency-Key), the bytes (one PUT, or parts in
// parallel with renewed URLs), the completion; and the same steps continued from a resume record.
import type { Call } from "./api.js";
import { ApiError, Interrupted, PresignError, StorageError, storageError, UploadRejected } from "./errors.js";
import { sha256, type Platform, type PutAnswer, type Source } from "./platform.js";
import { retrying, type RetryOptions } from "./retry.js";
import type { ResumeRecord, ResumeStore } from "./store.js";
import type {
  CompletedPart,
  CompletedUpload,
  CreateUploadResponse,
  PartUrl,
  RenewPartsResponse,
  UploadStatus,
} from "./types.js";

export type UploadEvent =
  /** The API made the upload (or named the one a replayed create had made): `parts` is its plan's
   * part count, 0 for a single PUT. */
  | { type: "created"; uploadId: string; parts: number }
  /** An upload of this file was found pending and goes on; `storedParts` are not sent again. */
  | { type: "resumed"; uploadId: string; storedParts: number[] }
  /** A part is stored. */
  | { type: "part"; uploadId: string; partNumber: number }
  /** Fresh part URLs came from `POST /uploads/{id}/parts`. */
  | { type: "renewed"; uploadId: string; partNumbers: number[] }
  /** The storage refused a part's URL as expired; it is renewed and the part sent again. */
  | { type: "expired"; uploadId: string; partNumber: number }
  /** A request is sent again after `wait` ms (a 429 or 503, or no answer: status 0). */
  | { type: "retry"; status: number; code: string; wait: number };

export interface UploadOptions {
  /** A named upload policy of the target (its own types, sizes, prefix). */
  kind?: string;
  target?: string;
  /** Stored with the object, sent back as x-amz-meta-* on download. */
  metadata?: Record<string, string>;
  /** Default: the file's name (a path's base name). */
  filename?: string;
  /** Default: the file's type, or application/octet-stream. */
  contentType?: string;
  /** Seconds the upload URLs stay valid (the target's default otherwise). */
  expiresIn?: number;
  /** true: in parts whatever the size; false: one PUT; default: as the server decides by size. */
  multipart?: boolean;
  /** Send each part's SHA-256, which the storage verifies (multipart, on targets whose storage
   * checks checksums; WebCrypto, so a secure context in a browser). */
  checksums?: boolean;
  /** Parts sent at once (default 4). */
  concurrency?: number;
  /** Bytes sent so far and the total; never goes back, even when a part is sent again. */
  onProgress?: (sent: number, total: number) => void;
  /** Aborting it interrupts the upload: the resume record is kept and nothing is deleted. */
  signal?: AbortSignal;
  onEvent?: (event: UploadEvent) => void;
  /** Continue this pending upload (from `client.uploads.list()`, another device) when this
   * browser or machine has no resume record of it: the file must be the one it was made for. */
  uploadId?: string;
}

/** The completion body holds every part's ETag: past this many parts, complete without a list (the
 * server lists the parts): 1,000 parts are ~65 KB, within the API's default 256 KiB body limit. */
const LISTED_PARTS = 1000;

/** A resumed upload that cannot go on (aborted, expired, deleted, its URL gone): start anew. */
export class Stale extends Error {}

/** An upload a DELETE ended before this client could finish it. */
export function deleted(error: ApiError): boolean {
  return error.status === 410 && (error.code === "upload_aborted" || error.code === "upload_deleted");
}

/** Bytes sent of the whole file, from the parts stored and the bytes of those in flight; it only
 * ever reports a larger number, so a part sent again does not make the bar jump back. */
class Progress {
  private reported = -1;
  private inFlight = new Map<number, number>();
  constructor(
    private total: number,
    private report: (sent: number, total: number) => void = () => {},
    public stored = 0,
  ) {}
  sending(part: number, bytes: number) {
    this.inFlight.set(part, bytes);
    this.emit();
  }
  done(part: number, size: number) {
    this.inFlight.delete(part);
    this.stored += size;
    this.emit();
  }
  emit() {
    let sent = this.stored;
    for (const bytes of this.inFlight.values()) sent += bytes;
    sent = Math.min(sent, this.total);
    if (sent > this.reported) this.report((this.reported = sent), this.total);
  }
}

export interface TransferContext {
  call: Call;
  platform: Platform<never>;
  store: ResumeStore;
  storeKey: string;
  source: Source;
  record: ResumeRecord;
  /** Whether the record was found in the store (an upload begun before), not made now. */
  resumed: boolean;
  /** Part URLs known in this page or process, by upload id (memory only, never stored). */
  urls: Map<string, Map<number, PartUrl>>;
  signal: AbortSignal;
  patience: number;
  options: UploadOptions;
  emit: (event: UploadEvent) => void;
}

export class Transfer {
  private saving: Promise<void> = Promise.resolve();
  private progress: Progress;
  constructor(private t: TransferContext) {
    this.progress = new Progress(t.source.size, t.options.onProgress);
  }

  private get id(): string {
    return this.t.record.upload_id!;
  }

  /** Writes the record after the writes before it (they never overtake one another; one that
   * failed does not stop the next). */
  save(): Promise<void> {
    const record = structuredClone(this.t.record);
    this.saving = this.saving.catch(() => {}).then(() => this.t.store.set(this.t.storeKey, record));
    return this.saving;
  }

  settled(): Promise<void> {
    return this.saving.catch(() => {});
  }

  private retry(): RetryOptions {
    return {
      patience: this.t.patience,
      signal: this.t.signal,
      onRetry: (error, wait) =>
        this.t.emit({ type: "retry", status: error.status, code: (error as ApiError).code ?? "network", wait }),
    };
  }

  private async api<T>(method: string, path: string, body?: unknown, key?: string): Promise<T> {
    return this.t.call<T>(method, path, body, { key, signal: this.t.signal, onRetry: this.retry().onRetry });
  }

  async run(): Promise<CompletedUpload> {
    const { record } = this.t;
    const stored = new Map<number, CompletedPart>();
    let plan: { part_size: number; part_count: number; part_checksums: boolean } | null | undefined;
    let grant: CreateUploadResponse | undefined;
    if (record.upload_id) {
      // Resuming: the API (and through it the storage) is the truth about what is stored.
      const status = await this.stale(this.api<UploadStatus>("GET", `/uploads/${this.id}`));
      if (status.status === "complete") return this.finish(status as unknown as CompletedUpload);
      if (status.status === "rejected") throw await this.rejected(status);
      if (status.status !== "pending") throw new Stale();
      if (status.size !== this.t.source.size) {
        throw new PresignError(`this file (${this.t.source.size} bytes) is not the one upload ${this.id} is for (${status.size} bytes)`);
      }
      plan = status.multipart;
      const checksums = new Map(record.parts.map((p) => [p.part_number, p.checksum_sha256]));
      for (const part of status.multipart?.parts ?? []) {
        stored.set(part.part_number, {
          part_number: part.part_number,
          etag: part.etag,
          checksum_sha256: checksums.get(part.part_number) ?? null,
        });
      }
      this.t.emit({ type: "resumed", uploadId: this.id, storedParts: [...stored.keys()] });
    }
    if (!plan) {
      // A new upload, or a single PUT resumed: its URL comes back only from the create, replayed
      // with the same key and body (the same upload, the same URL, valid until the same moment).
      grant = await (this.t.resumed ? this.stale(this.create()) : this.refusable(this.create()));
      if (!record.upload_id) {
        record.upload_id = grant.upload_id;
        await this.save().catch(() => {}); // a record is for resuming: the upload goes on without one
        this.t.emit({ type: "created", uploadId: grant.upload_id, parts: grant.multipart?.part_count ?? 0 });
      }
      plan = grant.multipart;
    }
    let body = {};
    if (plan) {
      const parts = await this.sendParts(plan, stored, grant?.multipart?.parts ?? []);
      const listed = parts.every((p) => p.etag) && (plan.part_count <= LISTED_PARTS || plan.part_checksums);
      body = listed ? { parts } : {};
    } else {
      await this.sendSingle(grant!);
    }
    return this.finish(await this.complete(body));
  }

  private create(): Promise<CreateUploadResponse> {
    const { request, idempotency_key } = this.t.record;
    return this.api<CreateUploadResponse>("POST", "/uploads", request, idempotency_key);
  }

  /** A first create the API refused (415, 413, 422, ...) made nothing: its record goes too. A
   * create that got no answer keeps it, since the upload may exist: its replay will tell. */
  private async refusable<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (error) {
      if (error instanceof ApiError) await this.t.store.delete(this.t.storeKey).catch(() => {});
      throw error;
    }
  }

  /** A resumed upload the API says is gone (404, 410) or no longer pending (409) is stale, and a
   * new one replaces it; except one a DELETE ended (410 `upload_aborted`/`upload_deleted`, from
   * another tab or device): someone chose to stop it, so it is never silently made again. Its
   * record is forgotten and the error thrown; uploading the file once more starts afresh. */
  private async stale<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (error) {
      if (error instanceof ApiError && deleted(error)) {
        await this.t.store.delete(this.t.storeKey).catch(() => {});
        throw error;
      }
      if (error instanceof ApiError && [404, 409, 410].includes(error.status)) throw new Stale(error.message);
      throw error;
    }
  }

  /** The upload is over (complete or rejected): its record and its URLs are forgotten. */
  private async forget(): Promise<void> {
    this.t.urls.delete(this.id);
    await this.settled();
    await this.t.store.delete(this.t.storeKey).catch(() => {}); // a stale record only costs a GET later
  }

  private async finish(done: CompletedUpload): Promise<CompletedUpload> {
    await this.forget();
    const { upload_id, key, size, content_type, etag, status } = done;
    return { upload_id, key, size, content_type, etag, status };
  }

  private async rejected(status: UploadStatus | null, message?: string): Promise<UploadRejected> {
    await this.forget().catch(() => {});
    return new UploadRejected(message ?? `the upload was rejected: ${status?.problems?.join("; ") ?? ""}`, status);
  }

  /** POST /complete; a rejection (now or earlier, by the storage's events or the cleanup) becomes
   * UploadRejected, and an upload completed before answers its record. */
  private async complete(body: object): Promise<CompletedUpload> {
    try {
      return await this.api<CompletedUpload>("POST", `/uploads/${this.id}/complete`, body);
    } catch (error) {
      if (!(error instanceof ApiError) || !["upload_mismatch", "content_mismatch", "upload_not_pending"].includes(error.code)) throw error;
      const status = await this.api<UploadStatus>("GET", `/uploads/${this.id}`).catch(() => null);
      if (status?.status === "complete") return status as unknown as CompletedUpload;
      if (error.code === "upload_mismatch" || error.code === "content_mismatch" || status?.status === "rejected") throw await this.rejected(status, error.message);
      throw error;
    }
  }

  /** One PUT to the storage, retried on 429/503/5xx and on no answer; a refusal is a StorageError. */
  private put(
    part: PartUrl | CreateUploadResponse,
    start: number,
    size: number,
    number: number,
    signal = this.t.signal,
  ): Promise<PutAnswer> {
    const { source, platform } = this.t;
    return retrying(async () => {
      this.progress.sending(number, 0);
      const answer = await platform.put(
        part.url,
        part.headers,
        source.slice(start, start + size),
        (sent) => this.progress.sending(number, Math.min(sent, size)),
        signal,
      );
      if (answer.status >= 200 && answer.status < 300) return answer;
      throw storageError(answer.status, answer.text, answer.retryAfter);
    }, { ...this.retry(), signal });
  }

  private async sendSingle(grant: CreateUploadResponse): Promise<void> {
    try {
      await this.put(grant, 0, this.t.source.size, 0);
    } catch (error) {
      // Its URL can only be renewed by replaying the create, which answers the same (expired) URL:
      // a new upload it is.
      if (error instanceof StorageError && error.expired) throw new Stale(error.message);
      throw error;
    }
    this.progress.done(0, this.t.source.size);
  }

  private async sendParts(
    plan: { part_size: number; part_count: number; part_checksums: boolean },
    stored: Map<number, CompletedPart>,
    first: PartUrl[],
  ): Promise<CompletedPart[]> {
    const { part_size, part_count, part_checksums } = plan;
    const { source, record, signal, options } = this.t;
    const id = this.id;
    const urls = this.t.urls.get(id) ?? new Map<number, PartUrl>();
    this.t.urls.set(id, urls);
    for (const part of first) urls.set(part.part_number, part);
    const sizeOf = (n: number) => Math.min(part_size, source.size - (n - 1) * part_size);
    const missing: number[] = [];
    for (let n = 1; n <= part_count; n++) {
      if (stored.has(n)) this.progress.stored += sizeOf(n);
      else missing.push(n);
    }
    this.progress.emit();

    // Renewals in flight, by part number, so parallel parts share one POST /parts per batch.
    const renewing = new Map<number, Promise<void>>();
    const checksum = (n: number) => source.read((n - 1) * part_size, (n - 1) * part_size + sizeOf(n)).then(sha256);
    const renew = (from: number): Promise<void> => {
      // This part and the next missing ones without a URL: up to 100 a call (one at a time with
      // checksums, each of which reads its part into memory).
      const numbers = missing
        .filter((n) => n >= from && !urls.has(n) && !renewing.has(n) && !stored.has(n))
        .slice(0, part_checksums ? 1 : 100);
      const done = (async () => {
        const body: { part_numbers: number[]; checksums_sha256?: string[] } = { part_numbers: numbers };
        if (part_checksums) body.checksums_sha256 = await Promise.all(numbers.map(checksum));
        const answer = await this.api<RenewPartsResponse>("POST", `/uploads/${id}/parts`, body);
        for (const part of answer.parts) urls.set(part.part_number, part);
        this.t.emit({ type: "renewed", uploadId: id, partNumbers: numbers });
      })();
      for (const n of numbers) renewing.set(n, done);
      return done.finally(() => numbers.forEach((n) => renewing.delete(n)));
    };
    const urlFor = async (n: number): Promise<PartUrl> => {
      if (!urls.has(n)) await (renewing.get(n) ?? renew(n));
      const part = urls.get(n);
      if (!part) throw new ApiError(422, "unknown_part", `no URL was given for part ${n}`);
      return part;
    };

    // The first failure of a part stops the others; an aborted signal stops them all (a part
    // already stored stays stored).
    const inner = new AbortController();
    const stop = () => inner.abort();
    signal.addEventListener("abort", stop, { once: true });

    const sendPart = async (n: number): Promise<CompletedPart> => {
      for (let refusals = 0; ; refusals++) {
        const part = await urlFor(n);
        try {
          const answer = await this.put(part, (n - 1) * part_size, part.size, n, inner.signal);
          return { part_number: n, etag: answer.etag ?? "", checksum_sha256: part.headers["x-amz-checksum-sha256"] ?? null };
        } catch (error) {
          // A 403 is mostly an expired URL ("Request has expired"): renew it and send the part
          // again; once for another 403, a few times for an expired one (a slow link, short URLs).
          if (!(error instanceof StorageError) || error.status !== 403 || refusals >= (error.expired ? 3 : 1)) throw error;
          if (error.expired) {
            this.t.emit({ type: "expired", uploadId: id, partNumber: n });
            urls.clear(); // the URLs signed with this one have expired too: renew on demand
          } else urls.delete(n);
        }
      }
    };

    // Workers take the missing parts in order, each checking before its next one that nothing
    // stopped them (an abort from an onEvent callback stops them before another part starts).
    let failure: unknown;
    let next = 0;
    const worker = async () => {
      while (next < missing.length && !inner.signal.aborted) {
        const n = missing[next++]!;
        const part = await sendPart(n);
        stored.set(n, part);
        this.progress.done(n, sizeOf(n));
        record.parts = [...stored.values()];
        void this.save().catch(() => {});
        this.t.emit({ type: "part", uploadId: id, partNumber: n });
      }
    };
    const concurrency = Math.max(1, Math.min(options.concurrency ?? 4, missing.length));
    await Promise.all(
      Array.from({ length: concurrency }, () =>
        worker().catch((error: unknown) => {
          failure ??= error;
          inner.abort();
        }),
      ),
    );
    signal.removeEventListener("abort", stop);
    if (signal.aborted) throw new Interrupted(id);
    if (failure) throw failure;
    if (inner.signal.aborted) throw new Interrupted(id);
    // With part checksums the completion names each part's: a part stored by a run whose record
    // missed it (its answer was lost) has its checksum computed again from the file.
    for (const part of part_checksums ? stored.values() : []) part.checksum_sha256 ??= await checksum(part.part_number);
    return [...stored.values()].sort((a, b) => a.part_number - b.part_number);
  }
}
