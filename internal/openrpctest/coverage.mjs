// coverage.mjs FILE URL: runs @open-rpc/test-coverage, with its default
// rules (params from json-schema-faker, and the documented examples),
// against the server at URL described by the OpenRPC document in FILE,
// and prints each call as {rule, method, params, result, error, valid,
// reason}. The faker rule only calls methods that have no examples.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const coverage = require("@open-rpc/test-coverage").default;

const [file, url] = process.argv.slice(2);
const doc = JSON.parse(readFileSync(file, "utf8"));
doc.servers = [{ name: "under test", url }];

// The reporters write progress to stdout; keep it for the report.
const print = console.log;
console.log = console.error;
const calls = await coverage({ openrpcDocument: doc, reporters: ["empty"], transport: "http" });
print(JSON.stringify(calls.map((c) => ({
  rule: c.rule?.constructor?.name ?? "",
  method: c.methodName,
  params: c.params,
  result: c.result ?? null,
  error: c.error ?? null,
  valid: c.valid === true,
  reason: c.reason ?? c.requestError?.message ?? "",
}))));
