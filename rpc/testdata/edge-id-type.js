// An id must be a string, a number or null. Anything else is an invalid
// request answered with id null.
--> {"jsonrpc": "2.0", "method": "subtract", "params": [1, 2], "id": {"a": 1}}
<-- {"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"id must be a string, a number or null"},"id":null}
--> {"jsonrpc": "2.0", "method": "subtract", "params": [1, 2], "id": [1]}
<-- {"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"id must be a string, a number or null"},"id":null}
--> {"jsonrpc": "2.0", "method": "subtract", "params": [1, 2], "id": true}
<-- {"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"id must be a string, a number or null"},"id":null}
--> {"jsonrpc": "2.0", "method": "subtract", "params": [1, 2], "id": false}
<-- {"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"id must be a string, a number or null"},"id":null}
// A null id is a call, not a notification: it gets an answer with id null.
--> {"jsonrpc": "2.0", "method": "subtract", "params": [1, 2], "id": null}
<-- {"jsonrpc":"2.0","result":-1,"id":null}
