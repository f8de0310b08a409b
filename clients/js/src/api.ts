// One function for every call to the API: the token, the Idempotency-Key, the error shape, and the
// retries (429 / 503 after Retry-After, no answer with backoff) live here and nowhere else.
import { apiError, Interrupted, NetworkError } from "./errors.js";
import { retrying, type RetryOptions } from "./retry.js";

export interface CallOptions {
  /** `Idempotency-Key`: the same key makes a resent request answer the same result. */
  key?: string;
  signal?: AbortSignal;
  /** false for a request that must not be resent without an answer (it would do the work twice). */
  resend?: boolean;
  onRetry?: RetryOptions["onRetry"];
}

export type Call = <T>(method: string, path: string, body?: unknown, options?: CallOptions) => Promise<T>;

export interface ApiSettings {
  baseUrl: string;
  token?: string;
  getToken?: () => string | Promise<string>;
  patience: number;
  fetch?: typeof fetch;
  onRetry?: RetryOptions["onRetry"];
}

export function makeCall(settings: ApiSettings): Call {
  const base = settings.baseUrl.replace(/\/+$/, "");
  return async <T>(method: string, path: string, body?: unknown, options: CallOptions = {}): Promise<T> => {
    let refreshed = false;
    const once = async (): Promise<T> => {
      const headers: Record<string, string> = { accept: "application/json" };
      const token = settings.token ?? (await settings.getToken?.());
      if (token) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers["content-type"] = "application/json";
      if (options.key) headers["idempotency-key"] = options.key;
      let text: string;
      let response: Response;
      try {
        response = await (settings.fetch ?? fetch)(base + path, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: options.signal,
          credentials: "omit", // the token is the only credential; no cookie goes along
          referrerPolicy: "no-referrer",
        });
        text = await response.text();
      } catch (error) {
        if (options.signal?.aborted) throw new Interrupted();
        throw new NetworkError(`${method} ${path}: no answer from the API (${(error as Error).message})`);
      }
      let answer: unknown = null;
      try {
        answer = text ? JSON.parse(text) : null;
      } catch {
        answer = { message: text.slice(0, 200) };
      }
      if (response.ok) return answer as T;
      // A token that expired mid-upload: getToken() may have a fresh one, once.
      if (response.status === 401 && settings.getToken && !refreshed) {
        refreshed = true;
        return once();
      }
      throw apiError(response.status, answer, response.headers.get("retry-after"));
    };
    return retrying(once, {
      patience: settings.patience,
      signal: options.signal,
      resend: options.resend,
      onRetry: options.onRetry ?? settings.onRetry,
    });
  };
}

/** The `sub` of a JWT (unverified: it only names whose resume records these are), or "". */
export function tokenSubject(token: string | undefined): string {
  try {
    const payload = token!.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/");
    return String(JSON.parse(atob(payload)).sub ?? "");
  } catch {
    return "";
  }
}
