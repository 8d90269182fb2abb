package e2e_test

import (
	"log/slog"
	"net/http"
	"sync"
	"testing"

	"github.com/protocors/protocors/examples/icecream/shop"
)

// TestPreflightCache: the example's service policy lets browsers cache a
// preflight's answer for 600 s (max_age_seconds). The page makes the same
// preflighted call (a Connect JSON POST with X-My-Header to PutIceCream)
// three times, against an API of its own so that no earlier test warmed the
// cache. Every call is allowed and every preflight gets the same answer in
// both engines; how many preflights the browser sends is the engine's
// business: Chromium sends one and serves the other calls from its cache;
// Firefox may ask again (it does for its first repeated calls after it
// starts, then serves later ones from its cache), so it may send one per
// call.
func TestPreflightCache(t *testing.T) {
	inEachEngine(t, func(t *testing.T, s *suite) {
		api, err := shop.NewAPI(shop.NewStore(), []string{s.page}, nil, slog.New(slog.DiscardHandler), false)
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var preflights []string // Access-Control-Max-Age of each answer
		url, err := s.serve("127.0.0.1:0", "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			api.ServeHTTP(w, r)
			if r.Method == http.MethodOptions {
				mu.Lock()
				preflights = append(preflights, w.Header().Get("Access-Control-Max-Age"))
				mu.Unlock()
			}
		}))
		if err != nil {
			t.Fatal(err)
		}
		p := s.tab(t, s.page)
		const calls = 3
		for i := range calls {
			o := eval(t, p, "fetch", connectJSON(url, "PutIceCream", `{"flavor":"cached","scoops":1}`, map[string]string{"X-My-Header": "again"}))
			want{outcome: "allowed", status: 200, fields: map[string]any{"myHeader": "again"}}.check(t, s, o)
			if t.Failed() {
				t.Fatalf("call %d failed", i+1)
			}
		}

		mu.Lock()
		defer mu.Unlock()
		for _, age := range preflights {
			if age != "600" {
				t.Errorf("preflight answered with max age %q, want 600: %q", age, preflights)
			}
		}
		limits := byEngine(t, s, map[string][2]int{"chromium": {1, 1}, "firefox": {1, calls}})
		if n := len(preflights); n < limits[0] || n > limits[1] {
			t.Errorf("%s sent %d preflights for %d identical calls, want %d to %d", s.engine.name, n, calls, limits[0], limits[1])
		}
		t.Logf("%s sent %d preflights for %d identical calls", s.engine.name, len(preflights), calls)
	})
}
