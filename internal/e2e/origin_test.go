package e2e_test

import (
	"context"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// TestCredentials sends a cookie the browser holds for the API origin:
// only with credentials: "include" and only to methods that allow
// credentials.
func TestCredentials(t *testing.T) {
	s := browserSuite(t)
	ctx := s.tab(t, s.page)
	// The browser holds a cookie for the API's host, as if the API had set
	// it at login. The calls go to the API's same-site origin
	// (localhost:<api port>): cross-origin, so CORS applies, but first-party
	// for cookies.
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{
			Name: "customer", Value: "alice", URL: s.apiSameSite + "/",
		})
		return err
	})); err != nil {
		t.Fatalf("set cookie: %v", err)
	}

	api := s.apiSameSite
	put := func(flavor string) fetchSpec {
		return connectJSON(api, "PutIceCream", `{"flavor":"`+flavor+`","scoops":1}`, nil)
	}
	withCredentials := func(f fetchSpec) fetchSpec { f.Credentials = "include"; return f }

	t.Run("fetch with credentials", func(t *testing.T) {
		o := eval(t, ctx, "fetch", withCredentials(put("cookie-1")))
		want{outcome: "allowed", status: 200, fields: map[string]any{"customer": "alice"}, exposed: true}.check(t, s, o)
	})
	t.Run("fetch without credentials sends no cookie", func(t *testing.T) {
		o := eval(t, ctx, "fetch", put("cookie-2"))
		want{outcome: "allowed", status: 200, fields: map[string]any{"customer": "<missing>"}}.check(t, s, o)
	})
	t.Run("Connect client with credentials", func(t *testing.T) {
		o := eval(t, ctx, "call", callSpec{API: api, Kind: "connect-json", Method: "putIceCream",
			Request: map[string]any{"flavor": "cookie-3", "scoops": 1}, Credentials: true})
		want{outcome: "allowed", fields: map[string]any{"customer": "alice"}, exposed: true}.check(t, s, o)
	})
	t.Run("gateway PUT with credentials", func(t *testing.T) {
		o := eval(t, ctx, "fetch", fetchSpec{URL: api + "/v1/icecream/cookie-4", Method: "PUT", Credentials: "include",
			Headers: map[string]string{"Content-Type": "application/json"}, Body: `{"scoops":1}`})
		want{outcome: "allowed", status: 200, fields: map[string]any{"customer": "alice"}, exposed: true}.check(t, s, o)
	})
	// A credentialed response needs Access-Control-Allow-Credentials: true,
	// which only methods that allow credentials get.
	t.Run("credentials on a method without allow_credentials", func(t *testing.T) {
		o := eval(t, ctx, "fetch", withCredentials(connectJSON(api, "ListIceCreams", `{}`, nil)))
		want{outcome: "blocked"}.check(t, s, o)
	})
	t.Run("gateway GET with credentials on a method without allow_credentials", func(t *testing.T) {
		o := eval(t, ctx, "fetch", fetchSpec{URL: api + "/v1/icecream/vanilla", Credentials: "include"})
		want{outcome: "blocked"}.check(t, s, o)
	})
}

// TestRefusedOrigin calls from a page whose origin the API does not
// authorize: the browser hides every answer, and stops preflighted requests
// before they are sent.
func TestRefusedOrigin(t *testing.T) {
	s := browserSuite(t)
	ctx := s.tab(t, s.refused)

	t.Run("Connect JSON POST", func(t *testing.T) {
		o := eval(t, ctx, "fetch", connectJSON(s.api, "PutIceCream", `{"flavor":"refused-1","scoops":1}`, nil))
		want{outcome: "blocked"}.check(t, s, o)
		o = eval(t, s.tab(t, s.page), "fetch", connectJSON(s.api, "GetIceCream", `{"flavor":"refused-1"}`, nil))
		want{outcome: "allowed", status: 404}.check(t, s, o)
	})
	for _, kind := range []string{"connect-json", "connect-binary", "grpc-web", "connect-get"} {
		t.Run("Connect client "+kind, func(t *testing.T) {
			o := eval(t, ctx, "call", callSpec{API: s.api, Kind: kind, Method: "getIceCream", Request: map[string]any{"flavor": "vanilla"}})
			want{outcome: "blocked"}.check(t, s, o)
		})
	}
	t.Run("Connect GET is sent but its answer hidden", func(t *testing.T) {
		o := eval(t, ctx, "fetch", connectGET(s.api, "GetIceCream", `{"flavor":"refused-2"}`))
		want{outcome: "blocked"}.check(t, s, o)
		// A simple request needs no preflight: it reached the API, and only
		// the browser kept the page from reading the answer.
		if !s.seen.reached("GET", "refused-2") {
			t.Error("the simple Connect GET did not reach the API")
		}
	})
	t.Run("gateway GET", func(t *testing.T) {
		o := eval(t, ctx, "fetch", fetchSpec{URL: s.api + "/v1/icecream/vanilla"})
		want{outcome: "blocked"}.check(t, s, o)
	})
	t.Run("gateway PUT", func(t *testing.T) {
		o := eval(t, ctx, "fetch", fetchSpec{URL: s.api + "/v1/icecream/refused-3", Method: "PUT",
			Headers: map[string]string{"Content-Type": "application/json"}, Body: `{"scoops":1}`})
		want{outcome: "blocked", notReached: "/v1/icecream/refused-3"}.check(t, s, o)
	})
}
