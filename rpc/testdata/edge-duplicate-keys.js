// A duplicate member is an invalid request with id null: Warden refuses to
// choose one, so that security and dispatch never see different values.
--> {"jsonrpc": "2.0", "method": "subtract", "method": "sum", "params": [1, 2], "id": 1}
<-- {"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"duplicate member method"},"id":null}
--> {"jsonrpc": "2.0", "method": "subtract", "params": [1, 2], "id": 1, "id": 2}
<-- {"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"duplicate member id"},"id":null}
--> {"jsonrpc": "2.0", "jsonrpc": "2.0", "method": "subtract", "params": [1, 2], "id": 1}
<-- {"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"duplicate member jsonrpc"},"id":null}
--> {"jsonrpc": "2.0", "method": "subtract", "params": [1, 2], "params": [3, 4], "id": 1}
<-- {"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"duplicate member params"},"id":null}
// An escaped spelling of "method" is the same key.
--> {"jsonrpc": "2.0", "method": "subtract", "\u006dethod": "sum", "params": [1, 2], "id": 1}
<-- {"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"duplicate member method"},"id":null}
// A duplicate named param is an invalid params error naming it.
--> {"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 1, "minuend": 2, "subtrahend": 3}, "id": 1}
<-- {"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":{"param":"minuend","problem":"duplicate param"}},"id":1}
// Unknown members of the request object are ignored.
--> {"jsonrpc": "2.0", "method": "subtract", "params": [1, 2], "id": 1, "extra": true}
<-- {"jsonrpc":"2.0","result":-1,"id":1}
