package security

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wardenrpc/warden/rpc"
)

// The vectors in testdata/passlib-scrypt.txt were made by Python's passlib
// 1.7.4 (Debian package python3-passlib) with
//
//	/usr/bin/python3 security/testdata/passlib-scrypt.py > security/testdata/passlib-scrypt.txt
type vector struct {
	Password string `json:"password"`
	Hash     string `json:"hash"`
}

func readVectors(t *testing.T) []vector {
	t.Helper()
	f, err := os.Open("testdata/passlib-scrypt.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []vector
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var v vector
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if len(out) < 8 {
		t.Fatalf("only %d vectors", len(out))
	}
	return out
}

func testHasher(t testing.TB, opts ...HasherOption) *Hasher {
	t.Helper()
	h, err := NewHasher(append([]HasherOption{WithScryptCost(4, 8, 1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestPasslibVectorsVerify(t *testing.T) {
	h := testHasher(t)
	ctx := context.Background()
	for _, v := range readVectors(t) {
		if slow(v.Hash) {
			continue
		}
		ok, err := h.Verify(ctx, v.Password, v.Hash)
		if err != nil || !ok {
			t.Errorf("Verify(%.20q, %s) = %v, %v; want true", v.Password, v.Hash, ok, err)
		}
		ok, err = h.Verify(ctx, wrong(v.Password), v.Hash)
		if err != nil || ok {
			t.Errorf("Verify(wrong, %s) = %v, %v; want false", v.Hash, ok, err)
		}
	}
}

// slow reports whether checking enc costs tens of seconds under -race.
func slow(enc string) bool {
	return raceEnabled && (strings.Contains(enc, "$ln=17,") || strings.Contains(enc, "$ln=16,"))
}

func skipSlow(t *testing.T) {
	if raceEnabled {
		t.Skip("scrypt at the default cost takes tens of seconds under -race; run without -race")
	}
}

// wrong returns another valid password: one byte longer, or, at the
// limit, with its first (ASCII) byte changed.
func wrong(pw string) string {
	if len(pw) < MaxPasswordBytes {
		return pw + "!"
	}
	return "#" + pw[1:]
}

var formatRE = regexp.MustCompile(`^\$scrypt\$ln=17,r=8,p=1\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$`)

func TestHashFormatAtDefaultCost(t *testing.T) {
	skipSlow(t)
	h, err := NewHasher()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := h.Hash(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	m := formatRE.FindStringSubmatch(a)
	if m == nil {
		t.Fatalf("hash %q is not passlib's format at the default cost", a)
	}
	salt, _ := base64.RawStdEncoding.DecodeString(m[1])
	key, _ := base64.RawStdEncoding.DecodeString(m[2])
	if len(salt) != 16 || len(key) != 32 {
		t.Fatalf("salt %d bytes, key %d bytes; want 16 and 32", len(salt), len(key))
	}
	if h.NeedsRehash(a) {
		t.Error("a fresh default hash needs a rehash")
	}
	if ok, err := h.Verify(ctx, "correct horse", a); !ok || err != nil {
		t.Errorf("Verify = %v, %v", ok, err)
	}
}

func TestHashRoundTripAndSalt(t *testing.T) {
	h := testHasher(t)
	ctx := context.Background()
	a, _ := h.Hash(ctx, "pw")
	b, _ := h.Hash(ctx, "pw")
	if a == b {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	for _, enc := range []string{a, b} {
		if ok, err := h.Verify(ctx, "pw", enc); !ok || err != nil {
			t.Errorf("Verify(%s) = %v, %v", enc, ok, err)
		}
		if ok, _ := h.Verify(ctx, "pW", enc); ok {
			t.Errorf("Verify accepted the wrong password for %s", enc)
		}
	}
}

// TestWardenHashesVerifyInPasslib runs passlib on hashes Warden made. It
// skips when passlib is missing, except in CI (CI=true), which installs it.
func TestWardenHashesVerifyInPasslib(t *testing.T) {
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import passlib.hash").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but passlib is not importable by %s: %v", py, err)
		}
		t.Skipf("passlib is not importable by %s (apt-get install python3-passlib): %v", py, err)
	}
	ctx := context.Background()
	var lines []string
	check := func(h *Hasher, pw string) {
		enc, err := h.Hash(ctx, pw)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(vector{Password: pw, Hash: enc})
		lines = append(lines, string(b))
	}
	low := testHasher(t)
	for _, pw := range []string{"hunter2", "", "pässwörd ✓ 密码", strings.Repeat("y", 1024)} {
		check(low, pw)
	}
	if !raceEnabled {
		def, _ := NewHasher()
		check(def, "default cost")
	}
	script := `
import json, sys
from passlib.hash import scrypt
for line in sys.stdin:
    v = json.loads(line)
    ok = scrypt.verify(v["password"], v["hash"])
    pw = v["password"]
    bad = scrypt.verify("#" + pw[1:] if len(pw.encode()) >= 1024 else pw + "!", v["hash"])
    print("ok" if ok and not bad else "FAIL " + v["hash"])
`
	cmd := exec.Command(py, "-c", script)
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("passlib: %v\n%s", err, out)
	}
	got := strings.Fields(string(out))
	if len(got) != len(lines) {
		t.Fatalf("passlib printed %q for %d hashes", out, len(lines))
	}
	for i, g := range got {
		if g != "ok" {
			t.Errorf("passlib rejected %s", lines[i])
		}
	}
}

func TestPasswordsRefusedBeforeHashing(t *testing.T) {
	h := testHasher(t, WithHashConcurrency(1, 0))
	h.sem <- struct{}{} // every slot busy: reaching scrypt would answer -32005
	defer func() { <-h.sem }()
	ctx := context.Background()
	stored := "$scrypt$ln=4,r=8,p=1$aA1BqFVqzbkX4txby7mXEg$Fjw7HuK0uZ1ofUFcu7AWE8FuQKoQlm+8ZTTBe0n0210"
	for _, tc := range []struct {
		name, pw string
		want     error
	}{
		{"1025 bytes", strings.Repeat("a", 1025), ErrPasswordTooLong},
		{"1 MiB", strings.Repeat("a", 1<<20), ErrPasswordTooLong},
		{"invalid UTF-8", "ab\xffcd", ErrPasswordNotUTF8},
		{"lone surrogate", "\xed\xa0\x80", ErrPasswordNotUTF8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := h.Hash(ctx, tc.pw); !errors.Is(err, tc.want) {
				t.Errorf("Hash: %v; want %v", err, tc.want)
			}
			if _, err := h.Verify(ctx, tc.pw, stored); !errors.Is(err, tc.want) {
				t.Errorf("Verify: %v; want %v", err, tc.want)
			}
			if _, err := h.VerifyDummy(ctx, tc.pw); !errors.Is(err, tc.want) {
				t.Errorf("VerifyDummy: %v; want %v", err, tc.want)
			}
		})
	}
	// 1024 bytes is allowed: it reaches the (busy) hasher.
	if _, err := h.Hash(ctx, strings.Repeat("a", 1024)); !isLimit(err) {
		t.Errorf("1024-byte password: %v; want it to reach the hasher", err)
	}
}

func TestPasswordErrorIsInvalidParams(t *testing.T) {
	var c rpc.Coder
	if !errors.As(error(ErrPasswordTooLong), &c) || c.ErrorCode() != rpc.CodeInvalidParams {
		t.Fatalf("ErrPasswordTooLong is not a -32602 Coder")
	}
	d, ok := ErrPasswordNotUTF8.ErrorData().(rpc.ParamError)
	if !ok || d.Param != "password" {
		t.Fatalf("data = %#v", ErrPasswordNotUTF8.ErrorData())
	}
}

func isLimit(err error) bool {
	var e *rpc.Error
	return errors.As(err, &e) && e.Code == rpc.CodeLimitExceeded
}

func TestConcurrencyCap(t *testing.T) {
	ctx := context.Background()
	h := testHasher(t, WithHashConcurrency(1, 0))
	h.lastNs.Store(int64(1500 * time.Microsecond))
	h.sem <- struct{}{}
	_, err := h.Hash(ctx, "pw")
	var e *rpc.Error
	if !errors.As(err, &e) || e.Code != rpc.CodeLimitExceeded {
		t.Fatalf("Hash with the cap full: %v; want -32005", err)
	}
	if d, ok := e.Data.(rpc.LimitData); !ok || d.RetryAfterMillis != 2 {
		t.Errorf("data = %#v; want retry_after_ms 2", e.Data)
	}
	if _, err := h.VerifyDummy(ctx, "pw"); !isLimit(err) {
		t.Errorf("VerifyDummy with the cap full: %v; want -32005", err)
	}
	<-h.sem
	if _, err := h.Hash(ctx, "pw"); err != nil {
		t.Errorf("Hash after the slot freed: %v", err)
	}

	// With a wait, a slot that frees in time is taken.
	h = testHasher(t, WithHashConcurrency(1, 5*time.Second))
	h.sem <- struct{}{}
	go func() { time.Sleep(20 * time.Millisecond); <-h.sem }()
	if _, err := h.Hash(ctx, "pw"); err != nil {
		t.Errorf("Hash waiting for a slot: %v", err)
	}

	// A cancelled context stops the wait.
	h.sem <- struct{}{}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := h.Hash(cctx, "pw"); !errors.Is(err, context.Canceled) {
		t.Errorf("Hash with a cancelled context: %v", err)
	}
}

func TestVerifyRefusesCostlyHashesWithoutComputing(t *testing.T) {
	h := testHasher(t, WithHashConcurrency(1, 0))
	h.sem <- struct{}{} // computing would answer -32005 instead
	defer func() { <-h.sem }()
	salt, key := "aA1BqFVqzbkX4txby7mXEg", "Fjw7HuK0uZ1ofUFcu7AWE8FuQKoQlm+8ZTTBe0n0210"
	for _, p := range []string{
		"ln=19,r=8,p=1",  // 512 MiB
		"ln=24,r=8,p=1",  // 2 GiB
		"ln=17,r=8,p=16", // 16 times the default work
		"ln=10,r=1000,p=1",
		"ln=31,r=8,p=1",
	} {
		_, err := h.Verify(context.Background(), "pw", "$scrypt$"+p+"$"+salt+"$"+key)
		if !errors.Is(err, ErrHashTooCostly) {
			t.Errorf("%s: %v; want ErrHashTooCostly", p, err)
		}
	}
	// Passlib's own default (ln=16) and twice Warden's memory are within
	// bounds: they reach the busy hasher.
	for _, p := range []string{"ln=16,r=8,p=1", "ln=18,r=8,p=1", "ln=17,r=8,p=4"} {
		_, err := h.Verify(context.Background(), "pw", "$scrypt$"+p+"$"+salt+"$"+key)
		if !isLimit(err) {
			t.Errorf("%s: %v; want it accepted for computing", p, err)
		}
	}
}

func TestMalformedHashes(t *testing.T) {
	h := testHasher(t)
	salt, key := "aA1BqFVqzbkX4txby7mXEg", "Fjw7HuK0uZ1ofUFcu7AWE8FuQKoQlm+8ZTTBe0n0210"
	for _, enc := range []string{
		"",
		"plaintext",
		"$2b$12$abcdefghijklmnopqrstuu",
		"$scrypt$ln=4,r=8,p=1$" + salt,
		"$scrypt$ln=4,r=8,p=1$" + salt + "$" + key + "$",
		"$scrypt$ln=4,r=8$" + salt + "$" + key,
		"$scrypt$r=8,ln=4,p=1$" + salt + "$" + key,
		"$scrypt$ln=0,r=8,p=1$" + salt + "$" + key,
		"$scrypt$ln=-4,r=8,p=1$" + salt + "$" + key,
		"$scrypt$ln=04,r=8,p=1$" + salt + "$" + key,
		"$scrypt$ln=4,r=8,p=1$" + salt + "==$" + key,
		"$scrypt$ln=4,r=8,p=1$" + salt + "$" + key + "=",
		"$scrypt$ln=4,r=8,p=1$" + salt + "$" + strings.ReplaceAll(key, "+", "-"),
		"$scrypt$ln=4,r=8,p=1$$" + key,
		"$scrypt$ln=4,r=8,p=1$" + salt + "$AAAA",
		"$scrypt$ln=4,r=8,p=1$" + salt + "$" + strings.Repeat("A", 300),
		"$scrypt$ln=99999999999999999999,r=8,p=1$" + salt + "$" + key,
	} {
		if _, err := h.Verify(context.Background(), "pw", enc); !errors.Is(err, ErrMalformedHash) {
			t.Errorf("Verify(%q) = %v; want ErrMalformedHash", enc, err)
		}
		if !h.NeedsRehash(enc) {
			t.Errorf("NeedsRehash(%q) = false", enc)
		}
	}
}

func TestNeedsRehash(t *testing.T) {
	def, _ := NewHasher()
	low := testHasher(t)
	vs := readVectors(t)
	for _, v := range vs {
		want := !strings.Contains(v.Hash, "$ln=17,r=8,p=1$")
		if got := def.NeedsRehash(v.Hash); got != want {
			t.Errorf("default hasher: NeedsRehash(%s) = %v; want %v", v.Hash, got, want)
		}
	}
	lowHash, _ := low.Hash(context.Background(), "pw")
	if low.NeedsRehash(lowHash) || !def.NeedsRehash(lowHash) {
		t.Error("a low-cost hash: the low hasher should keep it and the default one rehash it")
	}
}

func TestVerifyDummy(t *testing.T) {
	h := testHasher(t)
	for _, pw := range []string{"", "pw", "hunter2"} {
		if ok, err := h.VerifyDummy(context.Background(), pw); ok || err != nil {
			t.Errorf("VerifyDummy(%q) = %v, %v; want false, nil", pw, ok, err)
		}
	}
	if h.dummy.ln != h.ln || h.dummy.r != h.r || h.dummy.p != h.p || len(h.dummy.key) != keyBytes {
		t.Errorf("the dummy hash does not cost what a real one does: %+v", h.dummy)
	}
}

func TestNewHasherBounds(t *testing.T) {
	for _, c := range [][3]int{{0, 8, 1}, {25, 8, 1}, {17, 0, 1}, {17, 65, 1}, {17, 8, 0}, {17, 8, 17}, {22, 64, 1}} {
		if _, err := NewHasher(WithScryptCost(c[0], c[1], c[2])); err == nil {
			t.Errorf("NewHasher(WithScryptCost%v) succeeded", c)
		}
	}
}
