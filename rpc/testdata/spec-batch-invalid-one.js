// JSON-RPC 2.0 specification, section 7: rpc call with an invalid Batch (but
// not empty).
--> [1]
<-- [{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"not a request object"},"id":null}]
