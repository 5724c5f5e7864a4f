// "jsonrpc" must be exactly "2.0". The id was readable, so it is echoed.
--> {"jsonrpc": "1.0", "method": "subtract", "params": [1, 2], "id": 1}
<-- {"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"jsonrpc must be \"2.0\""},"id":1}
--> {"jsonrpc": 2.0, "method": "subtract", "params": [1, 2], "id": 2}
<-- {"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"jsonrpc must be \"2.0\""},"id":2}
--> {"jsonrpc": "2.0 ", "method": "subtract", "params": [1, 2], "id": 3}
<-- {"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"jsonrpc must be \"2.0\""},"id":3}
--> {"jsonrpc": "2", "method": "subtract", "params": [1, 2], "id": 4}
<-- {"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"jsonrpc must be \"2.0\""},"id":4}
--> {"method": "subtract", "params": [1, 2], "id": 5}
<-- {"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"jsonrpc must be \"2.0\""},"id":5}
--> {"jsonrpc": null, "method": "subtract", "params": [1, 2], "id": 6}
<-- {"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"jsonrpc must be \"2.0\""},"id":6}
// An escaped spelling of the same string is still "2.0".
--> {"jsonrpc": "2\u002e0", "method": "subtract", "params": [1, 2], "id": 7}
<-- {"jsonrpc":"2.0","result":-1,"id":7}
// A bad version on a notification is still an invalid request, answered
// with id null.
--> {"jsonrpc": "1.0", "method": "update", "params": [1]}
<-- {"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"jsonrpc must be \"2.0\""},"id":null}
