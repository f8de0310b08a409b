// Bundles app.js (React + @presign/client's useUpload) into vendor/app.js for the page: `make
// examples` runs it. "@presign/client" is the package `make clients` built (clients/js/dist), as an
// app that installed it would import it; React comes from examples/ (its peer dependency: the hook
// and the app share this one React, and clients/js never has one).
import { build } from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "..", "..", "clients", "js", "dist");

const presignClient = {
  name: "presign-client",
  setup(bundler) {
    bundler.onResolve({ filter: /^@presign\/client(\/react)?$/ }, ({ path }) => ({
      path: join(dist, path.endsWith("/react") ? "react.js" : "index.js"),
    }));
  },
};

await build({
  entryPoints: [join(here, "app.js")],
  outfile: join(here, "vendor", "app.js"),
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  sourcemap: true,
  define: { "process.env.NODE_ENV": '"production"' },
  nodePaths: [join(here, "..", "node_modules")], // "react" from the hook's file resolves to examples'
  plugins: [presignClient],
  logLevel: "warning",
});
