// Talking to the storage (S3, R2, SeaweedFS, ...) directly with the URLs the API signed. XHR, not
// fetch: only XHR reports upload progress. Nothing here logs a URL.

export class StorageError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = "StorageError";
    this.status = status;
    this.code = code;
  }

  // S3 refuses an expired presigned URL with 403 AccessDenied "Request has expired": the one
  // refusal a fresh URL for the same part cures.
  get expired() {
    return this.status === 403 && /request has expired/i.test(this.message);
  }

  describe() {
    return `The storage refused it (${this.status}${this.code ? " " + this.code : ""}): ${this.message}`;
  }
}

export class Aborted extends Error {
  constructor() {
    super("stopped");
    this.name = "Aborted";
  }
}

// S3's errors are XML: <Error><Code>AccessDenied</Code><Message>Request has expired</Message>...
function storageError(status, text) {
  const doc = text ? new DOMParser().parseFromString(text, "application/xml") : null;
  const pick = name => (doc && doc.getElementsByTagName(name)[0]?.textContent) || "";
  const code = pick("Code");
  return new StorageError(status, code, pick("Message") || code || (status ? `HTTP ${status}` : "no answer (network or CORS)"));
}

// Sends `body` with `method` to a presigned `url`; resolves {status, etag} or rejects with a
// StorageError (or Aborted when `signal` fires). onProgress(loaded, total) as bytes go out.
export function send({method, url, headers = {}, body, onProgress, signal}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    for (const [name, value] of Object.entries(headers)) {
      // Browsers set Content-Length themselves (a forbidden header name), from the body: the
      // same value the URL signed.
      if (name.toLowerCase() !== "content-length") xhr.setRequestHeader(name, value);
    }
    if (onProgress) xhr.upload.onprogress = event => onProgress(event.loaded, event.total);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        // The bucket's CORS rule must expose ETag, or this is null.
        resolve({status: xhr.status, etag: xhr.getResponseHeader("ETag")});
      } else {
        reject(storageError(xhr.status, xhr.responseText));
      }
    };
    xhr.onerror = () => reject(storageError(0, ""));
    xhr.onabort = () => reject(new Aborted());
    if (signal) {
      if (signal.aborted) return reject(new Aborted());
      signal.addEventListener("abort", () => xhr.abort(), {once: true});
    }
    xhr.send(body);
  });
}

// A POST form upload: every field of the grant first, the file last, in a field named "file".
export function postForm({url, fields, file, onProgress, signal}) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append("file", file);
  return send({method: "POST", url, body: form, onProgress, signal});
}

// A multipart upload that can be paused and resumed. The plan (part size, count) is the
// server's; the client PUTs each part to its URL, keeps each ETag, renews URLs the storage says
// have expired, and resumes from the parts the storage already has (GET /uploads/{id}).
export class MultipartUpload {
  constructor({api, file, grant, onProgress, onState, stats}) {
    this.api = api;
    this.file = file;
    this.id = grant.upload_id;
    this.plan = grant.multipart;
    this.urls = new Map(grant.multipart.parts.map(part => [part.part_number, part]));
    this.etags = new Map(); // part_number -> ETag of the stored part
    this.onProgress = onProgress || (() => {});
    this.onState = onState || (() => {});
    this.stats = stats; // counters the browser test reads (window.presignDemo.stats.multipart)
    this.controller = null;
    this.pauseAfter = null; // test knob: pause by itself once this many parts are stored
    this.state = "ready";
  }

  get storedBytes() {
    let bytes = 0;
    for (const number of this.etags.keys()) bytes += this.partSize(number);
    return bytes;
  }

  partSize(number) {
    const {part_size: size} = this.plan;
    return Math.min(size, this.file.size - (number - 1) * size);
  }

  setState(state) {
    this.state = state;
    this.onState(state);
  }

  pause() {
    if (this.state !== "uploading") return;
    this.setState("pausing");
    this.controller.abort(); // the part in flight stops; it is sent again on resume
  }

  // Start or go on: the parts the storage has are asked for first (after a pause, a reload or a
  // lost connection the storage is the truth), then the missing ones are sent one by one.
  async run({resume = false} = {}) {
    this.controller = new AbortController();
    this.setState("uploading");
    try {
      if (resume) {
        const status = await this.api.upload(this.id);
        this.etags.clear();
        for (const part of status.multipart?.parts || []) this.etags.set(part.part_number, part.etag);
        this.stats.resumedWith = this.etags.size;
        this.onProgress(this.storedBytes, this.file.size);
      }
      for (let number = 1; number <= this.plan.part_count; number++) {
        if (this.etags.has(number)) continue;
        if (this.controller.signal.aborted) throw new Aborted();
        await this.sendPart(number);
        this.stats.partsStored += 1;
        if (this.pauseAfter !== null && this.etags.size >= this.pauseAfter) {
          this.pauseAfter = null;
          this.setState("paused");
          return null;
        }
      }
      if (this.controller.signal.aborted) throw new Aborted();
      this.setState("completing");
      const parts = [...this.etags].map(([part_number, etag]) => ({part_number, etag}));
      parts.sort((a, b) => a.part_number - b.part_number);
      const done = await this.api.complete(this.id, {parts});
      this.setState("complete");
      return done;
    } catch (error) {
      if (error instanceof Aborted) {
        this.setState("paused");
        return null;
      }
      this.setState("failed");
      throw error;
    }
  }

  async sendPart(number) {
    for (let attempt = 1; ; attempt++) {
      if (!this.urls.has(number)) await this.renew(number);
      const part = this.urls.get(number);
      const start = (number - 1) * this.plan.part_size;
      try {
        const stored = await send({
          method: "PUT",
          url: part.url,
          headers: part.headers,
          body: this.file.slice(start, start + part.size),
          signal: this.controller.signal,
          onProgress: loaded => this.onProgress(this.storedBytes + loaded, this.file.size),
        });
        this.etags.set(number, stored.etag);
        this.onProgress(this.storedBytes, this.file.size);
        return;
      } catch (error) {
        if (!(error instanceof StorageError) || !error.expired || attempt > 1) throw error;
        this.stats.expiredRefusals += 1;
        this.stats.refusedParts.push(number);
        // The URLs signed with this one have expired too: drop them all, renew on demand.
        this.urls.clear();
      }
    }
  }

  // POST /uploads/{id}/parts for this part and the next ones still missing (at most 100).
  async renew(number) {
    const wanted = [];
    for (let n = number; n <= this.plan.part_count && wanted.length < 100; n++) {
      if (!this.etags.has(n)) wanted.push(n);
    }
    const fresh = await this.api.renewParts(this.id, wanted);
    for (const part of fresh.parts) this.urls.set(part.part_number, part);
    this.stats.renewals += 1;
    this.stats.renewedParts += fresh.parts.length;
  }
}
