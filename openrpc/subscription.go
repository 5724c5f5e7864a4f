package openrpc

import (
	"github.com/invopop/jsonschema"
	"github.com/wardenrpc/warden/rpc"
)

// ExtSubscription is the extension on a subscribe method
// ([rpc.Server.RegisterSubscription]) that describes its notifications.
const ExtSubscription = "x-subscription"

// Subscription is the x-subscription extension of a method NS_subscribe:
// its result is a subscription id, and the values follow as notifications
// {"method": Notification, "params": {"subscription": id, "result": value}},
// each value matching Result, until Unsubscribe is called with the id or
// a last notification carries "error" instead of "result".
type Subscription struct {
	Notification string             `json:"notification"`
	Unsubscribe  string             `json:"unsubscribe"`
	Result       *jsonschema.Schema `json:"result"`
}

// addSubscriptions fills in x-subscription on the document's subscribe
// methods, which are methods[i] for doc.Methods[i]. It must run before
// the components are collected: it adds the values' schemas.
func addSubscriptions(doc *Document, methods []*rpc.Method, sc *schemas) {
	for i, m := range methods {
		if info := m.Subscription; info != nil {
			doc.Methods[i].Subscription = &Subscription{
				Notification: info.Notification,
				Unsubscribe:  info.Unsubscribe,
				Result:       sc.schemaFor(info.Value),
			}
		}
	}
}

// subscriptionExtensions declares x-subscription when a method of doc
// carries it.
func subscriptionExtensions(doc *Document) []Extension {
	for _, m := range doc.Methods {
		if m.Subscription != nil {
			return []Extension{subscriptionExtension()}
		}
	}
	return nil
}

// subscriptionExtension declares x-subscription, restricted to method
// objects so that validators check its value.
func subscriptionExtension() Extension {
	return Extension{
		OpenRPCExtension: "0.0.0-development",
		Name:             ExtSubscription,
		Version:          "1.0.0",
		Summary:          "Subscription",
		Description: "Marks a method that opens a subscription, in go-ethereum's wire format: its result is an opaque " +
			"subscription id; values then arrive as notifications whose method is \"notification\" and whose params are " +
			"{\"subscription\": id, \"result\": value}, each value matching \"result\", until the method \"unsubscribe\" " +
			"is called with [id] (it answers true) or a last notification carries {\"subscription\": id, \"error\": " +
			"an error object} instead: -32001 when the credential that opened it expired or was revoked, -32003 when it " +
			"lost a scope, -32005 when the client read too slowly.",
		Restricted: []string{"methodObject"},
		Schema: map[string]any{
			"type":                 "object",
			"required":             []string{"notification", "unsubscribe", "result"},
			"additionalProperties": false,
			"properties": map[string]any{
				"notification": map[string]any{"type": "string", "minLength": 1},
				"unsubscribe":  map[string]any{"type": "string", "minLength": 1},
				"result":       map[string]any{"type": []string{"object", "boolean"}},
			},
		},
	}
}
