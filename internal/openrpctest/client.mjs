// client.mjs http|ws URL: calls the JSON-RPC 2.0 specification's example
// methods (examples/spec) through @open-rpc/client-js and prints what came
// back, as {"results": {CALL: VALUE}, "errors": {CALL: {code, message}}}.
import { Client, RequestManager, HTTPTransport, WebSocketTransport } from "@open-rpc/client-js";

const [kind, url] = process.argv.slice(2);
const transport = kind === "ws" ? new WebSocketTransport(url) : new HTTPTransport(url);
const client = new Client(new RequestManager([transport]));

const calls = {
  "subtract by position": { method: "subtract", params: [42, 23] },
  "subtract reversed": { method: "subtract", params: [23, 42] },
  "subtract by name": { method: "subtract", params: { subtrahend: 23, minuend: 42 } },
  "sum": { method: "sum", params: [1, 2, 4] },
  "sum by name": { method: "sum", params: { numbers: [1, 2, 4] } },
  "get_data": { method: "get_data" },
  "notify_hello with id": { method: "notify_hello", params: [7] },
  "discover": { method: "rpc.discover" },
  "missing method": { method: "foobar" },
  "bad params": { method: "subtract", params: ["a", 1] },
};

const out = { results: {}, errors: {} };
for (const [name, req] of Object.entries(calls)) {
  try {
    let res = await client.request(req, 5000);
    if (name === "discover") res = { openrpc: res.openrpc, methods: res.methods.map((m) => m.name) };
    out.results[name] = res;
  } catch (e) {
    out.errors[name] = { code: e.code, message: e.message };
  }
}
// A notification gets no answer; the call must still go through.
await client.notify({ method: "notify_sum", params: [1, 2, 4] });
out.results["subtract after notification"] = await client.request({ method: "subtract", params: [1, 1] }, 5000);
client.close();
console.log(JSON.stringify(out));
