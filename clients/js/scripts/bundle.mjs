// The browser bundle: dist/index.js (what `import { createClient } from "@presign/client"` loads
// in a browser) as one minified ES module, dist/presign-client.min.js, for pages without a build
// step (examples/web copies it) and for the size that `make bench` reports.
import { build } from "esbuild";

await build({
  entryPoints: ["dist/index.js"],
  outfile: "dist/presign-client.min.js",
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  legalComments: "none",
  logLevel: "warning",
});
