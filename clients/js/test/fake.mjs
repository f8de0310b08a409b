// An in-memory presign API and storage for the client's unit tests: enough of the contract (create
// with Idempotency-Key, status with stored parts, /parts, /complete, DELETE) to check what the client
// decides, fast and without servers. The real servers judge it in tests/e2e/test_js_client*.py.
import { createClientWith, Interrupted, memoryStore } from "../dist/index.js";

const json = (status, body, headers = {}) =>
  new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });

export class FakeService {
  constructor({ partSize = 4, threshold = 8 } = {}) {
    this.partSize = partSize;
    this.threshold = threshold;
    this.uploads = new Map(); // id -> {request, status, parts: Map<n, etag>, single: bytes|null}
    this.keys = new Map(); // idempotency key -> id
    this.calls = []; // "METHOD /path"
    this.puts = []; // [id, part number (0: single)] of every PUT that reached the storage
    this.answers = []; // queued answers for the next API calls: (method, path) => Response | undefined
    this.refusals = []; // queued storage refusals: (id, n) => {status, text} | undefined
    this.inFlight = 0;
    this.maxInFlight = 0;
    this.store = memoryStore();
  }

  client(options = {}) {
    return createClientWith(
      { open: async (blob) => sourceOf(blob), put: (...args) => this.put(...args), store: this.store },
      { baseUrl: "https://api.test", token: tokenFor("alice"), fetch: (url, init) => this.fetch(url, init), patience: 5_000, ...options },
    );
  }

  async fetch(url, init) {
    const path = new URL(url).pathname + new URL(url).search;
    this.calls.push(`${init.method} ${path}`);
    for (const [i, answer] of this.answers.entries()) {
      const response = answer(init.method, path);
      if (response) {
        this.answers.splice(i, 1);
        if (response instanceof Error) throw response;
        return response;
      }
    }
    const body = init.body ? JSON.parse(init.body) : undefined;
    const id = decodeURIComponent(path.split("/")[2] ?? "");
    const upload = this.uploads.get(id);
    if (init.method === "POST" && path === "/uploads") return this.create(body, init.headers["idempotency-key"]);
    if (!upload && path.startsWith("/uploads/")) return json(404, { error: { code: "not_found", message: "no such upload" } });
    if (init.method === "GET" && path.startsWith("/uploads/") && ["aborted", "deleted"].includes(upload.status)) {
      // as the API answers for an upload a DELETE ended (it stays in the list, as it is)
      return json(410, { error: { code: `upload_${upload.status}`, message: "this upload was deleted" } });
    }
    if (init.method === "GET" && path.startsWith("/uploads/")) return json(200, this.status(id));
    if (init.method === "DELETE") {
      upload.status = "aborted";
      return new Response(null, { status: 204 });
    }
    if (path.endsWith("/parts")) return json(200, { upload_id: id, parts: body.part_numbers.map((n) => this.partUrl(id, n)), expires_at: "", expires_in: 60 });
    if (path.endsWith("/complete")) return this.complete(id, body);
    return json(400, { error: { code: "invalid_request", message: path } });
  }

  create(request, key) {
    const known = key && this.keys.get(key);
    if (known) {
      const upload = this.uploads.get(known);
      if (upload.status !== "pending") return json(409, { error: { code: "upload_not_pending", message: "done" } });
      return json(201, this.grant(known));
    }
    const id = `up${this.uploads.size + 1}`;
    const multipart = request.multipart ?? request.size > this.threshold;
    this.uploads.set(id, { request, status: "pending", parts: new Map(), single: null, multipart });
    if (key) this.keys.set(key, id);
    return json(201, this.grant(id));
  }

  plan(id) {
    const { request } = this.uploads.get(id);
    return { part_size: this.partSize, part_count: Math.max(1, Math.ceil(request.size / this.partSize)), part_checksums: !!request.part_checksums };
  }

  partUrl(id, n) {
    const { part_size, part_count } = this.plan(id);
    const size = n < part_count ? part_size : this.uploads.get(id).request.size - (part_count - 1) * part_size;
    return { part_number: n, url: `https://storage.test/${id}?partNumber=${n}`, size, headers: { "Content-Length": String(size) } };
  }

  grant(id) {
    const upload = this.uploads.get(id);
    const base = { upload_id: id, key: `users/alice/${id}`, target: "main", method: "PUT", headers: {}, fields: {}, expires_at: "", expires_in: 60 };
    if (!upload.multipart) return { ...base, url: `https://storage.test/${id}`, headers: { "Content-Length": String(upload.request.size) } };
    const plan = this.plan(id);
    const first = Array.from({ length: Math.min(plan.part_count, 2) }, (_, i) => this.partUrl(id, i + 1));
    return { ...base, url: "", multipart: { ...plan, parts: first, expires_at: "" } };
  }

  status(id) {
    const upload = this.uploads.get(id);
    const parts = [...upload.parts].map(([part_number, etag]) => ({ part_number, etag, size: this.partUrl(id, part_number).size }));
    return {
      upload_id: id,
      status: upload.status,
      key: `users/alice/${id}`,
      size: upload.request.size,
      content_type: upload.request.content_type,
      etag: upload.status === "complete" ? '"done"' : null,
      problems: upload.problems ?? null,
      multipart: upload.multipart ? { ...this.plan(id), parts } : null,
    };
  }

  complete(id, body) {
    const upload = this.uploads.get(id);
    if (upload.status === "rejected") return json(409, { error: { code: "upload_not_pending", message: "rejected" } });
    if (upload.multipart) {
      const { part_count } = this.plan(id);
      if (upload.parts.size !== part_count) return json(409, { error: { code: "parts_missing", message: "parts missing" } });
      for (const part of body.parts ?? []) {
        if (upload.parts.get(part.part_number) !== part.etag) return json(422, { error: { code: "parts_mismatch", message: `part ${part.part_number}` } });
      }
    } else if (!upload.single) return json(409, { error: { code: "not_uploaded", message: "nothing stored" } });
    upload.status = "complete";
    return json(200, { upload_id: id, key: `users/alice/${id}`, size: upload.request.size, content_type: upload.request.content_type, etag: '"done"', status: "complete" });
  }

  async put(url, headers, body, onSent, signal) {
    const { pathname, searchParams } = new URL(url);
    const id = pathname.slice(1);
    const n = Number(searchParams.get("partNumber") ?? 0);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const bytes = new Uint8Array(await body.arrayBuffer());
      onSent(Math.floor(bytes.length / 2));
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (signal.aborted) throw new Interrupted();
      for (const [i, refusal] of this.refusals.entries()) {
        const answer = refusal(id, n);
        if (answer) {
          this.refusals.splice(i, 1);
          this.puts.push([id, n, answer.status]);
          return { status: answer.status, etag: null, text: answer.text ?? "", retryAfter: answer.retryAfter ?? null };
        }
      }
      onSent(bytes.length);
      this.puts.push([id, n, 200]);
      const upload = this.uploads.get(id);
      const etag = `"${id}-${n}-${bytes.length}"`;
      if (n) upload.parts.set(n, etag);
      else upload.single = bytes;
      return { status: 200, etag, text: "", retryAfter: null };
    } finally {
      this.inFlight--;
    }
  }
}

export function sourceOf(blob) {
  return {
    name: blob.name ?? "blob",
    size: blob.size,
    type: blob.type,
    slice: (start, end) => blob.slice(start, end),
    read: async (start, end) => new Uint8Array(await blob.slice(start, end).arrayBuffer()),
  };
}

export function tokenFor(sub) {
  const part = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "HS256" })}.${part({ sub })}.signature`;
}

export const fileOf = (size, name = "f.bin") => new File([new Uint8Array(size).map((_, i) => i % 251)], name);
