package gateway_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/gateway"
)

// A cacheable preflight answer that lists a method in
// Access-Control-Allow-Methods lets the browser send that method, with
// the headers the answer grants, without asking again. Differential: every
// listed method, asked for itself with the same origin and headers, must be
// granted too, with the same credentials mode.
func TestAllowMethodsListsOnlyGrantedMethods(t *testing.T) {
	const a, b = "https://a.example", "https://b.example"
	p := func(origins []string, creds bool, headers ...string) *corspb.Policy {
		pol := &corspb.Policy{AllowOrigins: origins, AllowHeaders: headers, MaxAgeSeconds: proto.Uint32(600)}
		if creds {
			pol.AllowCredentials = proto.Bool(true)
		}
		return pol
	}
	base := p([]string{a}, false, "X-A")
	routes := []struct {
		method, template string
		policy           *corspb.Policy
	}{
		{"GET", "/v1/items/{id}", base},
		{"DELETE", "/v1/items/{id}", base},
		{"PUT", "/v1/{name=items/*}", base},
		{"PATCH", "/v1/items/{id}", p([]string{a}, false, "X-A", "X-B")},
		{"LOCK", "/v1/items/{id}", p([]string{a}, true, "X-A")},
		{"POST", "/v1/items/{id}:run", base},
		{"GET", "/v1/{name=**}", p([]string{"*"}, false, "*")},
		{"POST", "/v1/{name=**}", p([]string{a, b}, false, "X-A", "Authorization")},
		{"DELETE", "/v1/{name=things/*}", p([]string{a, b}, false, "X-A", "Authorization")},
		{"PUT", "/v1/things/{id}", p([]string{a, b}, true, "X-A", "Authorization")},
		{"PATCH", "/v1/things/{id}", p([]string{a}, false, "*")},
		{"GET", "/v1/things/{id}", p([]string{a, b}, false, "X-A", "Authorization")},
	}
	opts := []gateway.Option{protocors.WithFiles(new(protoregistry.Files))}
	for _, r := range routes {
		opts = append(opts, gateway.WithRoute(r.method, r.template, r.policy))
	}
	mw, err := gateway.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	h := mw.Handler(http.NotFoundHandler())
	others := 0 // listed methods besides the asked one: the test must see some
	paths := []string{"/v1/items/7", "/v1/items/7:run", "/v1/things/7", "/v1/other", "/v1/x/y/z"}
	methods := []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "LOCK"}
	headerSets := [][]string{nil, {"Content-Type"}, {"X-A"}, {"X-B"}, {"Authorization"}, {"Content-Type", "X-A"}, {"X-C"}}
	for _, path := range paths {
		for _, asked := range methods {
			for _, origin := range []string{a, b} {
				for _, hs := range headerSets {
					w := sendPreflight(h, path, asked, origin, hs...)
					if w.Code != http.StatusNoContent || w.Header().Get("Access-Control-Max-Age") == "0" {
						continue
					}
					what := fmt.Sprintf("%s preflight for %s from %s with %q", path, asked, origin, hs)
					creds := w.Header().Get("Access-Control-Allow-Credentials")
					for _, m := range strings.Split(w.Header().Get("Access-Control-Allow-Methods"), ",") {
						m = strings.TrimSpace(m)
						if m == asked {
							continue
						}
						others++
						o := sendPreflight(h, path, m, origin, hs...)
						if o.Code != http.StatusNoContent {
							t.Errorf("%s lists %s, whose own preflight is refused (%d)", what, m, o.Code)
						} else if c := o.Header().Get("Access-Control-Allow-Credentials"); c != creds {
							t.Errorf("%s lists %s with credentials %q; %s's answer says %q", what, m, creds, m, c)
						}
					}
				}
			}
		}
	}
	if others == 0 {
		t.Fatal("no cacheable answer listed another method: the routes no longer exercise sibling grouping")
	}
}
