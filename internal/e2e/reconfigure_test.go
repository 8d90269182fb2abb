package e2e_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/examples/icecream/shop"
	"github.com/protocors/protocors/gateway"
)

// TestReconfigureInBrowser: a page on origin B calls an RPC whose policy
// names the origin set "partners" and is refused; the server reconfigures
// the running middleware with B added to the set, and the same page's same
// call succeeds; B removed again, it is refused again. No restart, no new
// page.
//
// The preflight cache: the policy says max_age_seconds: 0, which asks the
// browser not to cache preflight answers, so each step is preflighted
// afresh and the test checks that it was. (A refused preflight is never
// cached: the Fetch standard's CORS-preflight cache only holds successful
// answers, so the refused-then-allowed step works whatever the max age.
// The 0 matters for the last step, where a cached grant would let the
// browser skip the preflight; TestReconfigureExampleFactory covers that
// case with the example's 600 s.)
func TestReconfigureInBrowser(t *testing.T) {
	inEachEngine(t, func(t *testing.T, s *suite) {
		const template = "/v1/orders/{id}:ship"
		policy := &corspb.Policy{AllowOriginSets: []string{"partners"}, MaxAgeSeconds: proto.Uint32(0)}
		options := func(partners ...string) []gateway.Option {
			// Reconfigure replaces the whole configuration: every option, every time.
			return []gateway.Option{
				protocors.WithFiles(new(protoregistry.Files)),
				gateway.WithRoute("POST", template, policy),
				protocors.WithOriginSet("partners", partners...),
			}
		}
		mw, err := gateway.New(options(s.page)...)
		if err != nil {
			t.Fatal(err)
		}
		var runs atomic.Int32
		mux := runtime.NewServeMux()
		if err := mux.HandlePath("POST", template, func(w http.ResponseWriter, _ *http.Request, p map[string]string) {
			runs.Add(1)
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"shipped":%q}`, p["id"])
		}); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var preflights []int // status of each preflight, in order
		h := mw.Handler(mux)
		api, err := s.serve("127.0.0.1:0", "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sw := &statusWriter{ResponseWriter: w}
			h.ServeHTTP(sw, r)
			if r.Method == http.MethodOptions {
				mu.Lock()
				preflights = append(preflights, sw.code())
				mu.Unlock()
			}
		}))
		if err != nil {
			t.Fatal(err)
		}
		lastPreflight := func() (n, status int) {
			mu.Lock()
			defer mu.Unlock()
			if len(preflights) == 0 {
				return 0, 0
			}
			return len(preflights), preflights[len(preflights)-1]
		}

		p := s.tab(t, s.refused) // origin B
		ship := fetchSpec{URL: api + "/v1/orders/42:ship", Method: "POST",
			Headers: map[string]string{"Content-Type": "application/json"}, Body: `{}`}
		step := func(name, outcome string, runsWant int32, preflightWant int) {
			t.Helper()
			before, _ := lastPreflight()
			o := eval(t, p, "fetch", ship)
			n, status := lastPreflight()
			if o.Outcome != outcome {
				t.Fatalf("%s: page saw %v, want %s", name, o, outcome)
			}
			if got := runs.Load(); got != runsWant {
				t.Errorf("%s: handler ran %d times in all, want %d", name, got, runsWant)
			}
			if n != before+1 || status != preflightWant {
				t.Errorf("%s: %d new preflights, last answered %d; want 1 answered %d (max age 0: no cache)", name, n-before, status, preflightWant)
			}
		}

		step("B not in the set", "blocked", 0, http.StatusForbidden)

		if err := mw.Reconfigure(options(s.page, s.refused)...); err != nil {
			t.Fatal(err)
		}
		step("B added", "allowed", 1, http.StatusNoContent)

		if err := mw.Reconfigure(options(s.page)...); err != nil {
			t.Fatal(err)
		}
		step("B removed", "blocked", 1, http.StatusForbidden)

		// A configuration New would refuse changes nothing.
		if err := mw.Reconfigure(options(s.page, s.refused+"/")...); err == nil {
			t.Fatal("Reconfigure accepted an origin with a path")
		}
		step("after a refused Reconfigure", "blocked", 1, http.StatusForbidden)
	})
}

// TestReconfigureExampleFactory: the example's RestockIceCream allows the
// "factory" origin set only. A page on origin B is refused over Connect and
// over the gateway; the example reconfigures (as its -config reload does)
// with B in the factory set, and the same page restocks through both; B
// removed, it is refused again and the stock no longer moves.
//
// The preflight cache: the example's policy has max_age_seconds: 600, which
// this test keeps on purpose. Refused preflights are never cached, so the
// second step needs no wait. In the third the browser may reuse the grants
// of the second and send the POSTs without a preflight: the middlewares'
// cross-origin protection refuses them before the handler (403, no CORS
// headers), so the page is blocked and the stock unchanged either way.
func TestReconfigureExampleFactory(t *testing.T) {
	inEachEngine(t, func(t *testing.T, s *suite) {
		api, err := shop.NewAPI(shop.NewStore(), []string{s.page}, nil, slog.New(slog.DiscardHandler), false)
		if err != nil {
			t.Fatal(err)
		}
		apiURL, err := s.serve("127.0.0.1:0", "127.0.0.1", api)
		if err != nil {
			t.Fatal(err)
		}
		stock := func() string {
			t.Helper()
			res, err := http.Get(apiURL + "/v1/icecream/vanilla")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			return lookup(body, "iceCream.scoops")
		}
		calls := map[string]fetchSpec{
			"connect": connectJSON(apiURL, "RestockIceCream", `{"flavor":"vanilla","scoops":1}`, nil),
			"gateway": {URL: apiURL + "/v1/icecream/vanilla:restock", Method: "POST", Body: `{"scoops":1}`,
				Headers: map[string]string{"Content-Type": "application/json"}},
		}
		p := s.tab(t, s.refused) // origin B
		step := func(name, outcome, stockWant string) {
			t.Helper()
			for _, via := range []string{"connect", "gateway"} {
				if o := eval(t, p, "fetch", calls[via]); o.Outcome != outcome || (outcome == "allowed" && o.Status != http.StatusOK) {
					t.Errorf("%s, %s: page saw %v, want %s", name, via, o, outcome)
				}
			}
			if got := stock(); got != stockWant {
				t.Errorf("%s: vanilla has %s scoops, want %s", name, got, stockWant)
			}
		}

		step("factory set empty", "blocked", "10")

		if err := api.Reconfigure([]string{s.page}, map[string][]string{shop.SetFactory: {s.refused}}); err != nil {
			t.Fatal(err)
		}
		step("B in the factory set", "allowed", "12")

		if err := api.Reconfigure([]string{s.page}, nil); err != nil {
			t.Fatal(err)
		}
		step("B removed", "blocked", "12")
	})
}

// TestExamplePageAfterReload: the example reconfigured at run time (as its
// -config reload does) with the page's own origin in the factory set; the
// page, loaded after the reload, shows the set's members and expects, and
// gets, its RestockIceCream calls allowed.
func TestExamplePageAfterReload(t *testing.T) {
	inEachEngine(t, func(t *testing.T, s *suite) {
		ex := startExample(t)
		if err := ex.Reconfigure(nil, map[string][]string{shop.SetFactory: {ex.PageURL}}); err != nil {
			t.Fatal(err)
		}

		p, rows := runExamplePage(t, s, ex.PageURL)
		for id, outcome := range map[string]string{"connect-restock": "allowed", "gateway-restock": "allowed", "gateway-restock-simple": "ran"} {
			if rows[id].Outcome != outcome {
				t.Errorf("%s: page shows %s, want %s:\n%s", id, rows[id].Outcome, outcome, rows[id].Text)
			}
		}
		for id, r := range rows {
			if strings.Contains(r.Text, "unexpected") {
				t.Errorf("%s: %s", id, r.Text)
			}
		}
		var factory string
		p.run(t, `document.querySelector("#factory").innerText`, &factory)
		if factory != ex.PageURL {
			t.Errorf("page shows factory origins %q, want %s", factory, ex.PageURL)
		}
	})
}
