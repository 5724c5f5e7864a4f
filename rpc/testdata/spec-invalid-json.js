// JSON-RPC 2.0 specification, section 7: rpc call with invalid JSON.
--> {"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]
<-- {"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}
