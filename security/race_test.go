//go:build race

package security

// raceEnabled is true under -race, where scrypt at the default cost takes
// tens of seconds; tests that need that cost skip.
const raceEnabled = true
