// The browser's side: Blobs and Files, XMLHttpRequest for the storage PUTs (its upload progress
// counts bytes really sent; a streaming fetch upload would need HTTP/2, which storage endpoints
// often lack), IndexedDB for resume records.
import { Interrupted, NetworkError } from "./errors.js";
import type { Platform, Put, Source } from "./platform.js";
import { memoryStore, type ResumeRecord, type ResumeStore } from "./store.js";

export function blobSource(blob: Blob): Source {
  return {
    name: (blob as File).name ?? "blob",
    size: blob.size,
    type: blob.type,
    slice: (start, end) => blob.slice(start, end),
    read: async (start, end) => new Uint8Array(await blob.slice(start, end).arrayBuffer()),
  };
}

// Browsers set Content-Length themselves from the body (a script may not): the same value the
// URL signed.
const sendable = (headers: Record<string, string>) =>
  Object.entries(headers).filter(([name]) => name.toLowerCase() !== "content-length");

export const xhrPut: Put = (url, headers, body, onSent, signal) =>
  new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Interrupted());
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    for (const [name, value] of sendable(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => onSent(event.loaded);
    const abort = () => xhr.abort();
    signal.addEventListener("abort", abort, { once: true });
    const settle = (done: () => void) => () => {
      signal.removeEventListener("abort", abort);
      done();
    };
    xhr.onload = settle(() =>
      // ETag is null unless the bucket's CORS rule exposes it: the completion then goes without a list
      resolve({
        status: xhr.status,
        etag: xhr.getResponseHeader("ETag"),
        text: xhr.responseText,
        retryAfter: xhr.getResponseHeader("Retry-After"),
      }),
    );
    xhr.onerror = xhr.ontimeout = settle(() => reject(new NetworkError("no answer from the storage (network, or its CORS rule)")));
    xhr.onabort = settle(() => reject(new Interrupted()));
    xhr.send(body as Blob);
  });

/** Where there is no XMLHttpRequest (a service worker): fetch, whose progress comes at the end. */
export const fetchPut: Put = async (url, headers, body, onSent, signal) => {
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, { method: "PUT", headers: sendable(headers), body: body as Blob, signal });
    text = await response.text();
  } catch {
    throw signal.aborted ? new Interrupted() : new NetworkError("no answer from the storage");
  }
  if (response.ok) onSent((body as Blob).size);
  return { status: response.status, etag: response.headers.get("etag"), text, retryAfter: response.headers.get("retry-after") };
};

/** Resume records in IndexedDB (database `presign`, object store `uploads`). */
export function indexedDbStore(name = "presign"): ResumeStore {
  let db: Promise<IDBDatabase> | undefined;
  const open = () =>
    (db ??= new Promise((resolve, reject) => {
      const request = indexedDB.open(name, 1);
      request.onupgradeneeded = () => request.result.createObjectStore("uploads");
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    }));
  const run = async <T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest): Promise<T> => {
    const transaction = (await open()).transaction("uploads", mode);
    const request = work(transaction.objectStore("uploads"));
    return new Promise((resolve, reject) => {
      transaction.oncomplete = () => resolve(request.result as T);
      transaction.onerror = transaction.onabort = () => reject(transaction.error);
    });
  };
  return {
    get: (key) => run<ResumeRecord | undefined>("readonly", (store) => store.get(key)),
    set: (key, record) => run("readwrite", (store) => store.put(record, key)),
    delete: (key) => run("readwrite", (store) => store.delete(key)),
  };
}

export function browserPlatform(): Platform<Blob> {
  return {
    open: async (input) => blobSource(input),
    put: typeof XMLHttpRequest === "undefined" ? fetchPut : xhrPut,
    store: typeof indexedDB === "undefined" ? memoryStore() : indexedDbStore(),
  };
}
