// JSON-RPC 2.0 specification, section 7: rpc call with an empty Array.
--> []
<-- {"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"empty batch"},"id":null}
