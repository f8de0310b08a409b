// useUpload() from @presign/client/react: one file's upload as React state, with pause (an interrupt:
// nothing is deleted), resume (only the missing parts are sent) and cancel (the upload is deleted).
// Plain createElement, so the page needs no JSX step; `make examples` bundles it (build.mjs).
import { createElement as h, useMemo } from "react";
import { createRoot } from "react-dom/client";
import { createClient } from "@presign/client";
import { useUpload } from "@presign/client/react";

// make dev prints this page's address with the API and a token in the fragment, which no server sees.
const signIn = Object.fromEntries(new URLSearchParams(location.hash.slice(1)));
history.replaceState(null, "", location.pathname);

// What the browser test (tests/e2e/test_react_hook.py) reads: the client's events, never a URL.
window.presignReact = { events: [] };

function Uploader({ client }) {
  const { state, progress, uploadId, result, error, upload, pause, resume, cancel } = useUpload(client, {
    onEvent: (event) => window.presignReact.events.push(event),
  });
  const percent = progress.total ? Math.floor((progress.sent / progress.total) * 100) : 0;
  return h(
    "section",
    null,
    h("input", { type: "file", id: "file", onChange: (e) => e.target.files[0] && upload(e.target.files[0]) }),
    h("p", null, h("progress", { id: "progress", max: 100, value: percent }), ` ${percent} %`),
    h("p", null, "State: ", h("output", { id: "state" }, state), uploadId && h("code", { id: "upload-id" }, ` ${uploadId}`)),
    h(
      "p",
      null,
      h("button", { id: "pause", onClick: pause, disabled: state !== "uploading" }, "Pause"),
      h("button", { id: "resume", onClick: resume, disabled: !["paused", "failed"].includes(state) }, "Resume"),
      h("button", { id: "cancel", onClick: cancel, disabled: ["idle", "complete", "canceled"].includes(state) }, "Cancel"),
    ),
    result && h("p", { id: "result" }, `Stored as ${result.key} (${result.size} bytes).`),
    error && h("p", { id: "error" }, `${error.name}: ${error.message}`),
  );
}

function App() {
  const client = useMemo(() => createClient({ baseUrl: signIn.api, token: signIn.token }), []);
  return signIn.api && signIn.token
    ? h(Uploader, { client })
    : h("p", null, "Open the address make dev prints (it signs this page in).");
}

createRoot(document.getElementById("root")).render(h(App));
