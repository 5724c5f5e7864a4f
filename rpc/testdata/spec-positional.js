// JSON-RPC 2.0 specification, section 7: rpc call with positional parameters.
--> {"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}
<-- {"jsonrpc":"2.0","result":19,"id":1}
--> {"jsonrpc": "2.0", "method": "subtract", "params": [23, 42], "id": 2}
<-- {"jsonrpc":"2.0","result":-19,"id":2}
