// Bundle sizes, measured one way for every client: an entry that imports what an app calls, bundled
// by esbuild for a browser (ES module, minified, tree-shaken, React and the like external), then
// gzipped at level 9. Prints one JSON line per client.
//
//   node benchmarks/js/size.mjs            (after `make clients` and `npm ci` here; make bench does both)
import { build } from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "..", "..", "clients", "js", "dist");

export const ENTRIES = {
  // What `import { createClient } from "@presign/client"` brings into a browser app: the whole client
  // (uploads with resume and retries, downloads, shares, my uploads).
  "@presign/client": `export { createClient } from ${JSON.stringify(join(dist, "index.js"))};`,
  "@presign/client + useUpload": `export { createClient } from ${JSON.stringify(join(dist, "index.js"))};
export { useUpload } from ${JSON.stringify(join(dist, "react.js"))};`,
  // Uppy's S3 uploader as its own package: what it imports of @uppy/core and @uppy/utils comes along.
  "@uppy/aws-s3": `export { default } from "@uppy/aws-s3";`,
  // What an app needs to upload with it: Uppy itself and the plugin (no UI).
  "@uppy/core + @uppy/aws-s3": `export { default as Uppy } from "@uppy/core";
export { default as AwsS3 } from "@uppy/aws-s3";`,
  // UploadThing's framework-free client: genUploader() makes uploadFiles() and friends.
  "uploadthing/client": `export { genUploader } from "uploadthing/client";`,
};

export async function measure(name) {
  const result = await build({
    stdin: { contents: ENTRIES[name], resolveDir: here, loader: "js" },
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    legalComments: "none",
    define: { "process.env.NODE_ENV": '"production"' },
    external: ["react", "react-dom"], // the app's own (the hook's peer); Uppy's Preact is bundled
    logLevel: "error",
  });
  const bytes = result.outputFiles[0].contents;
  return { name, minified: bytes.length, gzipped: gzipSync(bytes, { level: 9 }).length };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const name of Object.keys(ENTRIES)) console.log(JSON.stringify(await measure(name)));
}
