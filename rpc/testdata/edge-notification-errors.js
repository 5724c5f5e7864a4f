// A notification gets no response, even when it fails.
--> {"jsonrpc": "2.0", "method": "subtract", "params": ["a"]}
--> {"jsonrpc": "2.0", "method": "subtract", "params": [1, 2, 3]}
--> {"jsonrpc": "2.0", "method": "no_such_method", "params": [1]}
--> [{"jsonrpc": "2.0", "method": "subtract", "params": {"x": 1}}, {"jsonrpc": "2.0", "method": "foobar"}]
// In a batch, only the calls answer.
--> [{"jsonrpc": "2.0", "method": "subtract", "params": ["a"]}, {"jsonrpc": "2.0", "method": "subtract", "params": [3, 1], "id": 1}]
<-- [{"jsonrpc":"2.0","result":2,"id":1}]
