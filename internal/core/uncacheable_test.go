package core_test

import (
	"net/http"
	"testing"

	"github.com/protocors/protocors/internal/core"
)

// The sentence explain prints and the gateway logs at Debug, for each kind
// of conflict, and the conflict of one request between two engines.
func TestUncacheableReason(t *testing.T) {
	t.Parallel()
	compile := func(c core.Config) *core.Engine {
		t.Helper()
		e, err := core.Compile(c)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	admin := core.Config{Origins: []string{"https://admin.example.com", "https://*.ops.example.com"}, AllowHeaders: []string{"X-Trace"}, ProtocolHeaders: []string{"Content-Type"}, Credentials: true, MaxAge: 300}
	shop := compile(core.Config{Origins: []string{"https://shop.example.com"}, MaxAge: 300})
	tests := []struct {
		name  string
		other *core.Engine
		c     core.CacheConflict
		want  string
	}{
		{"no CORS", nil, core.GrantsBeyond(admin, nil),
			"Access-Control-Max-Age: 0 (the browser may not cache this answer): the mux also runs shop.v1.OrderService.GetOrder for GET /v1/orders/{id} at this URL, and its policy has no CORS policy; a cached answer would let the page send it a GET without a new preflight"},
		{"everything", shop, core.GrantsBeyond(admin, shop),
			"Access-Control-Max-Age: 0 (the browser may not cache this answer): the mux also runs shop.v1.OrderService.GetOrder for GET /v1/orders/{id} at this URL, and its policy does not allow origins https://admin.example.com, https://*.ops.example.com, headers X-Trace, Content-Type or credentials; a cached answer would let the page send it a GET without a new preflight"},
		{"one origin of a request", shop, core.RequestConflict(compile(admin), shop, &core.Request{Method: http.MethodPost, Origin: "https://admin.example.com"}),
			"Access-Control-Max-Age: 0 (the browser may not cache this answer): the mux also runs shop.v1.OrderService.GetOrder for GET /v1/orders/{id} at this URL, and its policy does not allow origin https://admin.example.com or credentials; a cached answer would let the page send it a GET without a new preflight"},
	}
	for _, tt := range tests {
		if got := core.UncacheableReason("shop.v1.OrderService.GetOrder", "GET /v1/orders/{id}", tt.c); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
	// The same policy allows everything it grants: no conflict.
	if c := core.GrantsBeyond(admin, compile(admin)); !c.Empty() {
		t.Errorf("a policy conflicts with itself: %s", c)
	}
}
