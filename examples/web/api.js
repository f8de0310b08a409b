// What the demo app does beside @presign/client (vendor/presign-client.js, the bundle `make examples`
// copies from clients/js/dist): a share link's public route, a POST form upload (the client sends
// PUTs; a form is for pages without script), and the words for an error.
//
// Nothing here logs a URL or a token: presigned URLs are credentials until they expire.
import {ApiError, StorageError, UploadRejected} from "./vendor/presign-client.js";

export * from "./vendor/presign-client.js";

// 410 for an upload a DELETE ended (from another tab or device): its record stays in the list, as
// aborted (deleted before it completed) or deleted; the client does not make it again.
export function ended(error) {
  return error instanceof ApiError && error.status === 410 && ["upload_aborted", "upload_deleted"].includes(error.code);
}

// What a person reads: the API's own message; for a 429 or 503 that ran out of retries, when to
// try again (Retry-After, which the API's CORS rule exposes to scripts).
export function describe(error) {
  if (error instanceof ApiError && ended(error)) {
    const why = error.code === "upload_aborted"
      ? "This upload was deleted before it completed: pick the file again for a new upload."
      : "This upload was deleted.";
    return `${why} (${error.status} ${error.code})`;
  }
  if (error instanceof ApiError) {
    let text = error.message;
    if (error.retryAfter !== null) {
      const at = new Date(Date.now() + error.retryAfter * 1000).toLocaleTimeString();
      text += ` Retry in ${Math.ceil(error.retryAfter)} s (at ${at}).`;
    }
    return `${text} (${error.status} ${error.code})`;
  }
  if (error instanceof StorageError) {
    return `The storage refused it (${error.status} ${error.code}): ${error.message}`;
  }
  if (error instanceof UploadRejected) {
    return `The upload was rejected: ${error.problems.join("; ") || error.message}`;
  }
  return String(error && error.message ? error.message : error);
}

// A share link is public: no token. Accept: application/json makes it answer {url} instead of a 302
// (or a password form), so the app can ask for the password itself and POST it (never in the URL).
export async function openShare(link, password) {
  let response;
  try {
    response = await fetch(link, {
      method: password === undefined ? "GET" : "POST",
      headers: password === undefined ? {Accept: "application/json"}
        : {Accept: "application/json", "Content-Type": "application/json"},
      body: password === undefined ? undefined : JSON.stringify({password}),
      referrerPolicy: "no-referrer", // a link's path is its secret
      credentials: "omit",
    });
  } catch {
    throw new ApiError(0, "network", "Cannot reach the link's API.");
  }
  const body = await response.json().catch(() => null);
  if (response.ok) return body;
  const error = (body && body.error) || {};
  throw new ApiError(response.status, error.code || `http_${response.status}`, error.message || `HTTP ${response.status}`,
    error.request_id || null);
}

// A POST form: POST /uploads with "method": "POST" through the client, then every field of the
// grant and the file last, in a field named "file" (XHR, for its upload progress), then /complete.
export async function uploadForm(client, file, onProgress) {
  const grant = await client.request("POST", "/uploads", {
    filename: file.name, content_type: file.type || "application/octet-stream", size: file.size, method: "POST",
  });
  const form = new FormData();
  for (const [name, value] of Object.entries(grant.fields)) form.append(name, value);
  form.append("file", file);
  await new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", grant.url);
    xhr.upload.onprogress = event => onProgress(Math.min(event.loaded, file.size), file.size);
    xhr.onload = () => xhr.status < 300 ? resolve() : reject(new StorageError(xhr.status, `HTTP ${xhr.status}`, xhr.responseText.slice(0, 200)));
    xhr.onerror = () => reject(new StorageError(0, "network", "no answer from the storage (network, or its CORS rule)"));
    xhr.send(form);
  });
  return client.request("POST", `/uploads/${encodeURIComponent(grant.upload_id)}/complete`, {});
}
