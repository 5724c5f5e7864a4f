// Package gethtest checks that go-ethereum's rpc.Client works against a
// Warden server unchanged: calls, and subscriptions in geth's wire format.
// It is a module of its own so that go-ethereum stays out of Warden's
// go.mod: run its tests from this directory.
package gethtest
