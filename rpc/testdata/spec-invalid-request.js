// JSON-RPC 2.0 specification, section 7: rpc call with invalid Request object.
--> {"jsonrpc": "2.0", "method": 1, "params": "bar"}
<-- {"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"method must be a string"},"id":null}
