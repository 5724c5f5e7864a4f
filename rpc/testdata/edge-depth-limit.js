// Nesting is limited to 64 arrays and objects, counting the request
// object itself. 64 levels reach the method; 65 are an invalid request.
--> {"jsonrpc": "2.0", "method": "foobar", "params": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]], "id": 1}
<-- {"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":1}
--> {"jsonrpc": "2.0", "method": "foobar", "params": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]], "id": 1}
<-- {"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"nesting too deep"},"id":null}
// In a batch, the batch array counts too.
--> [{"jsonrpc": "2.0", "method": "foobar", "params": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]], "id": 1}]
<-- {"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"nesting too deep"},"id":null}
// Deep nesting inside a string is not nesting.
--> {"jsonrpc": "2.0", "method": "foobar", "params": ["[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["], "id": 1}
<-- {"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":1}
