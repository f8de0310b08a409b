// The demo app's views: sign in, upload (PUT, POST form, in parts with pause and resume), my
// uploads (status, download, share, delete), share links (make, copy, open, list, revoke).
// Every upload goes through @presign/client (vendor/presign-client.js): its create, parts, renewed
// URLs, retries and resume; the app only shows what the client reports.
import {ApiError, createClient, describe, ended, openShare, uploadForm} from "./api.js";

const $ = id => document.getElementById(id);

// Counters and traces for the browser test (tests/e2e/test_demo_app.py); never URLs or tokens.
const stats = {
  put: {progress: []},
  multipart: {expiredRefusals: 0, refusedParts: [], renewals: 0, renewedParts: 0, partsStored: 0, resumedWith: null, urlExpiresAt: null},
  errors: [],
  waits: [], // every retry the client made: {status, code, wait}
  downloads: 0,
};
window.presignDemo = {stats};
// Test-only knobs, set by the browser test before the page loads (never by the page itself):
// {multipartExpiresIn: seconds for the first part URLs, pauseAfterParts: n}.
const testing = window.PRESIGN_DEMO_TEST || {};

// The only thing kept in localStorage is what the user typed to sign in (the API's URL and their
// token), so a reload does not sign them out; "Sign out" removes it. The client keeps a resume
// record per upload in IndexedDB (an upload id, a key, the parts stored: never a URL or a token), so
// a reload does not lose an upload. No share link, no password is stored.
const SAVED = "presign-demo.sign-in";
let client = null;
let signedIn = null; // {api, token}

// ------------------------------------------------------------------------------------ messages

function showError(error) {
  const text = describe(error);
  stats.errors.push({status: error.status ?? null, code: error.code ?? null, text});
  $("notice-text").textContent = text;
  $("notice").hidden = false;
}

function clearError() {
  $("notice").hidden = true;
}

// Runs an action of a button: one at a time, its errors shown in the one notice.
async function action(button, work) {
  button.disabled = true;
  clearError();
  try {
    return await work();
  } catch (error) {
    showError(error);
    return undefined;
  } finally {
    button.disabled = false;
  }
}

// A button that asks once more before doing something that cannot be undone.
function confirming(button, label, work) {
  button.addEventListener("click", () => {
    if (button.dataset.armed !== "1") {
      button.dataset.armed = "1";
      button.textContent = label;
      button.classList.add("danger");
      setTimeout(() => {
        button.dataset.armed = "";
        button.textContent = button.dataset.label;
        button.classList.remove("danger");
      }, 4000);
      return;
    }
    action(button, work);
  });
}

const units = ["B", "KiB", "MiB", "GiB", "TiB"];
function size(bytes) {
  let n = bytes, u = 0;
  while (n >= 1024 && u < units.length - 1) { n /= 1024; u++; }
  return `${u ? n.toFixed(1) : n} ${units[u]}`;
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "class") node.className = value;
    else if (name.startsWith("data-")) node.setAttribute(name, value);
    else node[name] = value;
  }
  node.append(...children.filter(c => c !== null && c !== undefined));
  return node;
}

// A download: the presigned GET signs Content-Disposition: attachment, so following it saves the
// file and the page stays. No Referer goes to the storage.
function follow(url) {
  const link = el("a", {href: url, rel: "noreferrer noopener"});
  document.body.append(link);
  link.click();
  link.remove();
  stats.downloads += 1;
}

// --------------------------------------------------------------------------------------- sign in

function readFragment() {
  // make dev prints the demo's address with the API and a token in the fragment (#api=...&token=),
  // which the browser never sends to any server. Read it, then drop it from the address bar.
  const params = new URLSearchParams(location.hash.slice(1));
  if (params.has("api") || params.has("token")) {
    history.replaceState(null, "", location.pathname + location.search);
  }
  return {api: params.get("api"), token: params.get("token")};
}

function subject(token) {
  // For display only: the API checks the token; the app just says whose it looks like.
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload)).sub || "?";
  } catch {
    return "?";
  }
}

async function signIn(event) {
  event.preventDefault();
  await action($("sign-in-btn"), async () => {
    const typed = {api: $("api-url").value.trim().replace(/\/+$/, ""), token: $("token").value.trim()};
    // A 429 or 503 is waited out by the client; the page says so while it waits.
    const candidate = createClient({baseUrl: typed.api, token: typed.token, onEvent: noteRetry, patience: 60_000});
    await candidate.uploads.list({limit: 1}); // a call that needs a valid token
    client = candidate;
    signedIn = typed;
    localStorage.setItem(SAVED, JSON.stringify(typed));
    $("who-name").textContent = `signed in as ${subject(typed.token)}`;
    $("who").hidden = false;
    $("sign-in").hidden = true;
    $("app").hidden = false;
    await Promise.all([refreshUploads(), refreshShares()]);
  });
}

function signOut() {
  localStorage.removeItem(SAVED);
  client = signedIn = null;
  $("token").value = "";
  $("who").hidden = true;
  $("app").hidden = true;
  $("sign-in").hidden = false;
}

// ---------------------------------------------------------------------------------------- upload

let transfer = null; // the upload on screen, for pause and resume: {file, options, controller}

function showProgress(loaded, total) {
  const percent = total ? Math.floor((loaded / total) * 100) : 100;
  $("progress").value = percent;
  $("progress-text").textContent = `${percent} % · ${size(loaded)} of ${size(total)}`;
  return percent;
}

function showState(text, kind = "") {
  $("transfer-state").textContent = text;
  $("transfer-state").className = "badge " + kind;
  $("pause-btn").hidden = text !== "uploading" && !text.startsWith("uploading ");
  $("resume-btn").hidden = !["paused", "failed"].includes(text);
}

// The client waits out a 429 or 503 as Retry-After says (and a lost connection with a backoff):
// the page says so, and the upload goes on by itself.
function noteRetry(event) {
  if (event.type !== "retry") return;
  stats.waits.push({status: event.status, code: event.code, wait: event.wait});
  const seconds = Math.ceil(event.wait / 1000);
  const why = event.status ? `${event.status} ${event.code}` : "no answer";
  const text = `Busy (${why}): trying again in ${seconds} s, by itself.`;
  stats.waits.at(-1).text = text;
  $("notice-text").textContent = text;
  $("notice").hidden = false;
}

async function upload(event) {
  event.preventDefault();
  const file = $("file").files[0];
  if (!file) return;
  const how = document.querySelector("input[name=method]:checked").value;
  await action($("upload-btn"), async () => {
    $("transfer").hidden = false;
    $("transfer-name").textContent = file.name;
    showState("asking for a URL");
    showProgress(0, file.size);
    if (how === "POST") {
      showState("uploading");
      try {
        await uploadForm(client, file, showProgress);
      } catch (error) {
        showState("failed", "bad");
        throw error;
      }
      showState("complete", "good");
      return refreshUploads();
    }
    const options = {};
    if (how === "multipart") {
      options.multipart = true;
      // Test knobs: first part URLs that expire soon, so a renewal really happens; and one part at
      // a time, so a pause after part N finds no other part under way.
      if (testing.multipartExpiresIn) options.expiresIn = testing.multipartExpiresIn;
      if (testing.pauseAfterParts) options.concurrency = 1;
    }
    await run(file, options, testing.pauseAfterParts || null);
  });
}

// One run of client.upload(): a new upload, or the same file again after a pause, a failure or a
// reload (the client continues it from its resume record: only the missing parts are sent).
async function run(file, options, pauseAfter = null) {
  const controller = new AbortController();
  transfer = {file, options, controller};
  let parts = 0;
  showState("uploading");
  try {
    const done = await client.upload(file, {
      ...options,
      signal: controller.signal,
      onProgress: (sent, total) => {
        const percent = showProgress(sent, total);
        if (!options.multipart) stats.put.progress.push(percent);
      },
      onEvent: event => {
        const m = stats.multipart;
        if (event.type === "created" && event.parts) {
          m.partCount = event.parts;
          showState(`uploading ${event.parts} parts`);
          // when the first part URLs expire, at the latest (they were signed before this moment)
          if (options.expiresIn) m.urlExpiresAt = new Date(Date.now() + options.expiresIn * 1000).toISOString();
        } else if (event.type === "part") {
          m.partsStored += 1;
          // Test knob: pause by itself once this many parts are stored, as a user's Pause would
          if (pauseAfter !== null && ++parts >= pauseAfter) controller.abort();
        } else if (event.type === "expired") {
          m.expiredRefusals += 1;
          m.refusedParts.push(event.partNumber);
        } else if (event.type === "renewed") {
          m.renewals += 1;
          m.renewedParts += event.partNumbers.length;
        } else if (event.type === "resumed") {
          m.resumedWith = event.storedParts.length;
        }
      },
    });
    showProgress(file.size, file.size);
    showState(done.status, "good");
    transfer = null;
    if ($("notice-text").textContent.startsWith("Busy")) clearError(); // the wait is over
  } catch (error) {
    if (controller.signal.aborted) return showState("paused", "warn"); // nothing is deleted
    if (ended(error)) {
      // Deleted meanwhile (another tab, another device): nothing to resume; the list shows it as it is.
      transfer = null;
      showState(error.code === "upload_aborted" ? "aborted" : "deleted", "bad");
      $("pause-btn").hidden = $("resume-btn").hidden = true;
      throw error;
    }
    showState("failed", "bad");
    throw error;
  } finally {
    if (!controller.signal.aborted) await refreshUploads();
  }
}

// Pause interrupts (the upload and its stored parts stay); Resume runs the same file again.
function pause() {
  if (transfer) transfer.controller.abort();
}

function resume() {
  if (transfer) return action($("resume-btn"), () => run(transfer.file, transfer.options));
}

// A pending upload in parts, from the list (after a reload, a closed tab, another device): pick the
// same file again (name and size are checked) and the client continues that upload by its id,
// sending only the parts the storage lacks.
let resuming = null;

function pickFileToResume(item) {
  resuming = item;
  $("resume-file").value = "";
  $("resume-file").click();
}

async function resumeFromList() {
  const item = resuming, file = $("resume-file").files[0];
  if (!item || !file) return;
  await action($("upload-btn"), async () => {
    if (file.name !== item.filename || file.size !== item.size) {
      throw new Error(`Pick the same file to resume: ${item.filename}, ${size(item.size)}.`);
    }
    $("transfer").hidden = false;
    $("transfer-name").textContent = file.name;
    await run(file, {multipart: true, contentType: item.content_type, uploadId: item.upload_id});
  });
}

// ------------------------------------------------------------------------------------ my uploads

let uploadsCursor = null;

async function refreshUploads(more = false) {
  if (!client) return;
  const status = $("status-filter").value || null;
  const cursor = more ? uploadsCursor : null;
  const page = await client.uploads.list({status, cursor, limit: 20});
  if (!more) $("uploads-list").replaceChildren();
  for (const item of page.items) $("uploads-list").append(uploadItem(item));
  if (!page.items.length && !more) $("uploads-list").append(el("li", {class: "empty"}, "No uploads yet."));
  uploadsCursor = page.cursor || null;
  $("uploads-more").hidden = !uploadsCursor;
}

function uploadItem(item) {
  const kind = {complete: "good", pending: "warn", rejected: "bad"}[item.status] || "";
  const actions = el("span", {class: "actions"});
  if (item.status === "complete") {
    const download = el("button", {type: "button", class: "download"}, "Download");
    download.addEventListener("click", () => action(download, async () => {
      follow(await client.downloadUrl(item.key));
    }));
    const share = el("button", {type: "button", class: "share"}, "Share");
    share.addEventListener("click", () => openShareForm(item));
    actions.append(download, share);
  }
  if (item.status === "pending" && item.multipart && !transfer) {
    const resume = el("button", {type: "button", class: "resume"}, "Resume");
    resume.addEventListener("click", () => pickFileToResume(item));
    actions.append(resume);
  }
  if (!["deleted", "expired", "aborted"].includes(item.status)) {
    const remove = el("button", {type: "button", class: "delete", "data-label": "Delete"}, "Delete");
    confirming(remove, "Sure? Delete", async () => {
      await client.uploads.delete(item.upload_id);
      await refreshUploads();
    });
    actions.append(remove);
  }
  const parts = item.multipart ? ` · ${item.multipart.part_count} parts` : "";
  return el("li", {"data-upload-id": item.upload_id, "data-status": item.status},
    el("div", {class: "row"},
      el("span", {class: "name", title: item.key}, item.filename),
      el("span", {class: "badge status " + kind}, item.status)),
    el("div", {class: "row"},
      el("span", {class: "muted"}, `${size(item.size)} · ${item.method}${parts} · ${when(item.created_at)}`),
      actions));
}

// ---------------------------------------------------------------------------------------- shares

let sharing = null; // the upload the share form is for

function openShareForm(item) {
  sharing = item;
  $("share-name").textContent = item.filename;
  $("share-form").reset();
  $("share-made").hidden = true;
  $("share-form").hidden = false;
  $("share").hidden = false;
  $("share").scrollIntoView({behavior: "smooth", block: "nearest"});
}

async function createShare(event) {
  event.preventDefault();
  await action($("share-create"), async () => {
    const request = {key: sharing.key, expires_in: Number($("share-expiry").value)};
    if ($("share-max").value) request.max_downloads = Number($("share-max").value);
    if ($("share-password").value) request.password = $("share-password").value;
    const made = await client.shares.create(request);
    $("share-password").value = "";
    $("share-link").value = made.url;
    $("share-open").href = made.url;
    $("share-form").hidden = true;
    $("share-made").hidden = false;
    await refreshShares();
  });
}

async function copyLink() {
  const link = $("share-link");
  try {
    await navigator.clipboard.writeText(link.value);
  } catch {
    link.select(); // no clipboard permission (plain http, or a test): select it for Ctrl-C
    document.execCommand("copy");
  }
  $("share-copy").textContent = "Copied";
  setTimeout(() => ($("share-copy").textContent = "Copy"), 2000);
}

async function refreshShares() {
  if (!client) return;
  const page = await client.shares.list({limit: 50});
  $("shares-list").replaceChildren();
  for (const share of page.items) $("shares-list").append(shareItem(share));
  if (!page.items.length) $("shares-list").append(el("li", {class: "empty"}, "No share links yet."));
}

function shareItem(share) {
  const kind = {active: "good", exhausted: "warn", revoked: "bad", expired: ""}[share.status];
  const left = share.max_downloads === null
    ? `${share.downloads_used} downloads`
    : `${share.downloads_used} of ${share.max_downloads} downloads`;
  const actions = el("span", {class: "actions"});
  if (share.status === "active") {
    const revoke = el("button", {type: "button", class: "revoke", "data-label": "Revoke"}, "Revoke");
    confirming(revoke, "Sure? Revoke", async () => {
      await client.shares.revoke(share.handle);
      await refreshShares();
    });
    actions.append(revoke);
  }
  return el("li", {"data-handle": share.handle, "data-status": share.status},
    el("div", {class: "row"},
      el("span", {class: "name"}, share.filename),
      el("span", {class: "badges"},
        share.password_protected ? el("span", {class: "badge"}, "password") : null,
        el("span", {class: "badge status " + kind}, share.status))),
    el("div", {class: "row"},
      el("span", {class: "muted"}, `${left} · expires ${when(share.expires_at)}`),
      actions));
}

// Opening a link in the app: the public route with Accept: application/json answers {url} (or
// 401 password_required), so the app asks for the password, POSTs it (never in the URL), and
// follows the short-lived GET it gets back. Opening the link in a tab shows the same as a form.
async function openLink(event) {
  event.preventDefault();
  const link = $("open-link").value.trim();
  const needsPassword = !$("open-password-row").hidden;
  await action($("open-btn"), async () => {
    $("open-result").textContent = "";
    try {
      const granted = await openShare(link, needsPassword ? $("open-password").value : undefined);
      $("open-password").value = "";
      $("open-password-row").hidden = true;
      $("open-result").textContent = "Downloading…";
      follow(granted.url);
    } catch (error) {
      if (error instanceof ApiError && ["password_required", "password_invalid"].includes(error.code)) {
        $("open-password-row").hidden = false;
        $("open-password").focus();
        $("open-result").textContent = error.code === "password_required"
          ? "This link needs its password."
          : "That password is not right.";
        if (error.code === "password_required") return;
      } else {
        $("open-password-row").hidden = true;
      }
      throw error;
    }
  });
}

// ------------------------------------------------------------------------------------------ wire

function start() {
  const fragment = readFragment();
  let saved = {};
  try {
    saved = JSON.parse(localStorage.getItem(SAVED) || "{}");
  } catch {
    saved = {};
  }
  $("api-url").value = fragment.api || saved.api || "http://127.0.0.1:8080";
  // A link may name any API: the token saved for one API is never offered to another.
  const sameApi = !fragment.api || fragment.api === saved.api;
  $("token").value = fragment.token || (sameApi && saved.token) || "";

  $("sign-in-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", signOut);
  $("notice-close").addEventListener("click", clearError);
  $("upload-form").addEventListener("submit", upload);
  $("pause-btn").addEventListener("click", pause);
  $("resume-btn").addEventListener("click", resume);
  $("resume-file").addEventListener("change", resumeFromList);
  $("uploads-refresh").addEventListener("click", () => action($("uploads-refresh"), () => refreshUploads()));
  $("status-filter").addEventListener("change", () => action($("uploads-refresh"), () => refreshUploads()));
  $("uploads-more").addEventListener("click", () => action($("uploads-more"), () => refreshUploads(true)));
  $("share-form").addEventListener("submit", createShare);
  $("share-cancel").addEventListener("click", () => ($("share").hidden = true));
  $("share-copy").addEventListener("click", copyLink);
  $("share-open-here").addEventListener("click", () => {
    $("open-link").value = $("share-link").value;
    $("open-password-row").hidden = true;
    $("open").scrollIntoView({behavior: "smooth", block: "nearest"});
  });
  $("shares-refresh").addEventListener("click", () => action($("shares-refresh"), () => refreshShares()));
  $("open-form").addEventListener("submit", openLink);
  document.body.dataset.ready = "1";
}

start();
