// JSON-RPC 2.0 specification, section 7: rpc call with invalid Batch.
--> [1,2,3]
<-- [{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"not a request object"},"id":null},{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"not a request object"},"id":null},{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"not a request object"},"id":null}]
