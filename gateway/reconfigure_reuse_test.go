package gateway_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/gateway"
)

// Reconfigure reuses the route analysis when only origins change, but what
// the analysis derived from which routes share a policy must follow the new
// origins: two sets bound alike make one policy (no ambiguity, one
// Allow-Methods answer), bound apart they make two.
func TestReconfigureOriginsOnlyFollowsPolicies(t *testing.T) {
	files := specFiles(t, []rpcSpec{
		{service: "AdminService", name: "GetItem", method: "GET", template: "/v1/items/{id}", policy: &corspb.Policy{AllowOriginSets: []string{"admin"}}},
		{service: "AdminService", name: "DeleteItem", method: "DELETE", template: "/v1/items/{id}", policy: &corspb.Policy{AllowOriginSets: []string{"admin"}}},
		{service: "PublicService", name: "Get", method: "GET", template: "/v1/{name=**}", policy: &corspb.Policy{AllowOriginSets: []string{"public"}}},
		{service: "PublicService", name: "Put", method: "PUT", template: "/v1/{name=**}", body: true, policy: &corspb.Policy{AllowOriginSets: []string{"public"}}},
	})
	const a, b = "https://a.example.com", "https://b.example.com"
	opts := func(admin, public string) []gateway.Option {
		return []gateway.Option{protocors.WithFiles(files), protocors.WithOriginSet("admin", admin), protocors.WithOriginSet("public", public)}
	}
	mw, err := gateway.New(opts(a, a)...)
	if err != nil {
		t.Fatalf("sets bound alike: %v", err)
	}
	h := mw.Handler(http.NotFoundHandler())
	allow := func(origin, method string) string {
		w := sendPreflight(h, "/v1/items/7", method, origin)
		if w.Code != http.StatusNoContent {
			return ""
		}
		return w.Header().Get("Access-Control-Allow-Methods")
	}
	if got := allow(a, "PUT"); got != "PUT, GET, DELETE" {
		t.Errorf("one policy: PUT preflight lists %q, want \"PUT, GET, DELETE\"", got)
	}

	// Bound apart, the overlapping routes of two services have two
	// policies: the reused analysis must not hide the ambiguity, and the
	// old configuration stays.
	err = mw.Reconfigure(opts(a, b)...)
	if err == nil || !strings.Contains(err.Error(), "gateway.WithRegistrationOrder") {
		t.Fatalf("Reconfigure to two policies: %v, want the ambiguity", err)
	}
	if got := allow(a, "PUT"); got != "PUT, GET, DELETE" {
		t.Errorf("after a refused Reconfigure: PUT preflight lists %q", got)
	}

	// Declared, the two policies answer apart.
	err = mw.Reconfigure(append(opts(a, b), gateway.WithRegistrationOrder("same.v1.PublicService", "same.v1.AdminService"))...)
	if err != nil {
		t.Fatal(err)
	}
	if got := allow(b, "PUT"); got != "PUT" {
		t.Errorf("two policies: PUT preflight from the public origin lists %q, want \"PUT\"", got)
	}
	if got := allow(a, "DELETE"); got != "DELETE, GET" {
		t.Errorf("two policies: DELETE preflight from the admin origin lists %q, want \"DELETE, GET\"", got)
	}
	if got := allow(a, "PUT"); got != "" {
		t.Errorf("two policies: PUT preflight from the admin origin granted %q", got)
	}

	// Origins only, alike again: the new origin is granted, the old not.
	const c = "https://c.example.com"
	if err := mw.Reconfigure(append(opts(c, c), gateway.WithRegistrationOrder("same.v1.PublicService", "same.v1.AdminService"))...); err != nil {
		t.Fatal(err)
	}
	if got := allow(c, "PUT"); got != "PUT, GET, DELETE" {
		t.Errorf("one policy again: PUT preflight lists %q", got)
	}
	if got := allow(a, "GET"); got != "" {
		t.Errorf("old origin still granted: %q", got)
	}
}
