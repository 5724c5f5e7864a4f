// Command wsclient is the README's WebSocket session with the auth example:
// it opens a connection without any header, signs in on it, and calls
// require_token, which the connection now carries a token for.
//
//	go run ./examples/auth/wsclient -u email@test.com -p password
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"time"

	"github.com/wardenrpc/warden/transport"
)

func main() {
	url := flag.String("url", "ws://127.0.0.1:8080/api/v1", "the server's WebSocket URL")
	user := flag.String("u", "email@test.com", "username")
	password := flag.String("p", "password", "password")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	c, err := transport.Dial(ctx, *url) // no Authorization header
	if err != nil {
		log.Fatal(err)
	}
	var pair struct {
		TokenType string `json:"token_type"`
		ExpiresIn int    `json:"expires_in"`
	}
	if err := c.Call(ctx, "sign_in", []string{*user, *password}, &pair); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("signed in: %s token, %d s\n", pair.TokenType, pair.ExpiresIn)
	var me struct {
		Username string `json:"username"`
	}
	if err := c.Call(ctx, "require_token", nil, &me); err != nil {
		log.Fatal(err)
	}
	fmt.Println("require_token:", me.Username)
	// Closed here, not deferred: log.Fatal skips deferred calls.
	if err := c.Close(); err != nil {
		log.Fatal(err)
	}
}
