package gateway_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/gateway"
	"github.com/protocors/protocors/internal/corstest"
	testv1 "github.com/protocors/protocors/internal/gen/protocors/test/v1"
)

// Review of the shared request path: findings of a second attacker's look.

// The gateway's Reconfigure accepted a configuration without routes the
// running one served (a descriptor source lacking a service, a WithRoute
// left out). The mux cannot unregister a handler, so it kept serving those
// routes, and the middleware, which no longer knew them, let a cross-site
// text/plain POST run CreateGadget, whose policy allows only
// https://admin.example.com. The interceptor refuses the same mistake for
// the services mounted with Wrap.
func TestReconfigureKeepsRoutes(t *testing.T) {
	mw, err := gateway.New() // every test service, from GlobalFiles
	if err != nil {
		t.Fatal(err)
	}
	h := mw.Handler(gatewayMux(t))
	attack := func() int {
		r := httptest.NewRequest("POST", "https://api.example.com/v1/gadgets/g1", strings.NewReader(`{"name":"g1"}`))
		r.Header.Set("Origin", evil)
		r.Header.Set("Sec-Fetch-Site", "cross-site")
		r.Header.Set("Content-Type", "text/plain")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	if got := attack(); got != http.StatusForbidden {
		t.Fatalf("before Reconfigure: %d, want 403", got)
	}
	// test.proto and nopolicy.proto, without gateway.proto's GadgetService.
	err = mw.Reconfigure(protocors.WithFiles(corstest.Registry(t, testv1.File_protocors_test_v1_test_proto, testv1.File_protocors_test_v1_nopolicy_proto)))
	var cfgErr *protocors.Error
	if !errors.As(err, &cfgErr) {
		t.Errorf("Reconfigure without served routes: %v, want a *protocors.Error", err)
	} else {
		for _, want := range []string{
			"protocors.test.v1.GadgetService.CreateGadget: google.api.http \"POST /v1/gadgets/{name}\": ",
			"protocors.test.v1.GadgetService.SearchGadgets: google.api.http \"GET /v1/gadgets:search\": ",
		} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error does not name %q:\n%v", want, err)
			}
		}
	}
	if got := attack(); got != http.StatusForbidden {
		t.Errorf("after Reconfigure: %d, want 403", got)
	}
	// A Reconfigure that keeps every route (and adds one) is fine.
	if err := mw.Reconfigure(gateway.WithRoute("POST", "/v1/extra", nil)); err != nil {
		t.Errorf("Reconfigure keeping every route: %v", err)
	}
	// A WithRoute left out is a dropped route too.
	if err := mw.Reconfigure(); err == nil || !strings.Contains(err.Error(), "gateway.WithRoute POST /v1/extra") {
		t.Errorf("Reconfigure without a WithRoute route: %v", err)
	}
}

// The refusal of X-HTTP-Method-Override for another RPC at the URL was
// decided only where the asked route's own policy allowed every requested
// header. A preflight that also asked for a header that policy refuses was
// answered by the asked route's debug answer, which lists the requested
// headers it allows: the override header included, against "a value
// refused because of another RPC at the URL is never listed". (Browsers
// cache no failed preflight, so the listed grant does not let this page
// send it; the debug answer must still not name it.)
func TestDebugNeverListsRefusedOverride(t *testing.T) {
	update := &corspb.Policy{AllowOrigins: []string{pageOrigin}, AllowHeaders: []string{"X-HTTP-Method-Override"}}
	routes := []secRoute{
		{"POST", "/v1/items/{id}", "UpdateItem", update},
		{"DELETE", "/v1/items/{id}", "DeleteItem", &corspb.Policy{AllowOrigins: []string{factoryOrigin}}},
	}
	s := newSecServer(t, routes, protocors.WithDebug(true))
	for _, headers := range []string{"x-http-method-override,x-not-allowed", "content-type,x-not-allowed,x-http-method-override"} {
		w := s.do("OPTIONS", "/v1/items/1", "", "Origin", pageOrigin, "Access-Control-Request-Method", "POST",
			"Access-Control-Request-Headers", headers)
		if slicesContainsFold(w.Header().Values("Access-Control-Allow-Headers"), "x-http-method-override") {
			t.Errorf("%q: the debug answer lists the override header: %d %v", headers, w.Code, w.Header())
		}
	}
	// Where no other RPC refuses, the debug answer still names what the
	// policy allows, the override header among them.
	s = newSecServer(t, routes[:1], protocors.WithDebug(true))
	w := s.do("OPTIONS", "/v1/items/1", "", "Origin", pageOrigin, "Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "x-http-method-override,x-not-allowed")
	if w.Code != 204 || !slicesContainsFold(w.Header().Values("Access-Control-Allow-Headers"), "x-http-method-override") {
		t.Errorf("one RPC at the URL: %d %v, want the debug answer listing the override header", w.Code, w.Header())
	}
}
