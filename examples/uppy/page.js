// The page around app.js: the Dashboard, the API and token fields, the list of completed files.
import Dashboard from "@uppy/dashboard";
import { presignUppy } from "./app.js";

// make dev prints this page with #api=...&token=...; the fragment never reaches a server.
const given = new URLSearchParams(location.hash.slice(1));
for (const name of ["api", "token"]) if (given.get(name)) document.getElementById(name).value = given.get(name);
history.replaceState(null, "", location.pathname);

const field = (id) => document.getElementById(id).value.trim();
const uppy = presignUppy({ api: () => field("api").replace(/\/+$/, ""), token: () => field("token") });
uppy.use(Dashboard, { target: "#uppy", inline: true, width: "100%", height: 380, proudlyDisplayPoweredByUppy: false });
uppy.on("complete", () => {
  document.getElementById("done").replaceChildren(...uppy.getFiles().filter((f) => f.presign).map((f) => {
    const item = document.createElement("li");
    item.textContent = `${f.presign.status} ${f.presign.size} B ${f.presign.key}`;
    return item;
  }));
});
window.uppy = uppy; // for the browser test (tests/e2e/test_uppy.py) and the console
