package e2e_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/protocors/protocors/corspb"
)

// TestBearerToken (issue 19 follow-up): credentials count, but a bearer
// token the page sets itself is not one. A gateway RPC whose policy allows
// the page's origin ("*", or the origin by name) and lists Authorization in
// allow_headers, without allow_credentials, is called by a page on another
// origin of the API's site while the user is logged in to the API (its
// SameSite=Lax session cookie, as in TestAttackCredentials):
//
//   - bearer: fetch POST with Authorization: Bearer and a JSON body. The
//     browser preflights it, the preflight grants Authorization, the handler
//     runs once and sees the page's token, the page reads the answer. The
//     default credentials mode ("same-origin") sends no cookie, so the
//     Authorization header is the request's only credential-like header:
//     the middleware must not count it.
//   - not granted: the same fetch to the same RPC whose policy does not
//     list Authorization. The browser's preflight fails, the page sees a
//     network error, the request never leaves the browser and the handler
//     never runs: a page can set Authorization only where a preflight
//     granted it, which is why the middleware may trust a Bearer value.
//   - cookie: a simple credentialed request (fetch no-cors, credentials
//     "include", text/plain body) to the RPC that lists Authorization. It
//     carries the session cookie and needs no preflight; listing
//     Authorization does not make cookies acceptable: 403, the handler does
//     not run.
//   - browser's basic: the user logs out and logs in to the API with HTTP
//     Basic instead; the same simple request now carries the Basic
//     credentials the browser cached and attaches by itself, no cookie.
//     Basic counts whatever allow_headers lists: 403, the handler does not
//     run.
//
// The two site layouts of TestAttackCredentials: subdomains of
// protocors.test (no Sec-Fetch-Site over plain http: the middleware
// compares Origin with Host) and two ports of localhost (Sec-Fetch-Site:
// same-site).
func TestBearerToken(t *testing.T) {
	inEachEngine(t, func(t *testing.T, s *suite) {
		for _, site := range sameSiteLayouts(t, s) {
			for _, origins := range []struct {
				name  string
				allow []string
			}{
				{name: "any origin", allow: []string{"*"}},
				{name: "the page's origin", allow: []string{site.page}},
			} {
				t.Run(site.name+"/"+origins.name, func(t *testing.T) {
					restock := func(headers ...string) attackRoute {
						return attackRoute{name: "RestockItem", method: "POST", template: "/v1/items/{id}:restock",
							policy: &corspb.Policy{AllowOrigins: origins.allow, AllowHeaders: headers}}
					}
					// Each API on its own port: no preflight cache entry is
					// shared between them. Both on the same host, so the
					// one login cookie goes to both.
					api := startAttackAPIOn(t, s, attackServer{host: site.apiHost, login: true}, restock("Authorization"))
					bare := startAttackAPIOn(t, s, attackServer{host: site.apiHost}, restock())
					session := fmt.Sprintf("%s-%d", s.engine.name, time.Now().UnixNano())
					s.open(t, api.url+"/login?session="+session)
					p := s.tab(t, site.page)
					const path = "/v1/items/vanilla:restock"
					bearer := attack{URL: api.url + path, Method: "POST", Body: "text",
						Headers: map[string]string{"Authorization": "Bearer page-token", "Content-Type": "application/json"}}

					t.Run("bearer", func(t *testing.T) {
						sent, ran := len(api.answered()), api.ran("RestockItem")
						saw := try(t, p, bearer)
						got := api.waitAnswers(t, sent+1)[sent]
						if n := api.ran("RestockItem") - ran; n != 1 || saw.Outcome != "read" || saw.Status != http.StatusOK || saw.Body != `{"rpc":"RestockItem"}` {
							api.log(t)
							t.Fatalf("RestockItem ran %d times, server answered %v, page saw %+v; want 1 run and the page reading 200", n, got, saw)
						}
						if auths := api.authorizations("RestockItem")[ran:]; !slices.Equal(auths, []string{"Bearer page-token"}) {
							t.Errorf("the handler saw Authorization %q, want the page's %q", auths, "Bearer page-token")
						}
						if got.cookie != "" {
							t.Errorf("the browser sent Cookie %q with credentials same-origin, want none", got.cookie)
						}
						if got.origin != site.page || got.secFetchSite != site.secFetchSite {
							t.Errorf("the browser sent Origin %q and Sec-Fetch-Site %q, want %q and %q", got.origin, got.secFetchSite, site.page, site.secFetchSite)
						}
						pre := api.preflightsFor("POST")
						if len(pre) == 0 || !strings.Contains(pre[0], "authorization") || !strings.Contains(pre[0], "-> 204") {
							t.Errorf("preflights %q, want a granted (204) one asking for authorization", pre)
						}
					})

					t.Run("not granted", func(t *testing.T) {
						a := bearer
						a.URL = bare.url + path
						saw := try(t, p, a)
						if n := bare.ran("RestockItem"); n != 0 {
							bare.log(t)
							t.Fatalf("RestockItem ran %d times with an Authorization header its policy does not allow; page saw %+v", n, saw)
						}
						if sent := bare.answered(); len(sent) != 0 {
							t.Errorf("the browser sent the request after a refused preflight: server saw %v", sent)
						}
						if saw.Outcome != "blocked" || !strings.Contains(saw.Error, s.engine.blocked) {
							t.Errorf("page saw %+v, want blocked with %s's %q", saw, s.engine.name, s.engine.blocked)
						}
						pre := bare.preflightsFor("POST")
						if len(pre) == 0 || !strings.Contains(pre[0], "authorization") || !strings.Contains(pre[0], "-> 403") {
							bare.log(t)
							t.Errorf("preflights %q, want a refused (403) one asking for authorization", pre)
						}
					})

					t.Run("cookie", func(t *testing.T) {
						sent, ran := len(api.answered()), api.ran("RestockItem")
						saw := try(t, p, attack{URL: api.url + path, Method: "POST", Body: "text", Mode: "no-cors", Credentials: "include"})
						got := api.waitAnswers(t, sent+1)[sent]
						if !hasCookie(got.cookie, "session", session) {
							api.log(t)
							t.Fatalf("the browser sent Cookie %q, want session=%s: the attack needs the cookie", got.cookie, session)
						}
						if n := api.ran("RestockItem") - ran; n != 0 {
							api.log(t)
							t.Errorf("RestockItem ran %d times with the user's cookie; the server answered %d", n, got.status)
						} else if got.status != http.StatusForbidden {
							t.Errorf("the server answered %d, want 403", got.status)
						}
						if saw.Outcome != "opaque" {
							t.Errorf("page saw %+v, want an opaque response", saw)
						}
					})

					t.Run("browser's basic", func(t *testing.T) {
						// The user logs out of the cookie session and logs in
						// to the API with HTTP Basic (an XMLHttpRequest with
						// user and password on the API's origin, where a
						// user would answer the browser's dialog): the
						// browser caches the credentials for the API's
						// origin and attaches them by itself.
						login := s.open(t, api.url+"/logout")
						var status int
						login.run(t, `new Promise((resolve) => {
							const x = new XMLHttpRequest();
							x.open("GET", "/basic-login", true, "user", "password");
							x.onloadend = () => resolve(x.status);
							x.send();
						})`, &status)
						if status != http.StatusOK {
							t.Fatalf("HTTP Basic login answered %d, want 200", status)
						}
						sent, ran := len(api.answered()), api.ran("RestockItem")
						saw := try(t, p, attack{URL: api.url + path, Method: "POST", Body: "text", Mode: "no-cors", Credentials: "include"})
						got := api.waitAnswers(t, sent+1)[sent]
						if !strings.HasPrefix(got.authorization, "Basic ") || got.cookie != "" {
							api.log(t)
							t.Fatalf("the browser sent Authorization %q and Cookie %q, want its cached Basic credentials alone: the attack needs them", got.authorization, got.cookie)
						}
						if n := api.ran("RestockItem") - ran; n != 0 {
							api.log(t)
							t.Errorf("RestockItem ran %d times with the browser's Basic credentials; the server answered %d", n, got.status)
						} else if got.status != http.StatusForbidden {
							t.Errorf("the server answered %d, want 403", got.status)
						}
						if saw.Outcome != "opaque" {
							t.Errorf("page saw %+v, want an opaque response", saw)
						}
					})
				})
			}
		}
	})
}
