// JSON-RPC 2.0 specification, section 7: rpc call Batch, invalid JSON.
--> [{"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"}, {"jsonrpc": "2.0", "method"]
<-- {"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}
