// Ids come back exactly as sent: large integers, fractions, exponents and
// strings with escapes are not rounded or re-encoded.
--> {"jsonrpc": "2.0", "method": "subtract", "params": [5, 3], "id": 123456789012345678901234567890}
<-- {"jsonrpc":"2.0","result":2,"id":123456789012345678901234567890}
--> {"jsonrpc": "2.0", "method": "subtract", "params": [5, 3], "id": 9007199254740993}
<-- {"jsonrpc":"2.0","result":2,"id":9007199254740993}
--> {"jsonrpc": "2.0", "method": "subtract", "params": [5, 3], "id": -1.50}
<-- {"jsonrpc":"2.0","result":2,"id":-1.50}
--> {"jsonrpc": "2.0", "method": "subtract", "params": [5, 3], "id": 0.1000000000000000055511151231257827}
<-- {"jsonrpc":"2.0","result":2,"id":0.1000000000000000055511151231257827}
--> {"jsonrpc": "2.0", "method": "subtract", "params": [5, 3], "id": 1e3}
<-- {"jsonrpc":"2.0","result":2,"id":1e3}
--> {"jsonrpc": "2.0", "method": "subtract", "params": [5, 3], "id": -0}
<-- {"jsonrpc":"2.0","result":2,"id":-0}
--> {"jsonrpc": "2.0", "method": "subtract", "params": [5, 3], "id": "a\"b\u00e9"}
<-- {"jsonrpc":"2.0","result":2,"id":"a\"b\u00e9"}
--> {"jsonrpc": "2.0", "method": "subtract", "params": [5, 3], "id": ""}
<-- {"jsonrpc":"2.0","result":2,"id":""}
// Errors echo the id exactly too.
--> {"jsonrpc": "2.0", "method": "foobar", "id": 98765432109876543210.5}
<-- {"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":98765432109876543210.5}
