// Uppy's @uppy/aws-s3 uploading through the presign API: copy this file, import presignUppy, add a UI.
// The server decides everything (key, size, type, part plan); Uppy sends the bytes and S3 requests.
import Uppy from "@uppy/core";
import AwsS3 from "@uppy/aws-s3";

const noLength = ({ "Content-Length": _, ...headers } = {}) => headers; // browsers set it themselves

// api: the API's base URL (or a function answering it); token: a function answering the bearer token.
export function presignUppy({ api, token, ...options }) {
  const call = async (method, path, body) => {
    const headers = { authorization: `Bearer ${token()}`, ...(body && { "content-type": "application/json" }) };
    const answer = await fetch((typeof api === "function" ? api() : api) + path, { method, headers, body: body && JSON.stringify(body) });
    const json = answer.status === 204 ? null : await answer.json();
    if (answer.ok) return json;
    const wait = answer.headers.get("Retry-After"); // 429 and 503 say when to try again
    throw new Error(json.error.message + (wait ? ` (retry in ${wait} s)` : ""));
  };
  const grants = new Map(); // Uppy file id -> our POST /uploads answer
  const partSizes = new Map(); // file size -> the server's part size (getChunkSize sees the size only)
  const eachFile = (step) => (ids) =>
    Promise.all(ids.map((id) => step(uppy.getFile(id)).catch((err) => uppy.emit("upload-error", uppy.getFile(id), err))));

  const uppy = new Uppy(options);
  // 1. Before Uppy uploads: one POST /uploads per file. A multipart grant becomes Uppy's "resume"
  //    state, so Uppy never sends a CreateMultipartUpload: the server started that upload already.
  uppy.addPreProcessor(eachFile(async (file) => {
    if (grants.has(file.id)) return; // a retry goes on with the same upload
    const type = file.type || "application/octet-stream";
    const grant = await call("POST", "/uploads", { filename: file.name, content_type: type, size: file.size });
    grants.set(file.id, grant);
    uppy.setFileMeta(file.id, { upload_id: grant.upload_id });
    if (!grant.multipart) return;
    partSizes.set(file.size, grant.multipart.part_size);
    uppy.setFileState(file.id, { s3Multipart: { uploadId: grant.upload_id, key: grant.key } });
  }));
  // 2. Uppy asks us to sign each S3 request; our upload id stands in for S3's (the URLs carry S3's).
  uppy.use(AwsS3, {
    shouldUseMultipart: false, // the server's plan decides (step 1), not a size threshold here
    getChunkSize: ({ size }) => partSizes.get(size),
    generateObjectKey: (file) => file.id, // only for finding the grant: the key stays the server's
    async signRequest({ method, key, uploadId, partNumber }) {
      if (!uploadId) {
        const { url, key: ours, headers } = grants.get(key); // a single PUT, signed by POST /uploads
        return { url, key: ours, headers: noLength(headers) };
      }
      if (partNumber) {
        const { parts: [part] } = await call("POST", `/uploads/${uploadId}/parts`, { part_numbers: [partNumber] });
        return { url: part.url, headers: noLength(part.headers) };
      }
      const operation = { GET: "list_parts", POST: "complete_multipart_upload", DELETE: "abort_multipart_upload" }[method];
      return call("POST", `/uploads/${uploadId}/sign`, { operation });
    },
  });
  // 3. After the bytes: /complete checks what the storage holds (size, type) against the upload.
  uppy.addPostProcessor(eachFile(async (file) => {
    if (file.error || !file.progress.uploadComplete) return;
    const done = await call("POST", `/uploads/${grants.get(file.id).upload_id}/complete`);
    uppy.setFileState(file.id, { presign: done });
  }));
  // A file removed before it is complete: DELETE aborts the upload (and a multipart upload's parts).
  uppy.on("file-removed", (file) => {
    if (grants.has(file.id) && !file.presign) call("DELETE", `/uploads/${grants.get(file.id).upload_id}`).catch(() => {});
  });
  return uppy;
}
