package e2e_test

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/protocors/protocors/examples/icecream/shop"
)

// TestCredentials sends a cookie the browser holds for the API origin:
// only with credentials: "include" and only to methods that allow
// credentials.
func TestCredentials(t *testing.T) {
	inEachEngine(t, func(t *testing.T, s *suite) {
		p := s.tab(t, s.page)
		// The browser holds a cookie for the API's host, as if the API had set
		// it at login. The calls go to the API's same-site origin
		// (localhost:<api port>): cross-origin, so CORS applies, but first-party
		// for cookies.
		p.setCookie(t, s.apiSameSite, "customer", "alice")

		api := s.apiSameSite
		put := func(flavor string) fetchSpec {
			return connectJSON(api, "PutIceCream", `{"flavor":"`+flavor+`","scoops":1}`, nil)
		}
		withCredentials := func(f fetchSpec) fetchSpec { f.Credentials = "include"; return f }

		t.Run("fetch with credentials", func(t *testing.T) {
			o := eval(t, p, "fetch", withCredentials(put("cookie-1")))
			want{outcome: "allowed", status: 200, fields: map[string]any{"customer": "alice"}, exposed: true}.check(t, s, o)
		})
		t.Run("fetch without credentials sends no cookie", func(t *testing.T) {
			o := eval(t, p, "fetch", put("cookie-2"))
			want{outcome: "allowed", status: 200, fields: map[string]any{"customer": "<missing>"}}.check(t, s, o)
		})
		t.Run("Connect client with credentials", func(t *testing.T) {
			o := eval(t, p, "call", callSpec{API: api, Kind: "connect-json", Method: "putIceCream",
				Request: map[string]any{"flavor": "cookie-3", "scoops": 1}, Credentials: true})
			want{outcome: "allowed", fields: map[string]any{"customer": "alice"}, exposed: true}.check(t, s, o)
		})
		t.Run("gateway PUT with credentials", func(t *testing.T) {
			o := eval(t, p, "fetch", fetchSpec{URL: api + "/v1/icecream/cookie-4", Method: "PUT", Credentials: "include",
				Headers: map[string]string{"Content-Type": "application/json"}, Body: `{"scoops":1}`})
			want{outcome: "allowed", status: 200, fields: map[string]any{"customer": "alice"}, exposed: true}.check(t, s, o)
		})
		// A credentialed response needs Access-Control-Allow-Credentials: true,
		// which only methods that allow credentials get.
		t.Run("credentials on a method without allow_credentials", func(t *testing.T) {
			o := eval(t, p, "fetch", withCredentials(connectJSON(api, "ListIceCreams", `{}`, nil)))
			want{outcome: "blocked"}.check(t, s, o)
		})
		t.Run("gateway GET with credentials on a method without allow_credentials", func(t *testing.T) {
			o := eval(t, p, "fetch", fetchSpec{URL: api + "/v1/icecream/vanilla", Credentials: "include"})
			want{outcome: "blocked"}.check(t, s, o)
		})

		// A cookie set by the API's own response (a login), then sent back
		// on the page's next credentialed call. Same-site, both engines keep
		// it. Across sites (the API on 127.0.0.1, the page on localhost) it
		// is a third-party cookie, and the engines differ: Chromium does not
		// keep it; Firefox keeps it, partitioned under the page's site
		// (Total Cookie Protection), and sends it back to that API from that
		// site. These run last: the same-site login replaces alice.
		login := startLoginAPI(t, s)
		for _, tt := range []struct {
			name, api, customer, sent string
		}{{
			name: "cookie a cross-site response set", api: login, customer: "carol",
			sent: byEngine(t, s, map[string]string{"chromium": "<missing>", "firefox": "carol"}),
		}, {
			name: "cookie a same-site response set", api: strings.Replace(login, "127.0.0.1", "localhost", 1), customer: "dave",
			sent: "dave",
		}} {
			t.Run(tt.name, func(t *testing.T) {
				o := eval(t, p, "fetch", fetchSpec{URL: tt.api + "/login?customer=" + tt.customer, Credentials: "include"})
				want{outcome: "allowed", status: 200}.check(t, s, o)
				o = eval(t, p, "call", callSpec{API: tt.api, Kind: "connect-json", Method: "putIceCream",
					Request: map[string]any{"flavor": "login-" + tt.customer, "scoops": 1}, Credentials: true})
				want{outcome: "allowed", fields: map[string]any{"customer": tt.sent}, exposed: true}.check(t, s, o)
			})
		}
	})
}

// startLoginAPI serves, on a 127.0.0.1 origin of its own, the example API
// (authorizing the suite's page) and /login?customer=NAME, which sets the
// cookie the API reads, with the CORS headers a credentialed fetch from the
// page needs: a stand-in for a login endpoint.
func startLoginAPI(t *testing.T, s *suite) string {
	t.Helper()
	api, err := shop.NewAPI(shop.NewStore(), []string{s.page}, nil, slog.New(slog.DiscardHandler), false)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", api)
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", s.page)
		w.Header().Set("Access-Control-Allow-Credentials", "true")
		w.Header().Set("Vary", "Origin")
		http.SetCookie(w, &http.Cookie{Name: shop.CookieCustomer, Value: r.URL.Query().Get("customer"), Path: "/"})
	})
	url, err := s.serve("127.0.0.1:0", "127.0.0.1", mux)
	if err != nil {
		t.Fatal(err)
	}
	return url
}

// TestRefusedOrigin calls from a page whose origin the API does not
// authorize: the browser hides every answer, and stops preflighted requests
// before they are sent.
func TestRefusedOrigin(t *testing.T) {
	inEachEngine(t, func(t *testing.T, s *suite) {
		p := s.tab(t, s.refused)

		t.Run("Connect JSON POST", func(t *testing.T) {
			o := eval(t, p, "fetch", connectJSON(s.api, "PutIceCream", `{"flavor":"refused-1","scoops":1}`, nil))
			want{outcome: "blocked"}.check(t, s, o)
			o = eval(t, s.tab(t, s.page), "fetch", connectJSON(s.api, "GetIceCream", `{"flavor":"refused-1"}`, nil))
			want{outcome: "allowed", status: 404}.check(t, s, o)
		})
		for _, kind := range []string{"connect-json", "connect-binary", "grpc-web", "connect-get"} {
			t.Run("Connect client "+kind, func(t *testing.T) {
				o := eval(t, p, "call", callSpec{API: s.api, Kind: kind, Method: "getIceCream", Request: map[string]any{"flavor": "vanilla"}})
				want{outcome: "blocked"}.check(t, s, o)
			})
		}
		t.Run("Connect GET is sent but its answer hidden", func(t *testing.T) {
			o := eval(t, p, "fetch", connectGET(s.api, "GetIceCream", `{"flavor":"refused-2"}`))
			want{outcome: "blocked"}.check(t, s, o)
			// A simple request needs no preflight: it reached the API, and only
			// the browser kept the page from reading the answer.
			if !s.seen.reached("GET", "refused-2") {
				t.Error("the simple Connect GET did not reach the API")
			}
		})
		t.Run("gateway GET", func(t *testing.T) {
			o := eval(t, p, "fetch", fetchSpec{URL: s.api + "/v1/icecream/vanilla"})
			want{outcome: "blocked"}.check(t, s, o)
		})
		t.Run("gateway PUT", func(t *testing.T) {
			o := eval(t, p, "fetch", fetchSpec{URL: s.api + "/v1/icecream/refused-3", Method: "PUT",
				Headers: map[string]string{"Content-Type": "application/json"}, Body: `{"scoops":1}`})
			want{outcome: "blocked", notReached: "/v1/icecream/refused-3"}.check(t, s, o)
		})
	})
}
