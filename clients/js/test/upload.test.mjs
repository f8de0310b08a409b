// What the client decides, against an in-memory API and storage (test/fake.mjs): parts, progress,
// concurrency, interruption, resume, renewal, retries, cancel, rejection.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiError, Interrupted, StorageError, UploadRejected } from "../dist/index.js";
import { FakeService, fileOf } from "./fake.mjs";

const json = (status, body, headers = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

test("a small file goes in one PUT and completes; no record is left", async () => {
  const service = new FakeService();
  const file = fileOf(5, "a.txt");
  const done = await service.client().upload(file, { contentType: "text/plain" });
  assert.deepEqual(done, { upload_id: "up1", key: "users/alice/up1", size: 5, content_type: "text/plain", etag: '"done"', status: "complete" });
  assert.deepEqual(service.puts, [["up1", 0, 200]]);
  assert.equal(service.uploads.get("up1").request.filename, "a.txt");
  const again = await service.client().upload(file, { contentType: "text/plain" });
  assert.equal(again.upload_id, "up2", "the same file once more is a new upload: the record went with the completion");
});

test("parts go in parallel up to the concurrency, with URLs asked past the first answer's", async () => {
  const service = new FakeService();
  const events = [];
  const done = await service.client().upload(fileOf(40), { concurrency: 3, onEvent: (e) => events.push(e) });
  assert.equal(done.status, "complete");
  assert.deepEqual(service.puts.map(([, n]) => n).sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(service.maxInFlight, 3);
  const renewed = events.filter((e) => e.type === "renewed").flatMap((e) => e.partNumbers);
  assert.deepEqual(renewed.sort((a, b) => a - b), [3, 4, 5, 6, 7, 8, 9, 10], "parts 1-2 came with the create");
  assert.ok(service.calls.filter((c) => c.endsWith("/parts")).length <= 3, service.calls.join("\n"));
});

test("progress only rises, to the size, even when a part is sent again", async () => {
  const service = new FakeService();
  service.refusals.push((id, n) => n === 2 && { status: 503, text: "<Error><Code>SlowDown</Code></Error>", retryAfter: "0" });
  const seen = [];
  await service.client().upload(fileOf(10), { concurrency: 1, onProgress: (sent, total) => seen.push([sent, total]) });
  const sent = seen.map(([s]) => s);
  assert.ok(sent.every((s, i) => i === 0 || s > sent[i - 1]), JSON.stringify(sent));
  assert.deepEqual(seen.at(-1), [10, 10]);
  assert.deepEqual(service.puts.filter(([, n]) => n === 2).map(([, , s]) => s), [503, 200]);
});

test("an aborted signal interrupts: the record stays, nothing is deleted, the same file resumes with the missing parts", async () => {
  const service = new FakeService();
  const client = service.client();
  const file = fileOf(16);
  const controller = new AbortController();
  const first = client.upload(file, {
    concurrency: 1,
    signal: controller.signal,
    onEvent: (e) => e.type === "part" && e.partNumber === 2 && controller.abort(),
  });
  await assert.rejects(first, (error) => error instanceof Interrupted && error.name === "AbortError" && error.uploadId === "up1");
  assert.ok(!service.calls.some((c) => c.startsWith("DELETE")), service.calls.join("\n"));
  const mark = service.puts.length;

  // a new client (a reload, a new process) with the same store
  const events = [];
  const done = await service.client().upload(file, { onEvent: (e) => events.push(e) });
  assert.equal(done.upload_id, "up1");
  assert.deepEqual(events.find((e) => e.type === "resumed"), { type: "resumed", uploadId: "up1", storedParts: [1, 2] });
  assert.deepEqual(service.puts.slice(mark).map(([, n]) => n).sort(), [3, 4]);
  assert.equal(service.uploads.size, 1);
});

test("a resumed single upload replays its create with the same key and body", async () => {
  const service = new FakeService();
  const file = fileOf(6);
  const controller = new AbortController();
  await assert.rejects(
    service.client().upload(file, { signal: controller.signal, onProgress: (sent) => sent > 0 && controller.abort() }),
    Interrupted,
  );
  const done = await service.client().upload(file);
  assert.equal(done.upload_id, "up1");
  const creates = service.calls.filter((c) => c === "POST /uploads");
  assert.equal(creates.length, 2);
  assert.equal(service.keys.size, 1, "the replay carried the first Idempotency-Key");
});

test("a record of an upload that is gone starts a new upload, once", async () => {
  const service = new FakeService();
  const file = fileOf(16);
  const controller = new AbortController();
  await assert.rejects(
    service.client().upload(file, { concurrency: 1, signal: controller.signal, onEvent: (e) => e.type === "part" && controller.abort() }),
    Interrupted,
  );
  service.uploads.get("up1").status = "expired";
  const done = await service.client().upload(file);
  assert.equal(done.upload_id, "up2");
});

test("an upload a DELETE ended elsewhere is not made again: its 410 is thrown, its record goes", async () => {
  const service = new FakeService();
  const file = fileOf(16);
  const controller = new AbortController();
  await assert.rejects(
    service.client().upload(file, { concurrency: 1, signal: controller.signal, onEvent: (e) => e.type === "part" && controller.abort() }),
    Interrupted,
  );
  service.uploads.get("up1").status = "aborted"; // another tab or device deleted it
  await assert.rejects(
    service.client().upload(file),
    (error) => error instanceof ApiError && error.status === 410 && error.code === "upload_aborted",
  );
  assert.equal(service.uploads.size, 1, "no second upload was made");
  const again = await service.client().upload(file);
  assert.equal(again.upload_id, "up2", "asked once more, the file is a new upload");
});

test("another request for the same file (other metadata) is another upload", async () => {
  const service = new FakeService();
  const file = fileOf(16);
  const controller = new AbortController();
  await assert.rejects(
    service.client().upload(file, { concurrency: 1, signal: controller.signal, onEvent: (e) => e.type === "part" && controller.abort() }),
    Interrupted,
  );
  const done = await service.client().upload(file, { metadata: { album: "other" } });
  assert.equal(done.upload_id, "up2");
});

test("an expired part URL is renewed and the part sent again; another 403 is renewed once, then thrown", async () => {
  const service = new FakeService();
  const expired = { status: 403, text: "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>" };
  service.refusals.push((id, n) => n === 1 && expired);
  const events = [];
  const done = await service.client().upload(fileOf(12), { concurrency: 1, onEvent: (e) => events.push(e) });
  assert.equal(done.status, "complete");
  assert.deepEqual(events.filter((e) => e.type === "expired").map((e) => e.partNumber), [1]);

  const denied = { status: 403, text: "<Error><Code>SignatureDoesNotMatch</Code><Message>no</Message></Error>" };
  const other = new FakeService();
  other.refusals.push((id, n) => n === 1 && denied, (id, n) => n === 1 && denied);
  await assert.rejects(other.client().upload(fileOf(12), { concurrency: 1 }), (e) => e instanceof StorageError && e.code === "SignatureDoesNotMatch");
  assert.deepEqual(other.puts.filter(([, n]) => n === 1).map(([, , s]) => s), [403, 403]);
});

test("a create with no answer is sent again with the same Idempotency-Key", async () => {
  const service = new FakeService();
  service.answers.push((method, path) => method === "POST" && path === "/uploads" && new TypeError("fetch failed"));
  const events = [];
  const done = await service.client().upload(fileOf(3), { onEvent: (e) => events.push(e) });
  assert.equal(done.upload_id, "up1");
  assert.deepEqual(events.filter((e) => e.type === "retry").map((e) => [e.status, e.code]), [[0, "network"]]);
});

test("429 waits Retry-After; a refusal is an ApiError with the contract's code, and leaves no record", async () => {
  const service = new FakeService();
  service.answers.push((m, p) => p === "/uploads" && json(429, { error: { code: "rate_limited", message: "slow down" } }, { "retry-after": "1" }));
  const started = Date.now();
  const events = [];
  await service.client().upload(fileOf(3), { onEvent: (e) => events.push(e) });
  assert.ok(Date.now() - started >= 1000, "waited Retry-After");
  assert.ok(events.some((e) => e.type === "retry" && e.status === 429 && e.wait >= 1000));

  const refusing = new FakeService();
  refusing.answers.push((m, p) => p === "/uploads" && json(415, { error: { code: "unsupported_content_type", message: "no", request_id: "r1" } }));
  await assert.rejects(refusing.client().upload(fileOf(3)), (e) => e instanceof ApiError && e.status === 415 && e.code === "unsupported_content_type" && e.requestId === "r1");
  const again = await refusing.client().upload(fileOf(3));
  assert.equal(again.upload_id, "up1", "the refused create left no record behind");
});

test("patience bounds retries by time, not by count", async () => {
  const service = new FakeService();
  for (let i = 0; i < 1000; i++) service.answers.push((m, p) => p === "/uploads" && new TypeError("fetch failed"));
  const started = Date.now();
  await assert.rejects(service.client({ patience: 1500 }).upload(fileOf(3)), (e) => e.name === "NetworkError");
  const took = Date.now() - started;
  assert.ok(took < 1500 + 200, `gave up within its patience (${took} ms)`);
  assert.ok(service.calls.length >= 2, service.calls.length);
});

test("cancel() stops the upload, deletes it and its record", async () => {
  const service = new FakeService();
  const client = service.client();
  const file = fileOf(16);
  const running = client.upload(file, { concurrency: 1, onEvent: (e) => e.type === "part" && client.cancel(file) });
  await assert.rejects(running, Interrupted);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(service.uploads.get("up1").status, "aborted");
  assert.ok(service.calls.includes("DELETE /uploads/up1"), service.calls.join("\n"));
  assert.equal(await client.cancel(file), false, "nothing left to cancel");
});

test("an upload rejected (by the storage's events, or at completion) is an UploadRejected", async () => {
  const service = new FakeService();
  service.answers.push((m, p) => p.endsWith("/complete") && (service.uploads.get("up1").status = "rejected") && json(422, { error: { code: "upload_mismatch", message: "size differs" } }));
  const file = fileOf(3);
  await assert.rejects(service.client().upload(file), (e) => e instanceof UploadRejected && e.message === "size differs" && e.upload.status === "rejected");
  const next = await service.client().upload(file);
  assert.equal(next.upload_id, "up2", "the rejected upload's record was dropped");
});

test("an upload completed meanwhile (by the storage's events) resolves to its record on resume", async () => {
  const service = new FakeService();
  const file = fileOf(16);
  const controller = new AbortController();
  await assert.rejects(
    service.client().upload(file, { concurrency: 1, signal: controller.signal, onEvent: (e) => e.type === "part" && controller.abort() }),
    Interrupted,
  );
  service.uploads.get("up1").status = "complete";
  const done = await service.client().upload(file);
  assert.deepEqual([done.upload_id, done.status], ["up1", "complete"]);
  assert.equal(service.puts.length, 1);
});

test("an upload named by its id continues without a record; another file for it is refused", async () => {
  const service = new FakeService();
  const file = fileOf(16);
  const controller = new AbortController();
  await assert.rejects(
    service.client().upload(file, { concurrency: 1, signal: controller.signal, onEvent: (e) => e.type === "part" && controller.abort() }),
    Interrupted,
  );
  const elsewhere = new FakeService();
  Object.assign(elsewhere, { uploads: service.uploads, keys: service.keys }); // the same API, another device's store
  const events = [];
  const done = await elsewhere.client().upload(file, { uploadId: "up1", onEvent: (e) => events.push(e) });
  assert.equal(done.upload_id, "up1");
  assert.deepEqual(events.find((e) => e.type === "resumed").storedParts, [1]);
  assert.deepEqual(elsewhere.puts.map(([, n]) => n).sort(), [2, 3, 4]);

  const third = new FakeService();
  third.create({ filename: "x", content_type: "a/b", size: 12 }, "k");
  await assert.rejects(third.client().upload(fileOf(16), { uploadId: "up1" }), /is not the one upload up1 is for/);
});

test("a record write that fails does not stop the ones after it", async () => {
  const service = new FakeService();
  const real = service.store.set;
  let writes = 0;
  service.store.set = async (key, record) => {
    if (++writes === 2) throw new Error("disk full, once");
    return real(key, record);
  };
  const controller = new AbortController();
  const file = fileOf(16);
  await assert.rejects(
    service.client().upload(file, { concurrency: 1, signal: controller.signal, onEvent: (e) => e.type === "part" && e.partNumber === 3 && controller.abort() }),
    Interrupted,
  );
  const events = [];
  await service.client().upload(file, { onEvent: (e) => events.push(e) });
  assert.deepEqual(events.find((e) => e.type === "resumed")?.storedParts, [1, 2, 3], "the later writes landed");
});
