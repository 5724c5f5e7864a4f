// Answers are always valid JSON text. An id goes back byte for byte, so an
// id that is not valid Unicode is refused with id null: here, escapes of
// unpaired surrogates, which strict decoders reject. (Invalid UTF-8 bytes
// are refused the same way; see rpc/text_ext_test.go.)
--> {"jsonrpc": "2.0", "method": "subtract", "params": [5, 3], "id": "\ud800"}
<-- {"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"id must be valid Unicode text"},"id":null}
--> {"jsonrpc": "2.0", "method": "subtract", "params": [5, 3], "id": "a\udc00"}
<-- {"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"id must be valid Unicode text"},"id":null}
// A surrogate pair is one character, and comes back as sent.
--> {"jsonrpc": "2.0", "method": "subtract", "params": [5, 3], "id": "\ud83d\ude00"}
<-- {"jsonrpc":"2.0","result":2,"id":"\ud83d\ude00"}
// A method name must be valid Unicode too; the id is fine, so the answer
// carries it.
--> {"jsonrpc": "2.0", "method": "subtract\udc00", "params": [5, 3], "id": 1}
<-- {"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"method must be valid Unicode text"},"id":1}
// Only space, tab, CR and LF are white space. A form feed (before the
// message here) is not.
--> {"jsonrpc": "2.0", "method": "subtract", "params": [5, 3], "id": 1}
<-- {"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}
