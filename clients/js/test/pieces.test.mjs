// The client's pure pieces: errors from answers, retry waits, fingerprints, token subjects, the
// Node state directory and file store, the types generator's choice of error codes.
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { apiError, retryAfter, storageError, ApiError, NetworkError, StorageError } from "../dist/errors.js";
import { tokenSubject } from "../dist/api.js";
import { fingerprint } from "../dist/platform.js";
import { retrying, retryWait } from "../dist/retry.js";
import { blobSource } from "../dist/browser.js";
import { defaultStateDir, fileStore } from "../dist/node.js";
import { declaredErrorCodes, errorCodesModule, publishedErrorCodes } from "../scripts/generate.mjs";
import { tokenFor } from "./fake.mjs";

test("an API error keeps the contract's code, message, request id and Retry-After", () => {
  const error = apiError(429, { error: { code: "rate_limited", message: "slow", request_id: "r1" } }, "7");
  assert.ok(error instanceof ApiError);
  assert.deepEqual([error.status, error.code, error.message, error.requestId, error.retryAfter], [429, "rate_limited", "slow", "r1", 7]);
  // API Gateway's own throttling: {"message": ...}, no code, maybe no Retry-After
  const gateway = apiError(429, { message: "Too Many Requests" }, null);
  assert.deepEqual([gateway.code, gateway.message, gateway.retryAfter], ["rate_limited", "Too Many Requests", null]);
  assert.equal(apiError(502, null, null).code, "internal_error");
});

test("Retry-After is seconds or an HTTP date", () => {
  assert.equal(retryAfter("3"), 3);
  const inTen = new Date(Date.now() + 10_000).toUTCString();
  assert.ok(Math.abs(retryAfter(inTen) - 10) <= 1, retryAfter(inTen));
  assert.equal(retryAfter("soon"), null);
  assert.equal(retryAfter(null), null);
});

test("S3's XML refusal is a StorageError; an expired URL is recognised", () => {
  const expired = storageError(403, "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>", null);
  assert.ok(expired instanceof StorageError && expired.expired);
  assert.deepEqual([expired.code, expired.message], ["AccessDenied", "Request has expired"]);
  const denied = storageError(403, "<Error><Code>SignatureDoesNotMatch</Code><Message>bad</Message></Error>", null);
  assert.equal(denied.expired, false);
  assert.equal(storageError(503, "", "2").retryAfter, 2);
});

test("retry waits: Retry-After for 429 and 503, a growing backoff for no answer, none for a refusal", () => {
  const limited = new ApiError(429, "rate_limited", "", null, 2);
  for (let i = 0; i < 50; i++) {
    const wait = retryWait(limited, 3);
    assert.ok(wait >= 2000 && wait <= 3000, wait);
  }
  const down = new ApiError(503, "dependency_unavailable", "", null, 1);
  assert.ok(retryWait(down, 1) >= 1000);
  assert.ok(retryWait(new ApiError(409, "idempotency_in_progress", "", null, 1), 1) >= 1000);
  assert.ok(retryWait(new NetworkError("x"), 20) <= 30_000);
  assert.equal(retryWait(new ApiError(409, "upload_not_pending", ""), 1), null);
  assert.equal(retryWait(new ApiError(400, "invalid_request", ""), 1), null);
  assert.ok(retryWait(new StorageError(500, "InternalError", ""), 1) !== null);
  assert.equal(retryWait(new StorageError(403, "AccessDenied", ""), 1), null);
});

test("a request without an answer is not resent when resend is false (a share would be made twice)", async () => {
  let attempts = 0;
  await assert.rejects(
    retrying(async () => {
      attempts++;
      throw new NetworkError("lost");
    }, { patience: 10_000, resend: false }),
    NetworkError,
  );
  assert.equal(attempts, 1);
});

test("the fingerprint: the same bytes and name match whatever the modification time; a changed byte or name does not", async () => {
  const bytes = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7) % 256);
  const at = (blob) => fingerprint(blobSource(blob));
  const one = await at(new File([bytes], "v.bin", { lastModified: 1 }));
  assert.equal(await at(new File([bytes], "v.bin", { lastModified: 2 })), one);
  assert.notEqual(await at(new File([bytes], "w.bin")), one);
  const changed = bytes.slice();
  changed[0] ^= 1; // the first sample
  assert.notEqual(await at(new File([changed], "v.bin")), one);
  const small = new Uint8Array(1000);
  const other = small.slice();
  other[500] = 1; // a small file is hashed whole
  assert.notEqual(await at(new File([small], "s")), await at(new File([other], "s")));
});

test("the token's sub names whose records these are (unverified); anything else is ''", () => {
  assert.equal(tokenSubject(tokenFor("alice")), "alice");
  assert.equal(tokenSubject("opaque-token"), "");
  assert.equal(tokenSubject(undefined), "");
});

test("the state directory: an absolute XDG_STATE_HOME, else the platform's place", () => {
  assert.equal(defaultStateDir({ XDG_STATE_HOME: "/x/state" }, "linux", "/home/a"), "/x/state/presign");
  assert.equal(defaultStateDir({ XDG_STATE_HOME: "relative" }, "linux", "/home/a"), "/home/a/.local/state/presign");
  assert.equal(defaultStateDir({}, "darwin", "/Users/a"), "/Users/a/Library/Application Support/presign");
  assert.equal(defaultStateDir({ LOCALAPPDATA: "C:\\L" }, "win32", "C:\\U").startsWith("C:\\L"), true);
});

test("the file store keeps one owner-only file per record, and deletes it", async () => {
  const dir = await mkdtemp(join(tmpdir(), "presign-store-"));
  const store = fileStore(dir);
  const record = { v: 1, idempotency_key: "k", request: { filename: "a", content_type: "text/plain", size: 1 }, parts: [], created_at: "" };
  await store.set('["https://api","alice","1:ab:a"]', record);
  assert.deepEqual(await store.get('["https://api","alice","1:ab:a"]'), record);
  assert.equal(await store.get("another"), undefined);
  const [name] = await readdir(join(dir, "uploads"));
  assert.match(name, /^[0-9a-f]{64}\.json$/, "named by a hash: no key, sub or file name in the path");
  assert.equal((await stat(join(dir, "uploads", name))).mode & 0o777, 0o600);
  assert.equal((await stat(join(dir, "uploads"))).mode & 0o777, 0o700);
  assert.deepEqual(JSON.parse(await readFile(join(dir, "uploads", name), "utf8")), record);
  await store.delete('["https://api","alice","1:ab:a"]');
  assert.deepEqual(await readdir(join(dir, "uploads")), []);
});

test("the generator takes ErrorBody.code's enum once openapi.json publishes one, errors.py's codes until then", () => {
  const python = 'class A(E):\n    code = "rate_limited"\n\nclass B(E):\n    code = "upload_gone"\n';
  assert.deepEqual(declaredErrorCodes(python), ["rate_limited", "upload_gone"]);
  const open = { components: { schemas: { ErrorBody: { properties: { code: { type: "string" } } } } } };
  assert.equal(publishedErrorCodes(open), null);
  assert.match(errorCodesModule(open, python), /\| \(string & \{\}\)/);
  const inline = { components: { schemas: { ErrorBody: { properties: { code: { enum: ["b", "a"] } } } } } };
  const byRef = {
    components: {
      schemas: {
        ErrorBody: { properties: { code: { $ref: "#/components/schemas/ErrorCode" } } },
        ErrorCode: { type: "string", enum: ["upload_aborted", "upload_deleted"] },
      },
    },
  };
  const anyOf = { components: { schemas: { ErrorBody: { properties: { code: { anyOf: [{ enum: ["x"] }, { type: "null" }] } } } } } };
  assert.deepEqual(publishedErrorCodes(inline), ["a", "b"]);
  assert.deepEqual(publishedErrorCodes(byRef), ["upload_aborted", "upload_deleted"]);
  assert.deepEqual(publishedErrorCodes(anyOf), ["x"]);
  const closed = errorCodesModule(byRef, python);
  assert.match(closed, /\| "upload_aborted"\n {2}\| "upload_deleted";/);
  assert.doesNotMatch(closed, /string & \{\}/);
  assert.doesNotMatch(closed, /rate_limited/, "the published enum, not errors.py");
});
