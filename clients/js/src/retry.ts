// Waiting between attempts, bounded by time rather than by a count: the API's Idempotency-Key claim
// of a request that failed mid-way answers 409 idempotency_in_progress for up to 30 s
// (docs/lifecycle.md), so a few quick attempts would give up inside that window.
import { ApiError, Interrupted, NetworkError, StorageError } from "./errors.js";

/** Resolves after `ms`, or rejects with Interrupted as soon as `signal` is aborted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Interrupted());
    const stop = () => {
      clearTimeout(timer);
      reject(new Interrupted());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", stop);
      resolve();
    }, ms);
    signal?.addEventListener("abort", stop, { once: true });
  });
}

/** Full jitter: a random wait up to min(30 s, 0.5 s * 2^attempt), so many clients spread out. */
export const backoff = (attempt: number): number => Math.random() * Math.min(30_000, 500 * 2 ** attempt);

/**
 * How long to wait before the next attempt after `error`, or null to give up at once.
 * - 429 with Retry-After: exactly that (the same request is admitted then) plus up to 1 s of jitter;
 * - 503, a 429 without Retry-After (API Gateway's throttling), 409 idempotency_in_progress and the
 *   storage's 5xx: Retry-After if any, plus a growing backoff;
 * - no answer: a growing backoff (an API call is resent with the same Idempotency-Key).
 */
export function retryWait(error: unknown, attempt: number): number | null {
  if (error instanceof NetworkError) return backoff(attempt);
  if (!(error instanceof ApiError || error instanceof StorageError)) return null;
  const { status, retryAfter } = error;
  const busy = status === 429 || status === 503 || (error as ApiError).code === "idempotency_in_progress";
  if (!busy && !(error instanceof StorageError && status >= 500)) return null;
  const after = (retryAfter ?? 0) * 1000;
  return status === 429 && retryAfter !== null ? after + Math.random() * 1000 : after + backoff(attempt);
}

export interface RetryOptions {
  /** How long (ms) to keep trying after the first failure. */
  patience: number;
  signal?: AbortSignal;
  /** Whether a request that got no answer may be sent again (false for a non-idempotent one). */
  resend?: boolean;
  onRetry?: (error: ApiError | StorageError | NetworkError, wait: number) => void;
}

/** Runs `work` until it succeeds, an error is not worth retrying, or `patience` is spent. */
export async function retrying<T>(work: () => Promise<T>, options: RetryOptions): Promise<T> {
  const deadline = Date.now() + options.patience;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (options.signal?.aborted) throw new Interrupted();
      const wait = error instanceof NetworkError && options.resend === false ? null : retryWait(error, attempt);
      if (wait === null || Date.now() + wait > deadline) throw error;
      options.onRetry?.(error as NetworkError, wait);
      await sleep(wait, options.signal);
    }
  }
}
