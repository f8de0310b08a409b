// Every error the client throws is a PresignError; the subclass says whose refusal it was.
// `code` is the contract's (ApiError, from openapi.json's ErrorBody) or S3's (StorageError), so code
// branches on it, never on a message. No error carries a URL, a token or a signature.
import type { ErrorCode } from "./generated/error-codes.js";
import type { UploadStatus } from "./types.js";

export class PresignError extends Error {
  override name = "PresignError";
  /** The HTTP status of the answer that failed; 0 when no answer came. */
  status = 0;
}

/** The API refused: `code` is the contract's `error.code`. */
export class ApiError extends PresignError {
  override name = "ApiError";
  constructor(
    override status: number,
    readonly code: ErrorCode,
    message: string,
    /** The API's `request_id`, for its logs. */
    readonly requestId: string | null = null,
    /** Seconds the answer asked to wait (`Retry-After` of a 429 or 503), if it said. */
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }
}

/** The storage refused a PUT: `code` is S3's (`AccessDenied`, `SlowDown`, ...). */
export class StorageError extends PresignError {
  override name = "StorageError";
  constructor(
    override status: number,
    readonly code: string,
    message: string,
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }

  /** S3 refuses a presigned URL past its expiry with 403 "Request has expired": a fresh URL cures it. */
  get expired(): boolean {
    return this.status === 403 && /expired/i.test(this.message);
  }
}

/** No answer came (offline, reset, CORS): retried with backoff until the client's patience ends. */
export class NetworkError extends PresignError {
  override name = "NetworkError";
}

/** The upload was completed as something else than declared (422 `upload_mismatch`, or
 * `content_mismatch` when its first bytes contradict its type), or the
 * storage's events or the cleanup rejected it: `upload` is its record, `problems` what differed. */
export class UploadRejected extends PresignError {
  override name = "UploadRejected";
  readonly code = "upload_rejected";
  constructor(
    message: string,
    readonly upload: UploadStatus | null,
    readonly problems: string[] = upload?.problems ?? [],
  ) {
    super(message);
  }
}

/** The upload's `signal` was aborted: nothing was deleted, and `client.upload()` of the same file
 * continues it (`uploadId`, once the API has named it). Named AbortError, as fetch's is. */
export class Interrupted extends PresignError {
  override name = "AbortError";
  constructor(readonly uploadId: string | null = null) {
    super("the upload was interrupted; upload the same file again to continue it");
  }
}

// For answers without the contract's body (API Gateway's own): the code of the contract's class
// for that status. Strings, not ErrorCode: a published enum may name only the codes routes answer.
const STATUS_CODES: Record<number, string> = {
  400: "invalid_request",
  401: "invalid_token",
  403: "forbidden",
  404: "not_found",
  409: "conflict",
  410: "gone",
  413: "payload_too_large",
  415: "unsupported_media_type",
  422: "unprocessable",
  429: "rate_limited",
  503: "dependency_unavailable",
};

/** `Retry-After` in seconds: a number of seconds, or an HTTP date. */
export function retryAfter(value: string | null | undefined): number | null {
  if (!value) return null;
  const seconds = /^\s*\d+\s*$/.test(value) ? Number(value) : (Date.parse(value) - Date.now()) / 1000;
  return Number.isNaN(seconds) ? null : Math.max(0, seconds);
}

/** The API's error answer as an ApiError. API Gateway's own refusals (its throttling) are
 * `{"message": ...}` without a code: the status names one of the contract's. */
export function apiError(status: number, body: unknown, retryAfterHeader: string | null): ApiError {
  const answer = (body ?? {}) as { error?: { code?: string; message?: string; request_id?: string }; message?: string };
  const error = answer.error ?? {};
  return new ApiError(
    status,
    // As the API said it (a code newer than this client's types still reaches the caller).
    (error.code ?? STATUS_CODES[status] ?? "internal_error") as ErrorCode,
    error.message ?? answer.message ?? `HTTP ${status}`,
    error.request_id ?? null,
    retryAfter(retryAfterHeader),
  );
}

/** S3's XML error (`<Error><Code>..</Code><Message>..</Message></Error>`) as a StorageError. */
export function storageError(status: number, text: string, retryAfterHeader: string | null): StorageError {
  const pick = (tag: string) => new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(text)?.[1] ?? "";
  const code = pick("Code");
  return new StorageError(status, code || `HTTP ${status}`, pick("Message") || code || `HTTP ${status}`, retryAfter(retryAfterHeader));
}
