package gateway_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/gateway"
)

// The search trie keys a custom verb after a variable whole
// ("/v1/{name=things/*}:cancel") and proves such a match by the walk alone.
// Exhaustively over short paths, in every unescaping mode, the route whose
// policy the middleware applies is the one the real mux runs, where verb
// routes overlap literals, variables and deep wildcards of one method.
func TestVerbRoutesMatchTheMux(t *testing.T) {
	routes := []struct{ method, template string }{ // broadest first: the mux tries the last registered first
		{"POST", "/v1/{x=*}"},
		{"POST", "/v1/{name=things/**}:run"},
		{"POST", "/v1/things/{id}"},
		{"POST", "/v1/{a}/{b}:cancel"},
		{"POST", "/v1/{name=things/*}:cancel"},
		{"POST", "/v1/things/{id}:x:cancel"},
		{"POST", "/v1/things/special:cancel"},
		{"POST", "/v1/things/{id}/parts/{part}"},
		{"POST", "/v1/{name=things/*/parts/*}:cancel"},
		{"POST", "/v1/things:cancel"},
	}
	comps := []string{"things", "t1", "t1:cancel", ":cancel", "special:cancel", "parts", "p:run", "x:cancel:cancel",
		"a%2Fb:cancel", "%2F", "%zz:cancel", "things:cancel", "", "t:x:cancel"}
	var paths []string
	var walk func(prefix string, depth int)
	walk = func(prefix string, depth int) {
		paths = append(paths, prefix)
		if depth == 5 {
			return
		}
		for _, c := range comps {
			walk(prefix+"/"+c, depth+1)
		}
	}
	walk("/v1", 1)
	for _, mode := range diffModes {
		mux := runtime.NewServeMux(runtime.WithUnescapingMode(mode))
		opts := []gateway.Option{protocors.WithFiles(new(protoregistry.Files)), gateway.WithUnescapingMode(mode)}
		for i, rt := range routes {
			ran := strconv.Itoa(i)
			if err := mux.HandlePath(rt.method, rt.template, func(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
				w.Header().Set(diffRanHeader, ran)
			}); err != nil {
				t.Fatal(err)
			}
			opts = append(opts, gateway.WithRoute(rt.method, rt.template, &corspb.Policy{
				AllowOrigins: []string{diffOrigin}, ExposeHeaders: []string{"X-Route-" + ran},
			}))
		}
		mw, err := gateway.New(opts...)
		if err != nil {
			t.Fatal(err)
		}
		h := mw.Handler(mux)
		bad, matched := 0, map[string]bool{}
		for _, p := range paths {
			r := httptest.NewRequest(http.MethodPost, "http://api.example/", nil)
			u, err := url.ParseRequestURI(p)
			if err != nil {
				u = &url.URL{Path: p, RawPath: p}
			}
			r.URL, r.RequestURI = u, p
			r.Header.Set("Origin", diffOrigin)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			ran := w.Header().Get(diffRanHeader)
			applied := ""
			if v := w.Header().Get("Access-Control-Expose-Headers"); v != "" {
				for _, n := range strings.Split(v, ",") {
					if s, ok := strings.CutPrefix(strings.TrimSpace(n), "X-Route-"); ok {
						applied = s
					}
				}
			}
			matched[ran] = true
			if ran != applied && bad < 10 {
				bad++
				t.Errorf("mode %d: POST %s: the mux ran route %q (status %d), the middleware applied %q", mode, p, ran, w.Code, applied)
			}
		}
		if len(matched) != len(routes)+1 {
			t.Errorf("mode %d: the paths reached only routes %v (\"\": none): they no longer exercise every route", mode, matched)
		}
	}
}
