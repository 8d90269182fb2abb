package e2e_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/protocors/protocors/corspb"
)

// beaconJS sends body to url with navigator.sendBeacon: a POST with
// credentials, no preflight for a text/plain body, and no answer for the
// page. It returns whether the browser queued it.
const beaconJS = `((url, body) => navigator.sendBeacon(url, body))`

// hasCookie reports whether a Cookie header holds name=value.
func hasCookie(header, name, value string) bool {
	for c := range strings.SplitSeq(header, ";") {
		if strings.TrimSpace(c) == name+"="+value {
			return true
		}
	}
	return false
}

// waitAnswers waits until n requests other than preflights have reached
// the attack API and returns them.
func (a *attackAPI) waitAnswers(t *testing.T, n int) []answer {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); ; {
		got := a.answered()
		if len(got) >= n {
			return got
		}
		if time.Now().After(end) {
			a.log(t)
			t.Fatalf("%d requests reached the API after 10s, want %d", len(got), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAttackCredentials (issue 19, hole 3): the user is logged in to the
// API (a SameSite=Lax session cookie the API host set on a top-level
// navigation). A page on another origin of the same site sends a POST RPC
// whose policy allows its origin ("*", or the page's origin by name) but
// not credentials, as simple requests the browser sends without a
// preflight and with the cookie: fetch in no-cors mode with credentials
// "include", and navigator.sendBeacon. The preflighted form of the same
// call would be blocked by the browser (no Access-Control-Allow-Credentials),
// so the middleware must refuse these before the handler runs. The test
// checks, outside the middleware, that the cookie did reach the server (the
// attack is real), and that the handler did not run. The control: the same
// fetch with credentials "omit" carries no cookie and runs the handler.
//
// Two layouts of one site: app.protocors.test and api.protocors.test
// (mapped to loopback in both browsers; plain http is not potentially
// trustworthy, so the browsers send no Sec-Fetch-Site and the middleware
// compares Origin with Host), and two ports of localhost (the browsers send
// Sec-Fetch-Site: same-site).
func TestAttackCredentials(t *testing.T) {
	inEachEngine(t, func(t *testing.T, s *suite) {
		for _, site := range sameSiteLayouts(t, s) {
			for _, policy := range []struct {
				name   string
				policy *corspb.Policy
			}{
				{name: "any origin", policy: &corspb.Policy{AllowOrigins: []string{"*"}}},
				{name: "the page's origin", policy: &corspb.Policy{AllowOrigins: []string{site.page}}},
			} {
				t.Run(site.name+"/"+policy.name, func(t *testing.T) {
					api := startAttackAPIOn(t, s, attackServer{host: site.apiHost, login: true},
						attackRoute{name: "RestockItem", method: "POST", template: "/v1/items/{id}:restock", policy: policy.policy})
					// Log in: a top-level navigation to the API, which sets
					// the session cookie for the API's host.
					session := fmt.Sprintf("%s-%d", s.engine.name, time.Now().UnixNano())
					s.open(t, api.url+"/login?session="+session)
					p := s.tab(t, site.page)
					url := api.url + "/v1/items/vanilla:restock"

					// Control: without credentials, the call runs.
					saw := try(t, p, attack{URL: url, Method: "POST", Body: "text", Mode: "no-cors", Credentials: "omit"})
					got := api.waitAnswers(t, 1)[0]
					if n := api.ran("RestockItem"); n != 1 || got.status != http.StatusOK || got.cookie != "" || saw.Outcome != "opaque" {
						api.log(t)
						t.Fatalf("control (credentials omit): RestockItem ran %d times, server saw %v, page saw %+v; want 1 run, 200, no cookie", n, got, saw)
					}
					if got.origin != site.page || got.secFetchSite != site.secFetchSite {
						t.Errorf("control: the browser sent Origin %q and Sec-Fetch-Site %q, want %q and %q", got.origin, got.secFetchSite, site.page, site.secFetchSite)
					}

					sends := []struct {
						name string
						send func()
					}{{
						name: "fetch no-cors credentials include",
						send: func() {
							try(t, p, attack{URL: url, Method: "POST", Body: "text", Mode: "no-cors", Credentials: "include"})
						},
					}, {
						name: "sendBeacon",
						send: func() {
							var queued bool
							p.run(t, beaconJS+"("+jsValue(t, url)+`, '{"n":1}')`, &queued)
							if !queued {
								t.Fatal("the browser did not queue the beacon")
							}
						},
					}}
					for i, send := range sends {
						send.send()
						got := api.waitAnswers(t, 2+i)[1+i]
						if !hasCookie(got.cookie, "session", session) {
							api.log(t)
							t.Fatalf("%s: the browser sent Cookie %q, want session=%s: the attack needs the cookie", send.name, got.cookie, session)
						}
						if n := api.ran("RestockItem"); n != 1 {
							api.log(t)
							t.Errorf("%s: RestockItem ran with the user's cookie (%d runs in all, want the control's 1); the server answered %d", send.name, n, got.status)
						} else if got.status != http.StatusForbidden {
							t.Errorf("%s: the server answered %d, want 403", send.name, got.status)
						}
					}
				})
			}
		}
	})
}

// siteLayout is a page and an API on two origins of one site.
type siteLayout struct {
	name, page, apiHost string
	// secFetchSite is what both engines send from page to API: "" over
	// plain http between subdomains (not potentially trustworthy, so no
	// Fetch Metadata: the middleware compares Origin with Host).
	secFetchSite string
}

// sameSiteLayouts serves the page bundle on app.protocors.test and returns
// the two same-site layouts the credentials tests run on: subdomains of
// protocors.test, and two ports of localhost.
func sameSiteLayouts(t *testing.T, s *suite) []siteLayout {
	t.Helper()
	appPage, err := s.serve("127.0.0.1:0", appHost, http.FileServer(http.Dir(bundleDir)))
	if err != nil {
		t.Fatal(err)
	}
	return []siteLayout{
		{name: "subdomains", page: appPage, apiHost: apiHost},
		{name: "localhost ports", page: s.page, apiHost: "localhost", secFetchSite: "same-site"},
	}
}
