// A message is exactly one JSON value. Anything after it is a parse error.
--> {"jsonrpc": "2.0", "method": "subtract", "params": [1, 2], "id": 1} {"jsonrpc": "2.0", "method": "subtract", "params": [1, 2], "id": 2}
<-- {"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}
--> {"jsonrpc": "2.0", "method": "subtract", "params": [1, 2], "id": 1}x
<-- {"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}
--> [{"jsonrpc": "2.0", "method": "subtract", "params": [1, 2], "id": 1}] []
<-- {"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}
--> {"jsonrpc": "2.0", "method": "subtract", "params": [1, 2], "id": 1},
<-- {"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}
// Surrounding white space is not trailing data.
-->    {"jsonrpc": "2.0", "method": "subtract", "params": [1, 2], "id": 1}   
<-- {"jsonrpc":"2.0","result":-1,"id":1}
