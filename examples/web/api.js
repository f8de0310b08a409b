// The presign API client: every call to the API goes through request(), so errors are handled in
// one place. A refusal becomes an ApiError carrying the contract's {"error": {code, message,
// request_id}}; a 429 or 503 also carries when to retry, from Retry-After (which the API's CORS
// rule exposes to scripts).
//
// Nothing here logs a URL or a token: presigned URLs are credentials until they expire.

export class ApiError extends Error {
  constructor({status, code, message, requestId = null, retryAfter = null}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.requestId = requestId;
    this.retryAfter = retryAfter; // seconds, for a 429 or 503 that said so
  }

  // 410 for an upload a DELETE ended (from another tab or device): its record stays in the list,
  // as aborted (deleted before it completed) or deleted; the upload itself cannot go on.
  get ended() {
    return this.status === 410 && ["upload_aborted", "upload_deleted"].includes(this.code);
  }

  // What a person reads: the API's own message, and for 429/503 when to try again.
  describe() {
    if (this.ended) {
      return this.code === "upload_aborted"
        ? "This upload was deleted before it completed: pick the file again for a new upload."
        : "This upload was deleted.";
    }
    let text = this.message;
    if (this.retryAfter !== null) {
      const at = new Date(Date.now() + this.retryAfter * 1000).toLocaleTimeString();
      text += ` Retry in ${this.retryAfter} s (at ${at}).`;
    }
    return text;
  }
}

// Retry-After is either seconds or an HTTP date.
export function retryAfterSeconds(value) {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const when = Date.parse(value);
  return Number.isNaN(when) ? null : Math.max(0, Math.ceil((when - Date.now()) / 1000));
}

export class Api {
  constructor(base, token) {
    this.base = base.replace(/\/+$/, "");
    this.token = token;
  }

  async request(method, path, {json, accept = "application/json", auth = true} = {}) {
    const headers = {Accept: accept};
    if (auth) headers.Authorization = `Bearer ${this.token}`;
    if (json !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(path.startsWith("http") ? path : this.base + path, {
        method,
        headers,
        body: json === undefined ? undefined : JSON.stringify(json),
        // A link's path is its secret, and the page's own address is nobody's business.
        referrerPolicy: "no-referrer",
        credentials: "omit",
      });
    } catch {
      // fetch says nothing useful (CORS refusals and a server that is down look the same).
      throw new ApiError({status: 0, code: "network", message: `Cannot reach the API at ${this.base}.`});
    }
    const text = await response.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    if (response.ok) return body;
    const error = body && body.error;
    const retry = [429, 503].includes(response.status)
      ? retryAfterSeconds(response.headers.get("Retry-After"))
      : null;
    throw new ApiError({
      status: response.status,
      // API Gateway's own refusals (its throttling, its authorizer) are {"message": ...}.
      code: (error && error.code) || "http_" + response.status,
      message: (error && error.message) || (body && body.message) || `HTTP ${response.status}`,
      requestId: (error && error.request_id) || null,
      retryAfter: retry,
    });
  }

  get = (path, options) => this.request("GET", path, options);
  post = (path, json, options) => this.request("POST", path, {...options, json});
  delete = (path, options) => this.request("DELETE", path, options);

  // The routes the app uses, named after what they do.
  createUpload(body) { return this.post("/uploads", body); }
  complete(id, body = {}) { return this.post(`/uploads/${encodeURIComponent(id)}/complete`, body); }
  renewParts(id, partNumbers) {
    return this.post(`/uploads/${encodeURIComponent(id)}/parts`, {part_numbers: partNumbers});
  }
  upload(id) { return this.get(`/uploads/${encodeURIComponent(id)}`); }
  listUploads({status, cursor} = {}) {
    const query = new URLSearchParams({limit: "20"});
    if (status) query.set("status", status);
    if (cursor) query.set("cursor", cursor);
    return this.get(`/uploads?${query}`);
  }
  deleteUpload(id) { return this.delete(`/uploads/${encodeURIComponent(id)}`); }
  downloadUrl(key) { return this.post("/downloads", {keys: [key]}).then(answer => answer.items[0]); }
  createShare(body) { return this.post("/shares", body); }
  listShares() { return this.get("/shares?limit=50"); }
  revokeShare(handle) { return this.delete(`/shares/${encodeURIComponent(handle)}`); }

  // A share link is public: no token. Accept: application/json makes it answer {url} instead of a
  // 302 (or a password form), so the app can ask for the password itself.
  openShare(link, password) {
    return password === undefined
      ? this.request("GET", link, {auth: false})
      : this.request("POST", link, {auth: false, json: {password}});
  }
}
