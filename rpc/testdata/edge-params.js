// Param binding. Errors are -32602 with data naming the param.
// Unknown named param.
--> {"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": 23, "extra": 1}, "id": 1}
<-- {"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":{"param":"extra","problem":"unknown param"}},"id":1}
// Extra positional param.
--> {"jsonrpc": "2.0", "method": "subtract", "params": [42, 23, 1], "id": 2}
<-- {"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":{"param":"params[2]","problem":"unexpected positional param"}},"id":2}
// Missing required param, by position and by name.
--> {"jsonrpc": "2.0", "method": "subtract", "params": [42], "id": 3}
<-- {"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":{"param":"subtrahend","problem":"missing required param"}},"id":3}
--> {"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23}, "id": 4}
<-- {"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":{"param":"minuend","problem":"missing required param"}},"id":4}
--> {"jsonrpc": "2.0", "method": "subtract", "params": [], "id": 5}
<-- {"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":{"param":"minuend","problem":"missing required param"}},"id":5}
// Wrong type.
--> {"jsonrpc": "2.0", "method": "subtract", "params": ["42", 23], "id": 6}
<-- {"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":{"param":"minuend","problem":"expected a number"}},"id":6}
--> {"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": true}, "id": 7}
<-- {"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":{"param":"subtrahend","problem":"expected a number"}},"id":7}
--> {"jsonrpc": "2.0", "method": "sum", "params": [1, "2"], "id": 8}
<-- {"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":{"param":"numbers","problem":"expected a number"}},"id":8}
// params that are neither an array nor an object.
--> {"jsonrpc": "2.0", "method": "subtract", "params": 42, "id": 9}
<-- {"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"params must be an array or an object"},"id":9}
--> {"jsonrpc": "2.0", "method": "subtract", "params": "42", "id": 10}
<-- {"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"params must be an array or an object"},"id":10}
// Null params count as absent.
--> {"jsonrpc": "2.0", "method": "get_data", "params": null, "id": 11}
<-- {"jsonrpc":"2.0","result":["hello",5],"id":11}
--> {"jsonrpc": "2.0", "method": "subtract", "params": null, "id": 12}
<-- {"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":{"param":"minuend","problem":"missing required param"}},"id":12}
--> {"jsonrpc": "2.0", "method": "subtract", "params": [42, null], "id": 13}
<-- {"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":{"param":"subtrahend","problem":"missing required param"}},"id":13}
--> {"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": null}, "id": 14}
<-- {"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":{"param":"subtrahend","problem":"missing required param"}},"id":14}
// A method without params refuses some.
--> {"jsonrpc": "2.0", "method": "get_data", "params": [1], "id": 15}
<-- {"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":{"param":"params[0]","problem":"unexpected positional param"}},"id":15}
--> {"jsonrpc": "2.0", "method": "get_data", "params": {"x": 1}, "id": 16}
<-- {"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":{"param":"x","problem":"unknown param"}},"id":16}
--> {"jsonrpc": "2.0", "method": "get_data", "params": [], "id": 17}
<-- {"jsonrpc":"2.0","result":["hello",5],"id":17}
--> {"jsonrpc": "2.0", "method": "get_data", "params": {}, "id": 18}
<-- {"jsonrpc":"2.0","result":["hello",5],"id":18}
// A variadic param takes the rest by position, or an array by name.
--> {"jsonrpc": "2.0", "method": "sum", "params": [], "id": 19}
<-- {"jsonrpc":"2.0","result":0,"id":19}
--> {"jsonrpc": "2.0", "method": "sum", "params": {"numbers": [1.5, 2.25]}, "id": 20}
<-- {"jsonrpc":"2.0","result":3.75,"id":20}
--> {"jsonrpc": "2.0", "method": "sum", "id": 21}
<-- {"jsonrpc":"2.0","result":0,"id":21}
