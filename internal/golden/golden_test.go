package golden

import (
	"fmt"
	"testing"
)

// quietTB records SameJSON's complaints instead of failing the test.
type quietTB struct {
	testing.TB
	errs []string
}

func (q *quietTB) Helper() {}
func (q *quietTB) Errorf(format string, args ...any) {
	q.errs = append(q.errs, fmt.Sprintf(format, args...))
}

// Regression: SameJSON decoded strings before comparing, so an id echoed
// as "A" instead of "\u0041" passed, although Warden promises ids byte for
// byte.
func TestSameJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b string
		same bool
	}{
		{"key order and white space", `{"jsonrpc":"2.0","result":{"x":1,"y":[1, 2]},"id":1}`,
			`{ "id":1, "result":{"y":[1,2],"x":1}, "jsonrpc":"2.0" }`, true},
		{"numbers by their text", `{"jsonrpc":"2.0","result":1.0,"id":1}`, `{"jsonrpc":"2.0","result":1,"id":1}`, false},
		{"string id escaped and not", `{"jsonrpc":"2.0","result":1,"id":"\u0041"}`, `{"jsonrpc":"2.0","result":1,"id":"A"}`, false},
		{"string id escapes differ", `{"jsonrpc":"2.0","result":1,"id":"\u00e9"}`, `{"jsonrpc":"2.0","result":1,"id":"\u00E9"}`, false},
		{"string id same bytes", `{"jsonrpc":"2.0","result":1,"id":"a\"b\u00e9"}`, `{"id":"a\"b\u00e9","jsonrpc":"2.0","result":1}`, true},
		{"error id", `{"jsonrpc":"2.0","error":{"code":1,"message":"m"},"id":"\/"}`,
			`{"jsonrpc":"2.0","error":{"code":1,"message":"m"},"id":"/"}`, false},
		{"ids in a batch", `[{"jsonrpc":"2.0","result":1,"id":"A"},{"jsonrpc":"2.0","result":1,"id":"\u0042"}]`,
			`[{"jsonrpc":"2.0","result":1,"id":"A"},{"jsonrpc":"2.0","result":1,"id":"B"}]`, false},
		{"ids in a batch, same", `[{"jsonrpc":"2.0","result":1,"id":"A"}, {"jsonrpc":"2.0","result":1,"id":null}]`,
			`[{"id":"A","jsonrpc":"2.0","result":1},{"jsonrpc":"2.0","result":1,"id":null}]`, true},
		{"strings elsewhere decode", `{"jsonrpc":"2.0","result":"\u0041","id":1}`, `{"jsonrpc":"2.0","result":"A","id":1}`, true},
		{"a result that is not a response", `{"id":"\u0041"}`, `{"id":"A"}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := &quietTB{TB: t}
			if got := SameJSON(q, tc.a, tc.b); got != tc.same || len(q.errs) != 0 {
				t.Errorf("SameJSON(%s, %s) = %v (complaints %q), want %v", tc.a, tc.b, got, q.errs, tc.same)
			}
			if got := SameJSON(q, tc.b, tc.a); got != tc.same {
				t.Errorf("SameJSON is not symmetric on %s, %s", tc.a, tc.b)
			}
		})
	}
	// Text that is not UTF-8 is not JSON text, whatever encoding/json
	// would make of it.
	q := &quietTB{TB: t}
	if SameJSON(q, "{\"jsonrpc\":\"2.0\",\"result\":\"\xff\",\"id\":1}", `{"jsonrpc":"2.0","result":"\ufffd","id":1}`) || len(q.errs) != 1 {
		t.Errorf("invalid UTF-8 compared equal to U+FFFD (complaints %q)", q.errs)
	}
}
