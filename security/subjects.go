package security

import (
	"strconv"
	"strings"
	"time"
)

// A subject's revocation ends every token issued to the subject before a
// moment: what deleting a user, disabling one or changing a password
// needs. It travels through the same [RevocationLog] as token and family
// revocations, so every store and every instance's [RevocationCache]
// carries it without a schema of its own: its id is
// "subject:<unix milliseconds>:<subject>". Token and family ids are
// base64url and never start so.
const subjectPrefix = "subject:"

// subjectRevocationID is the id that revokes every token of subject
// issued before before.
func subjectRevocationID(subject string, before time.Time) string {
	return subjectPrefix + strconv.FormatInt(before.UnixMilli(), 10) + ":" + subject
}

// parseSubjectRevocation reads an id made by subjectRevocationID.
func parseSubjectRevocation(id string) (subject string, before time.Time, ok bool) {
	rest, ok := strings.CutPrefix(id, subjectPrefix)
	if !ok {
		return "", time.Time{}, false
	}
	ms, subject, ok := strings.Cut(rest, ":")
	if !ok || subject == "" {
		return "", time.Time{}, false
	}
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return "", time.Time{}, false
	}
	return subject, time.UnixMilli(n), true
}

// subjectIndex is the latest cutoff of each revoked subject, with when it
// may be forgotten. The zero value is ready to use; it is not safe for
// concurrent use.
type subjectIndex map[string]subjectCutoff

type subjectCutoff struct{ before, until time.Time }

// add records a revocation if it is a subject's.
func (x *subjectIndex) add(id string, until time.Time) {
	subject, before, ok := parseSubjectRevocation(id)
	if !ok {
		return
	}
	if *x == nil {
		*x = subjectIndex{}
	}
	old := (*x)[subject]
	if before.After(old.before) {
		old.before = before
	}
	if until.After(old.until) {
		old.until = until
	}
	(*x)[subject] = old
}

// revoked reports whether a token of subject issued at iat is revoked at
// now. iat is compared to the millisecond, as tokens carry it: a float
// number of seconds that does not come back exactly.
func (x subjectIndex) revoked(subject string, iat, now time.Time) bool {
	c, ok := x[subject]
	return ok && !now.After(c.until) && iat.Round(time.Millisecond).Before(c.before)
}

// sweep forgets cutoffs past their until.
func (x subjectIndex) sweep(now time.Time) {
	for s, c := range x {
		if now.After(c.until) {
			delete(x, s)
		}
	}
}
