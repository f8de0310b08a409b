// Once openapi.json publishes ErrorBody.code as an enum, regenerating the types closes ErrorCode to
// exactly its values: the client must still compile then. This builds that future here: the
// sources with an error-codes module generated from an enum of only the codes routes raise (none
// of the contract's base-class codes), compiled by tsc.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { declaredErrorCodes, errorCodesModule } from "../scripts/generate.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const repo = join(root, "..", "..");

test("the client compiles against a closed ErrorCode enum", () => {
  const doc = JSON.parse(readFileSync(join(repo, "layers", "presign", "presign", "openapi.json"), "utf8"));
  const python = readFileSync(join(repo, "layers", "presign", "presign", "errors.py"), "utf8");
  const generic = ["conflict", "gone", "unprocessable", "internal_error", "configuration_error", "not_found", "forbidden"];
  const codes = declaredErrorCodes(python).filter((code) => !generic.includes(code));
  doc.components.schemas.ErrorBody.properties.code = { type: "string", enum: codes };
  const dir = mkdtempSync(join(tmpdir(), "presign-enum-"));
  cpSync(join(root, "src"), join(dir, "src"), { recursive: true });
  cpSync(join(root, "tsconfig.json"), join(dir, "tsconfig.json"));
  writeFileSync(join(dir, "package.json"), '{"type": "module"}');
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  const module = errorCodesModule(doc, python);
  assert.match(module, /ERROR_CODES_PUBLISHED = true/);
  writeFileSync(join(dir, "src", "generated", "error-codes.ts"), module);
  execFileSync(join(root, "node_modules", ".bin", "tsc"), ["-p", join(dir, "tsconfig.json"), "--noEmit"], { stdio: "pipe" });
});
