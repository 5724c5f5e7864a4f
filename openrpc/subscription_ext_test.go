package openrpc_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/wardenrpc/warden/internal/openrpctest"
	"github.com/wardenrpc/warden/openrpc"
	"github.com/wardenrpc/warden/rpc"
)

// AuditEvent is a subscription's value in these tests.
type AuditEvent struct {
	Type     string    `json:"type"`
	Username string    `json:"username"`
	At       time.Time `json:"at"`
}

func subscriptionDoc(t *testing.T) ([]byte, tree) {
	t.Helper()
	srv := rpc.NewServer(rpc.WithScheme("key", keyScheme{}))
	srv.MustRegisterSubscription("audit", func(ctx context.Context, sub *rpc.Subscription[AuditEvent], kinds []string) error {
		<-ctx.Done()
		return nil
	}, rpc.Params("kinds"), rpc.Security(rpc.Require("key", "admin")), rpc.Summary("Audit events as they happen."))
	doc, err := openrpc.Build(srv)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var v tree
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return b, v
}

type keyScheme struct{}

func (keyScheme) Authenticate(context.Context, rpc.Metadata) (rpc.Credential, error) { return nil, nil }
func (keyScheme) Info() rpc.SchemeInfo {
	return rpc.SchemeInfo{Type: "apiKey", In: "header", Name: "X-Key"}
}

func TestSubscriptionDocumented(t *testing.T) {
	_, doc := subscriptionDoc(t)
	ext := at(t, doc, "methods/audit_subscribe/x-subscription").(map[string]any)
	if ext["notification"] != "audit_subscription" || ext["unsubscribe"] != "audit_unsubscribe" {
		t.Errorf("x-subscription: %v", ext)
	}
	if ref := at(t, ext, "result/$ref"); ref != "#/components/schemas/AuditEvent" {
		t.Errorf("the value's schema: %v", ref)
	}
	at(t, doc, "components/schemas/AuditEvent/properties/username")
	if typ := at(t, doc, "methods/audit_subscribe/result/schema/type"); typ != "string" {
		t.Errorf("audit_subscribe answers %v; want the id, a string", typ)
	}
	at(t, doc, "methods/audit_subscribe/params/kinds")
	at(t, doc, "methods/audit_subscribe/x-security")
	if typ := at(t, doc, "methods/audit_unsubscribe/result/schema/type"); typ != "boolean" {
		t.Errorf("audit_unsubscribe answers %v", typ)
	}
	at(t, doc, "methods/audit_unsubscribe/params/subscription")
	declared := false
	for _, e := range at(t, doc, "x-extensions").([]any) {
		declared = declared || e.(map[string]any)["name"] == openrpc.ExtSubscription
	}
	if !declared {
		t.Error("x-subscription is not declared in x-extensions")
	}
}

// schema-utils-js accepts the document, and applies the declared schema:
// a malformed x-subscription is refused.
func TestSubscriptionReferenceToolsAccept(t *testing.T) {
	raw, doc := subscriptionDoc(t)
	if v := openrpctest.Validate(t, raw, true); !v.Valid {
		t.Fatalf("validateOpenRPCDocument: %s", v.Errors)
	}
	at(t, doc, "methods/audit_subscribe/x-subscription").(map[string]any)["notification"] = 42
	raw, _ = json.Marshal(doc)
	if v := openrpctest.Validate(t, raw, false); v.Valid {
		t.Error("a malformed x-subscription was accepted")
	}
}
