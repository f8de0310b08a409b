// Drives @presign/client from Node for tests/e2e/test_js_client.py: one action per process, as a
// user's program would run it, with what the client reports printed as JSON lines on stdout.
//
//   PRESIGN_CLIENT  what to import: a path to dist/node.js, or the package name
//   PRESIGN_URL, TOKEN, XDG_STATE_HOME (where the resume records go)
//   PLAN            JSON: {action: "upload" | "cancel" | "api", file, inMemory, options,
//                   abortAfterPart, abortAfterBytes, download}
//
// Lines: {"event": {...}} as they happen (flushed, so a test can react to one), then
// {"result": ...} or {"error": {name, code, status, uploadId, message}} and {"progress": [...]}.
import { readFile, writeFile } from "node:fs/promises";
import { basename } from "node:path";

const { createClient } = await import(process.env.PRESIGN_CLIENT);
const plan = JSON.parse(process.env.PLAN);
const say = (line) => process.stdout.write(JSON.stringify(line) + "\n");
const client = createClient({ baseUrl: process.env.PRESIGN_URL, token: process.env.TOKEN, patience: plan.patience ?? 120_000 });

const controller = new AbortController();
const progress = [];
let partsHere = 0;
const options = {
  ...plan.options,
  signal: controller.signal,
  onProgress: (sent, total) => {
    progress.push(sent);
    if (plan.abortAfterBytes && sent >= plan.abortAfterBytes) controller.abort();
  },
  onEvent: (event) => {
    say({ event });
    if (event.type === "part" && ++partsHere === plan.abortAfterPart) controller.abort();
  },
};

function described(error) {
  return { name: error.name, code: error.code ?? null, status: error.status ?? null, uploadId: error.uploadId ?? null, message: error.message };
}

try {
  if (plan.action === "cancel") {
    say({ result: await client.cancel(plan.file, plan.options) });
  } else if (plan.action === "api") {
    say({ result: await apiTour(plan) });
  } else {
    // {inMemory: true}: a Node File of the bytes, as a program that has them in memory uploads them
    const input = plan.inMemory ? new File([await readFile(plan.file)], basename(plan.file)) : plan.file;
    const done = await client.upload(input, options);
    say({ result: done });
    if (plan.download) {
      const response = await fetch(await client.downloadUrl(done.key));
      await writeFile(plan.download, Buffer.from(await response.arrayBuffer()));
    }
  }
} catch (error) {
  say({ error: described(error) });
}
say({ progress: [progress.length, progress.every((sent, i) => i === 0 || sent > progress[i - 1]), progress.at(-1) ?? null] });

// Every route but the upload's own, as a user of the client calls them.
async function apiTour({ file }) {
  const out = {};
  const done = await client.upload(file, { metadata: { album: "tour" } });
  out.status = await client.uploads.get(done.upload_id);
  out.listed = (await client.uploads.list({ limit: 1 })).items.map((u) => u.upload_id);
  const all = [];
  for await (const upload of client.uploads.all({ status: "complete", limit: 1 })) all.push(upload.upload_id);
  out.all = all;
  out.downloads = await client.downloads({ keys: [done.key, "users/someone-else/x.txt"] });
  out.url = await client.downloadUrl(done.key, { disposition: "attachment" });
  out.bytes = Buffer.from(await (await fetch(out.url)).arrayBuffer()).toString("utf8");
  const share = await client.shares.create({ key: done.key, max_downloads: 2 });
  out.share = { handle: share.handle, max_downloads: share.max_downloads, url_is_link: share.url.includes("/s/") };
  out.shares = (await client.shares.list()).items.map((s) => s.handle);
  await client.shares.revoke(share.handle);
  out.revoked = (await client.shares.get(share.handle)).status;
  const errors = {};
  for (const [name, work] of Object.entries({
    unknown: () => client.uploads.get("01NOTANUPLOAD0000000000000"),
    html: () => client.upload(file, { contentType: "text/html" }),
    outside: () => client.downloadUrl("users/someone-else/x.txt"),
  })) {
    try {
      await work();
      errors[name] = null;
    } catch (error) {
      errors[name] = described(error);
    }
  }
  out.errors = errors;
  await client.uploads.delete(done.upload_id);
  out.deleted = await client.uploads.get(done.upload_id).then((u) => u.status, (error) => described(error));
  return out;
}
