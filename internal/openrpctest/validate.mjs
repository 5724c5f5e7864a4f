// validate.mjs FILE [--deref]: checks an OpenRPC document with
// @open-rpc/schema-utils-js and prints a JSON report (see Validation in
// openrpctest.go).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { validateOpenRPCDocument, parseOpenRPCDocument } from "@open-rpc/schema-utils-js";

const [file, flag] = process.argv.slice(2);
const doc = JSON.parse(readFileSync(file, "utf8"));
const report = { valid: false, errors: "", schemesValid: false, schemesErrors: "", dereferenced: false, derefError: "", refs: 0 };

const res = validateOpenRPCDocument(structuredClone(doc));
report.valid = res === true;
if (res !== true) report.errors = String(res.message ?? res);

// components is no definition of the meta-schema, so schema-utils-js
// cannot apply the x-security-schemes declaration there: apply it here,
// with the Ajv that schema-utils-js itself uses.
const require = createRequire(import.meta.resolve("@open-rpc/schema-utils-js"));
const Ajv = require("ajv");
const decl = (doc["x-extensions"] ?? []).find((e) => e.name === "x-security-schemes");
const schemes = doc.components?.["x-security-schemes"];
if (schemes === undefined) {
  report.schemesValid = true;
} else if (!decl) {
  report.schemesErrors = "x-security-schemes is used but not declared in x-extensions";
} else {
  const ajv = new Ajv();
  report.schemesValid = ajv.validate(decl.schema, schemes);
  if (!report.schemesValid) report.schemesErrors = JSON.stringify(ajv.errors);
}

if (flag === "--deref") {
  try {
    const parsed = await parseOpenRPCDocument(structuredClone(doc));
    report.dereferenced = true;
    const count = (v) => {
      if (Array.isArray(v)) return v.reduce((n, x) => n + count(x), 0);
      if (v && typeof v === "object") return Object.entries(v).reduce((n, [k, x]) => n + (k === "$ref" ? 1 : 0) + count(x), 0);
      return 0;
    };
    // Dereferenced schemas may share objects but are not cyclic here.
    report.refs = count(parsed.methods);
  } catch (e) {
    report.derefError = String(e?.message ?? e);
  }
}
console.log(JSON.stringify(report));
