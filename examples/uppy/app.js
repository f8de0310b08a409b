// Uppy's @uppy/aws-s3 uploading through the presign API: the server decides key, size, type and parts.
// presignUppy({api, token, ...Uppy options}): api is the API's URL (or a function), token a function.
import Uppy from "@uppy/core";
import AwsS3 from "@uppy/aws-s3";
const noLength = ({ "Content-Length": _, ...headers } = {}) => headers; // browsers set it themselves
export function presignUppy({ api, token, ...options }) {
  const call = async (method, path, body) => {
    const headers = { authorization: `Bearer ${token()}`, ...(body && { "content-type": "application/json" }) };
    const url = (typeof api === "function" ? api() : api) + path;
    const answer = await fetch(url, { method, headers, body: body && JSON.stringify(body) });
    const json = answer.status === 204 ? null : await answer.json().catch(() => null);
    if (answer.ok) return json;
    const wait = answer.headers.get("Retry-After"); // 429 and 503 say when to try again
    throw new Error((json?.error?.message ?? `HTTP ${answer.status}`) + (wait ? ` (retry in ${wait} s)` : ""));
  };
  const grants = new Map(); // Uppy file id -> our POST /uploads answer
  const partSizes = new Map(); // file size -> the plan's part size (getChunkSize sees only the size)
  const eachFile = (step) => (ids) => Promise.all(ids.map((id) => uppy.getFile(id)).filter(Boolean)
    .map((file) => step(file).catch((err) => uppy.emit("upload-error", uppy.getFile(file.id), err))));
  const uppy = new Uppy(options);
  // 1. Before Uppy uploads: POST /uploads per file. A multipart grant becomes Uppy's resume state,
  //    so Uppy sends no CreateMultipartUpload: POST /uploads started the storage upload already.
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
  // 2. Uppy asks to sign each S3 request; our upload id stands in for S3's (the URLs carry S3's).
  uppy.use(AwsS3, {
    shouldUseMultipart: false, // the server's threshold decides, through step 1
    getChunkSize: ({ size }) => partSizes.get(size),
    generateObjectKey: (file) => file.id, // only to find the grant: the key is the server's
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
  // 3. After the bytes: /complete compares what the storage holds with the upload, then it counts.
  uppy.addPostProcessor(eachFile(async (file) => {
    if (file.error || !file.progress.uploadComplete) return;
    uppy.setFileState(file.id, { presign: await call("POST", `/uploads/${grants.get(file.id).upload_id}/complete`) });
  }));
  uppy.on("file-removed", (file) => grants.has(file.id) && !file.presign // removed before complete: abort
    && call("DELETE", `/uploads/${grants.get(file.id).upload_id}`).catch(() => {}));
  return uppy;
}
