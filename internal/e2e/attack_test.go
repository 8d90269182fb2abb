package e2e_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/gateway"
)

// The tests in this file are attacks a page can make on a grpc-gateway API
// whose CORS policies refuse it. CORS alone only hides responses, so each
// test counts, on the server, the runs of the handler the attack aims at and
// asserts that it never ran, then asserts what the page saw.

// attackRoute is one HandlePath route of an attack API, registered on the
// mux and declared to the middleware (gateway.WithRoute) in the same order.
type attackRoute struct {
	name             string // the RPC the handler stands for
	method, template string
	policy           *corspb.Policy
}

// attackAPI is a grpc-gateway mux behind the gateway middleware, served on
// its own loopback origin (so no preflight cache entry is shared with
// another test), that counts what reaches it.
type attackAPI struct {
	url  string
	runs map[string]*atomic.Int32 // handler runs by RPC name

	mu         sync.Mutex
	auths      map[string][]string // the Authorization header of each handler run, by RPC name
	preflights []string            // "ACRM ACRH path -> status max-age"
	answers    []answer            // other requests, in order
}

// answer is a request other than a preflight that reached the attack API's
// server, recorded outside the middleware: what the browser sent and the
// status the server answered.
type answer struct {
	method, path string // the request line's (before any method override)
	status       int
	origin       string
	secFetchSite string
	cookie       string // the Cookie header as the browser sent it
	// authorization is the Authorization header as the browser sent it.
	authorization string
}

func (a answer) String() string {
	return fmt.Sprintf("%s %s %d origin=%q sec-fetch-site=%q cookie=%q authorization=%q", a.method, a.path, a.status, a.origin, a.secFetchSite, a.cookie, a.authorization)
}

// attackServer is how startAttackAPIOn serves an attack API.
type attackServer struct {
	// host is the API URL's host name, "" for 127.0.0.1. The server listens
	// on 127.0.0.1 whatever the name: the browsers map the names the tests
	// use (sameSite) there.
	host string
	// options are given to gateway.New after the routes.
	options []gateway.Option
	// login serves, outside the middleware, GET /login?session=V, which
	// sets the cookie session=V (SameSite=Lax) as the API's own login
	// would, GET /logout, which deletes it, and GET /basic-login, which
	// asks for HTTP Basic authentication (401 and WWW-Authenticate) until
	// the request carries user:password.
	login bool
}

func startAttackAPI(t *testing.T, s *suite, routes ...attackRoute) *attackAPI {
	t.Helper()
	return startAttackAPIOn(t, s, attackServer{}, routes...)
}

func startAttackAPIOn(t *testing.T, s *suite, srv attackServer, routes ...attackRoute) *attackAPI {
	t.Helper()
	a := &attackAPI{runs: map[string]*atomic.Int32{}, auths: map[string][]string{}}
	mux := runtime.NewServeMux()
	// No descriptors: the routes are the HandlePath ones alone.
	opts := []gateway.Option{protocors.WithFiles(new(protoregistry.Files))}
	for _, r := range routes {
		n := new(atomic.Int32)
		a.runs[r.name] = n
		name := r.name
		if err := mux.HandlePath(r.method, r.template, func(w http.ResponseWriter, req *http.Request, _ map[string]string) {
			n.Add(1)
			a.mu.Lock()
			a.auths[name] = append(a.auths[name], req.Header.Get("Authorization"))
			a.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"rpc":%q}`, name)
		}); err != nil {
			t.Fatal(err)
		}
		opts = append(opts, gateway.WithRoute(r.method, r.template, r.policy))
	}
	mw, err := gateway.New(append(opts, srv.options...)...)
	if err != nil {
		t.Fatal(err)
	}
	h := mw.Handler(mux)
	var root http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The mux rewrites r.Method for an override: log the request line's.
		method, path := r.Method, r.URL.Path
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		a.mu.Lock()
		defer a.mu.Unlock()
		if method == http.MethodOptions {
			a.preflights = append(a.preflights, fmt.Sprintf("%s [%s] %s -> %d max-age=%q",
				r.Header.Get("Access-Control-Request-Method"), r.Header.Get("Access-Control-Request-Headers"),
				path, sw.code(), w.Header().Get("Access-Control-Max-Age")))
		} else {
			a.answers = append(a.answers, answer{method: method, path: path, status: sw.code(),
				origin: r.Header.Get("Origin"), secFetchSite: r.Header.Get("Sec-Fetch-Site"), cookie: r.Header.Get("Cookie"),
				authorization: r.Header.Get("Authorization")})
		}
	})
	if srv.login {
		m := http.NewServeMux()
		m.Handle("/", root)
		m.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
			http.SetCookie(w, &http.Cookie{Name: "session", Value: r.URL.Query().Get("session"),
				Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
			fmt.Fprintln(w, "logged in")
		})
		m.HandleFunc("GET /logout", func(w http.ResponseWriter, r *http.Request) {
			http.SetCookie(w, &http.Cookie{Name: "session", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
			fmt.Fprintln(w, "logged out")
		})
		m.HandleFunc("GET /basic-login", func(w http.ResponseWriter, r *http.Request) {
			if u, p, ok := r.BasicAuth(); !ok || u != "user" || p != "password" {
				w.Header().Set("WWW-Authenticate", `Basic realm="api", charset="UTF-8"`)
				http.Error(w, "log in", http.StatusUnauthorized)
				return
			}
			fmt.Fprintln(w, "logged in")
		})
		// The login tab asks for an icon: keep it out of the record.
		m.HandleFunc("GET /favicon.ico", http.NotFound)
		root = m
	}
	a.url, err = s.serve("127.0.0.1:0", cmp.Or(srv.host, "127.0.0.1"), root)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// ran returns how many times the handler of RPC name ran.
func (a *attackAPI) ran(name string) int32 { return a.runs[name].Load() }

// authorizations returns the Authorization header each run of the handler
// of RPC name saw, in order ("" for none).
func (a *attackAPI) authorizations(name string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.auths[name])
}

// preflightsFor returns the preflights that asked for method.
func (a *attackAPI) preflightsFor(method string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, p := range a.preflights {
		if strings.HasPrefix(p, method+" ") {
			out = append(out, p)
		}
	}
	return out
}

// lastAnswer returns the status of the last non-preflight request with this
// method, 0 if none reached the server.
func (a *attackAPI) lastAnswer(method string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := len(a.answers) - 1; i >= 0; i-- {
		if a.answers[i].method == method {
			return a.answers[i].status
		}
	}
	return 0
}

// answered returns the requests other than preflights that reached the
// server so far.
func (a *attackAPI) answered() []answer {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.answers)
}

func (a *attackAPI) log(t *testing.T) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	t.Logf("server saw preflights %q and requests %v", a.preflights, a.answers)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// attack is a fetch the page makes with a body a form could send too.
type attack struct {
	URL     string            `json:"url"`
	Method  string            `json:"method"`
	Body    string            `json:"body"` // text (text/plain), multipart (FormData), form (URLSearchParams), "" none
	Headers map[string]string `json:"headers,omitempty"`
	Mode    string            `json:"mode,omitempty"` // fetch mode: "" (cors) or no-cors
	// Credentials is the fetch credentials mode: "" (same-origin), include
	// or omit.
	Credentials string `json:"credentials,omitempty"`
}

// sight is what the page saw of its fetch.
type sight struct {
	Outcome string `json:"outcome"` // read (the response), opaque (no-cors), blocked (fetch threw)
	Status  int    `json:"status"`
	Body    string `json:"body"`
	Error   string `json:"error"`
}

const attackJS = `(async (a) => {
  let body;
  switch (a.body) {
    case "text": body = '{"n":1}'; break;
    case "multipart": body = new FormData(); body.append("n", "1"); break;
    case "form": body = new URLSearchParams({ n: "1" }); break;
  }
  try {
    const res = await fetch(a.url, { method: a.method, headers: a.headers || {}, body, mode: a.mode || "cors", credentials: a.credentials || "same-origin" });
    if (res.type === "opaque") return { outcome: "opaque", status: res.status };
    return { outcome: "read", status: res.status, body: await res.text() };
  } catch (e) {
    return { outcome: "blocked", error: String(e) };
  }
})`

// try makes page p run the attack and returns what it saw.
func try(t *testing.T, p *page, a attack) sight {
	t.Helper()
	arg, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var got sight
	p.run(t, attackJS+"("+string(arg)+")", &got)
	return got
}

// TestAttackSimpleRequest: a page on an origin that the :restock RPC's policy
// does not allow sends it simple requests (no preflight): text/plain,
// multipart and form bodies, in cors and no-cors mode. The browser sends
// them; the server must refuse them before the handler runs. The control:
// the same requests from the same page reach the handler of an API whose
// policy allows the page's origin.
func TestAttackSimpleRequest(t *testing.T) {
	inEachEngine(t, func(t *testing.T, s *suite) {
		p := s.tab(t, s.refused)
		restock := func(origin string) attackRoute {
			return attackRoute{name: "RestockItem", method: "POST", template: "/v1/items/{id}:restock",
				policy: &corspb.Policy{AllowOrigins: []string{origin}}}
		}
		victim := startAttackAPI(t, s, restock(s.page))     // the attacking page's origin is not allowed
		control := startAttackAPI(t, s, restock(s.refused)) // the same page's origin is allowed

		for _, body := range []string{"text", "multipart", "form"} {
			for _, mode := range []string{"", "no-cors"} {
				name := body
				if mode != "" {
					name += "/" + mode
				}
				t.Run(name, func(t *testing.T) {
					a := attack{URL: victim.url + "/v1/items/vanilla:restock", Method: "POST", Body: body, Mode: mode}
					before := victim.ran("RestockItem")
					saw := try(t, p, a)
					if n := victim.ran("RestockItem") - before; n != 0 {
						victim.log(t)
						t.Fatalf("RestockItem ran %d times for a %s POST from a refused origin; page saw %+v", n, body, saw)
					}
					if code := victim.lastAnswer("POST"); code != http.StatusForbidden {
						t.Errorf("server answered the POST %d, want 403", code)
					}
					// 403 without CORS headers: fetch throws in cors mode, the
					// response is opaque in no-cors mode.
					if want := map[string]string{"": "blocked", "no-cors": "opaque"}[mode]; saw.Outcome != want {
						t.Errorf("page saw %+v, want %s", saw, want)
					}
					if mode == "" && !strings.Contains(saw.Error, s.engine.blocked) {
						t.Errorf("page saw error %q, want %s's %q", saw.Error, s.engine.name, s.engine.blocked)
					}

					a.URL = control.url + "/v1/items/vanilla:restock"
					before = control.ran("RestockItem")
					saw = try(t, p, a)
					if n := control.ran("RestockItem") - before; n != 1 {
						control.log(t)
						t.Errorf("control: RestockItem ran %d times, want 1; page saw %+v", n, saw)
					}
					switch {
					case mode == "no-cors" && saw.Outcome != "opaque",
						mode == "" && (saw.Outcome != "read" || saw.Status != 200 || saw.Body != `{"rpc":"RestockItem"}`):
						t.Errorf("control: page saw %+v", saw)
					}
				})
			}
		}
	})
}

// TestAttackMethodOverride: the mux runs, for a form POST carrying
// X-HTTP-Method-Override, the handler of the method it names. A page
// allowed to POST (UpdateItem, which allows that header) must not reach
// DeleteItem (CORS disabled) at the same URL that way.
func TestAttackMethodOverride(t *testing.T) {
	inEachEngine(t, func(t *testing.T, s *suite) {
		p := s.tab(t, s.page)
		for _, allow := range []string{"X-HTTP-Method-Override", "*"} {
			t.Run("allow_headers "+allow, func(t *testing.T) {
				api := startAttackAPI(t, s,
					attackRoute{name: "UpdateItem", method: "POST", template: "/v1/items/{id}",
						policy: &corspb.Policy{AllowOrigins: []string{s.page}, AllowHeaders: []string{allow}}},
					attackRoute{name: "DeleteItem", method: "DELETE", template: "/v1/items/{id}",
						policy: &corspb.Policy{Enabled: proto.Bool(false)}},
				)
				url := api.url + "/v1/items/vanilla"

				// Control: the page may POST the form to UpdateItem.
				saw := try(t, p, attack{URL: url, Method: "POST", Body: "form"})
				if saw.Outcome != "read" || saw.Status != 200 || saw.Body != `{"rpc":"UpdateItem"}` || api.ran("UpdateItem") != 1 {
					api.log(t)
					t.Fatalf("control: page saw %+v, UpdateItem ran %d times", saw, api.ran("UpdateItem"))
				}

				saw = try(t, p, attack{URL: url, Method: "POST", Body: "form",
					Headers: map[string]string{"X-HTTP-Method-Override": "DELETE"}})
				api.log(t)
				if n := api.ran("DeleteItem"); n != 0 {
					t.Fatalf("DeleteItem ran %d times through X-HTTP-Method-Override; page saw %+v", n, saw)
				}
				if n := api.ran("UpdateItem"); n != 1 {
					t.Errorf("UpdateItem ran %d times, want only the control's", n)
				}
				if saw.Outcome != "blocked" {
					t.Errorf("page saw %+v, want blocked", saw)
				}
				if len(api.preflightsFor("POST")) == 0 {
					t.Errorf("the browser sent no preflight for the override header")
				}
			})
		}
	})
}

// TestAttackPreflightCache: a browser caches a preflight's header grants for
// every method at the URL and never preflights POST. The PUT grant of X-Foo
// (max age 600) must not let the page send POST with X-Foo to ArchiveItem
// (CORS disabled) at the same URL without asking.
func TestAttackPreflightCache(t *testing.T) {
	inEachEngine(t, func(t *testing.T, s *suite) {
		p := s.tab(t, s.page)
		api := startAttackAPI(t, s,
			attackRoute{name: "EditItem", method: "PUT", template: "/v1/items/{id}",
				policy: &corspb.Policy{AllowOrigins: []string{s.page}, AllowHeaders: []string{"X-Foo"}, MaxAgeSeconds: proto.Uint32(600)}},
			attackRoute{name: "ArchiveItem", method: "POST", template: "/v1/items/{id}",
				policy: &corspb.Policy{Enabled: proto.Bool(false)}},
		)
		url := api.url + "/v1/items/vanilla"
		xfoo := map[string]string{"X-Foo": "1"}

		saw := try(t, p, attack{URL: url, Method: "PUT", Body: "text", Headers: xfoo})
		if saw.Outcome != "read" || saw.Status != 200 || saw.Body != `{"rpc":"EditItem"}` || api.ran("EditItem") != 1 {
			api.log(t)
			t.Fatalf("PUT: page saw %+v, EditItem ran %d times", saw, api.ran("EditItem"))
		}

		saw = try(t, p, attack{URL: url, Method: "POST", Body: "text", Headers: xfoo})
		api.log(t)
		post := api.preflightsFor("POST")
		t.Logf("Chromium preflighted the POST: %t %q (PUT preflights: %q)", len(post) > 0, post, api.preflightsFor("PUT"))
		if n := api.ran("ArchiveItem"); n != 0 {
			t.Fatalf("ArchiveItem ran %d times: the page reached it through the PUT's cached X-Foo grant; page saw %+v", n, saw)
		}
		if saw.Outcome != "blocked" {
			t.Errorf("page saw %+v, want blocked", saw)
		}
	})
}

// TestAttackMethodOverrideDebug (issue 19, hole 4): TestAttackMethodOverride
// with WithDebug(true). The middleware refuses the preflight of a POST
// carrying X-HTTP-Method-Override because DeleteItem, which the override
// would run, refuses the request. A debug answer may help the browser name
// what was refused, never grant it: if the refusal listed the override
// header as allowed (UpdateItem's policy allows it), the browser would send
// the form POST with the override and the mux would run DeleteItem. Two
// DeleteItem policies: one that allows the page's origin but not the
// header (the cross-origin protection alone lets that request through), one
// that allows no page at all (the protection refuses the POST, but the
// browser must not even send it: the non-debug refusal stops it).
func TestAttackMethodOverrideDebug(t *testing.T) {
	inEachEngine(t, func(t *testing.T, s *suite) {
		p := s.tab(t, s.page)
		for _, del := range []struct {
			name   string
			policy *corspb.Policy
		}{
			{name: "DeleteItem refuses the header", policy: &corspb.Policy{AllowOrigins: []string{s.page}}},
			{name: "DeleteItem refuses the origin", policy: &corspb.Policy{Enabled: proto.Bool(false)}},
		} {
			t.Run(del.name, func(t *testing.T) {
				api := startAttackAPIOn(t, s, attackServer{options: []gateway.Option{protocors.WithDebug(true)}},
					attackRoute{name: "UpdateItem", method: "POST", template: "/v1/items/{id}",
						policy: &corspb.Policy{AllowOrigins: []string{s.page}, AllowHeaders: []string{"X-HTTP-Method-Override"}}},
					attackRoute{name: "DeleteItem", method: "DELETE", template: "/v1/items/{id}", policy: del.policy},
				)
				url := api.url + "/v1/items/vanilla"

				// Control: the page may POST the form to UpdateItem.
				saw := try(t, p, attack{URL: url, Method: "POST", Body: "form"})
				if saw.Outcome != "read" || saw.Status != 200 || saw.Body != `{"rpc":"UpdateItem"}` || api.ran("UpdateItem") != 1 {
					api.log(t)
					t.Fatalf("control: page saw %+v, UpdateItem ran %d times", saw, api.ran("UpdateItem"))
				}

				saw = try(t, p, attack{URL: url, Method: "POST", Body: "form",
					Headers: map[string]string{"X-HTTP-Method-Override": "DELETE"}})
				api.log(t)
				if len(api.preflightsFor("POST")) == 0 {
					t.Errorf("the browser sent no preflight for the override header")
				}
				if n := api.ran("DeleteItem"); n != 0 {
					t.Fatalf("DeleteItem ran %d times through X-HTTP-Method-Override in debug mode; page saw %+v", n, saw)
				}
				if n := api.ran("UpdateItem"); n != 1 {
					t.Errorf("UpdateItem ran %d times, want only the control's", n)
				}
				// The debug answer must not let the browser send what the
				// plain refusal stops: the overriding POST never leaves it.
				if sent := len(api.answered()) - 1; sent != 0 {
					t.Errorf("the browser sent the POST with the override (%d times): the debug answer to its preflight granted the header", sent)
				}
				if saw.Outcome != "blocked" {
					t.Errorf("page saw %+v, want blocked", saw)
				}
			})
		}
	})
}
