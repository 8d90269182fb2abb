package conformance

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/reflect/protoregistry"
)

// Side adapts one middleware to the cases.
type Side struct {
	// Name is "connect" or "gateway": it picks paths and method mapping.
	Name string
	// New builds the middleware for the registry, returning a wrapper.
	// protect is false only for a case that expects an unsafe request from
	// an origin its policy refuses to reach the handler: the sample's
	// cases predate the cross-origin request protection, which refuses
	// exactly that.
	New func(files *protoregistry.Files, protect bool) (func(http.Handler) http.Handler, error)
}

func (s Side) connect() bool { return s.Name == "connect" }

func (s Side) path(kind string) string {
	connectPath, gatewayPath := ConnectRPC, GatewayRPC
	switch kind {
	case "rpc_no_policy":
		connectPath, gatewayPath = ConnectNoPolicy, GatewayNoPolicy
	case "unknown":
		connectPath, gatewayPath = ConnectUnknown, GatewayUnknown
	}
	if s.connect() {
		return connectPath
	}
	return gatewayPath
}

// connectMethod maps a case's HTTP method to the Connect side, where a
// procedure binds only POST (and GET for NO_SIDE_EFFECTS unary methods): a
// bound GET stays GET, any other bound method becomes POST, and unbound
// methods stay as they are (so they stay refused).
func (c *Case) connectMethod(m string) string {
	if !slices.Contains(c.Policy.Methods, m) || m == "GET" {
		return m
	}
	return "POST"
}

// expectsUnprotected reports whether c sends an unsafe request that is not
// a preflight, from an origin the policy does not grant (no Allow-Origin
// expected), and expects it to reach the handler: what the cross-origin
// request protection exists to prevent.
func (c *Case) expectsUnprotected() bool {
	switch c.Request.Method {
	case "GET", "HEAD", "OPTIONS":
		return false
	}
	reached := c.Expect.Status == "passthrough" || c.Expect.AppInvoked != nil && *c.Expect.AppInvoked
	_, granted := c.Expect.HeadersPresent["Access-Control-Allow-Origin"]
	return reached && !granted
}

// Run runs every case against the side.
func Run(t *testing.T, side Side) {
	for i, c := range Load(t) {
		t.Run(c.ID, func(t *testing.T) {
			t.Parallel()
			runCase(t, side, &c, i%2 == 1, i%3 == 1)
		})
	}
}

type app struct {
	kind  string
	calls atomic.Int64
}

func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.calls.Add(1)
	h := w.Header()
	h.Add("Vary", "Accept-Encoding")
	h.Set("X-App", "reached")
	switch a.kind {
	case "error_500":
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("boom"))
		return
	case "sets_acao_star":
		h.Set("Access-Control-Allow-Origin", "*")
	case "requires_auth":
		if r.Header.Get("Cookie") == "" && r.Header.Get("Authorization") == "" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
	}
	_, _ = w.Write([]byte("ok"))
}

func (a *app) status() int {
	switch a.kind {
	case "error_500":
		return 500
	default:
		return 200
	}
}

func runCase(t *testing.T, side Side, c *Case, methodScope, unknownFields bool) {
	files := Files(t, c, methodScope, unknownFields)
	wrap, err := side.New(files, !c.expectsUnprotected())
	if c.Expect.ConfigError {
		if err == nil {
			t.Fatalf("New accepted a policy it must refuse: %+v", c.Policy)
		}
		t.Logf("refused as expected: %v", err)
		return
	}
	if err != nil {
		if c.Expect.ConfigErrorOK {
			t.Logf("refused (acceptable): %v", err)
			return
		}
		t.Fatalf("New: %v", err)
	}
	a := &app{kind: c.Request.App}
	handler := wrap(a)
	switch c.Request.Outer {
	case "adds_vary_before":
		inner := handler
		handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("Vary", "Accept")
			inner.ServeHTTP(w, r)
		})
	case "mutates_cors_headers_after":
		inner := handler
		handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			inner.ServeHTTP(w, r)
			for k, v := range w.Header() {
				if strings.HasPrefix(k, "Access-Control-") && len(v) > 0 {
					v[0] = "mutated"
				}
			}
		})
	}

	lines := c.Request.headerLines(t)
	method := c.Request.Method
	if side.connect() {
		method = c.connectMethod(method)
		if acrm := lines["Access-Control-Request-Method"]; len(acrm) == 1 {
			lines["Access-Control-Request-Method"] = []string{c.connectMethod(acrm[0])}
		}
	}
	newRequest := func(origin string) *http.Request {
		r := httptest.NewRequest(method, "https://api.example.com"+side.path(c.Request.PathKind), nil)
		for k, v := range lines {
			r.Header[http.CanonicalHeaderKey(k)] = slices.Clone(v)
		}
		if origin != "" {
			r.Header["Origin"] = []string{origin}
		}
		return r
	}

	if c.Request.Repeat >= 1000 {
		concurrent(t, handler, c, newRequest)
		return
	}
	repeat := max(c.Request.Repeat, 1)
	if c.Request.Outer == "mutates_cors_headers_after" {
		repeat = max(repeat, 2)
	}
	var rec *httptest.ResponseRecorder
	var req *http.Request
	var elapsed time.Duration
	for i := 0; i < repeat; i++ {
		a.calls.Store(0)
		req = newRequest("")
		rec = httptest.NewRecorder()
		start := time.Now()
		handler.ServeHTTP(rec, req)
		elapsed = time.Since(start)
	}
	res := rec.Result()
	check(t, side, c, req, res.StatusCode, res.Header, rec.Body.String(), a.calls.Load() > 0, a.status())
	if c.Expect.MaxMS > 0 && elapsed > time.Duration(c.Expect.MaxMS*float64(time.Millisecond)) {
		t.Errorf("took %v, want at most %vms", elapsed, c.Expect.MaxMS)
	}
}

// concurrent sends 1000 requests from 8 goroutines, rotating the Origin,
// and checks each response against its own request (shared mutable state
// between responses would show as a foreign origin).
func concurrent(t *testing.T, handler http.Handler, c *Case, newRequest func(string) *http.Request) {
	origins := append(slices.Clone(c.Policy.Origins), "https://evil.example.net", "https://admin.example.com", "https://app.example.com")
	var wg sync.WaitGroup
	var next atomic.Int64
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > 1000 {
					return
				}
				o := origins[int(i)%len(origins)]
				if strings.Contains(o, "*") {
					o = "https://x.example.com"
				}
				r := newRequest(o)
				rec := httptest.NewRecorder()
				handler.ServeHTTP(rec, r)
				Invariants(t, c.Policy.Credentials, r, rec.Result().Header)
			}
		}()
	}
	wg.Wait()
}

func values(h http.Header, key string) []string { return h[http.CanonicalHeaderKey(key)] }

// members splits list header values into trimmed, non-empty members.
func members(h http.Header, key string) []string {
	var out []string
	for _, line := range values(h, key) {
		for _, m := range strings.Split(line, ",") {
			if m = strings.TrimSpace(m); m != "" {
				out = append(out, m)
			}
		}
	}
	return out
}

var listHeaders = map[string]bool{
	"Access-Control-Allow-Methods":  true,
	"Access-Control-Allow-Headers":  true,
	"Access-Control-Expose-Headers": true,
	"Vary":                          true,
}

func containsMember(key string, ms []string, want string) bool {
	for _, m := range ms {
		if key == "Access-Control-Allow-Methods" && m == want {
			return true
		}
		if key != "Access-Control-Allow-Methods" && strings.EqualFold(m, want) {
			return true
		}
	}
	return false
}

func check(t *testing.T, side Side, c *Case, req *http.Request, status int, h http.Header, body string, invoked bool, appStatus int) {
	t.Helper()
	e := c.Expect
	switch e.Status {
	case "2xx":
		if status < 200 || status > 299 || invoked {
			t.Errorf("status %d (app invoked %t), want 2xx answered by the middleware", status, invoked)
		}
	case "passthrough":
		if !invoked || status != appStatus {
			t.Errorf("status %d (app invoked %t), want the app's %d", status, invoked, appStatus)
		}
	case "4xx":
		if status < 400 || status > 499 {
			t.Errorf("status %d, want 4xx", status)
		}
	}
	if e.AppInvoked != nil && *e.AppInvoked != invoked {
		t.Errorf("app invoked = %t, want %t", invoked, *e.AppInvoked)
	}
	for k, want := range e.HeadersPresent {
		ck := http.CanonicalHeaderKey(k)
		if listHeaders[ck] {
			got := members(h, ck)
			for _, w := range strings.Split(want, ",") {
				w = strings.TrimSpace(w)
				if side.connect() && ck == "Access-Control-Allow-Methods" {
					w = c.connectMethod(w)
				}
				if !containsMember(ck, got, w) {
					t.Errorf("%s = %q, want it to contain %q", k, values(h, ck), w)
				}
			}
			continue
		}
		if got := values(h, ck); len(got) != 1 || got[0] != want {
			t.Errorf("%s = %q, want exactly %q", k, got, want)
		}
	}
	for _, k := range e.HeadersAbsent {
		if got := values(h, k); len(got) > 0 {
			t.Errorf("%s = %q, want absent", k, got)
		}
	}
	vary := members(h, "Vary")
	for _, v := range e.VaryContains {
		if !containsMember("Vary", vary, v) {
			t.Errorf("Vary = %q, want it to contain %q", values(h, "Vary"), v)
		}
	}
	for k, bad := range e.MustNotContain {
		ck := http.CanonicalHeaderKey(k)
		for _, b := range bad {
			if listHeaders[ck] {
				if containsMember(ck, members(h, ck), b) {
					t.Errorf("%s = %q must not contain %q", k, values(h, ck), b)
				}
			} else if slices.Contains(values(h, ck), b) {
				t.Errorf("%s = %q must not be %q", k, values(h, ck), b)
			}
		}
	}
	for k, n := range e.MaxLines {
		if got := len(values(h, k)); got > n {
			t.Errorf("%s has %d lines, want at most %d", k, got, n)
		}
	}
	for _, k := range e.TokensOnly {
		for _, m := range members(h, k) {
			if !isToken(m) {
				t.Errorf("%s member %q is not a token", k, m)
			}
		}
	}
	if e.BodyEmpty && body != "" {
		t.Errorf("body = %q, want empty", body)
	}
	if e.MaxHeaderBytes > 0 {
		n := 0
		for k, vs := range h {
			for _, v := range vs {
				n += len(k) + len(v) + 4
			}
		}
		if n > e.MaxHeaderBytes {
			t.Errorf("response headers are %d bytes, want at most %d", n, e.MaxHeaderBytes)
		}
	}
	if e.Browser != nil {
		outcome := browserOutcome(req, status, h, e.Browser.Credentials == "include")
		if outcome != e.Browser.Outcome {
			t.Errorf("a browser would find this %s, want %s (status %d, headers %v)", outcome, e.Browser.Outcome, status, h)
		}
	}
	Invariants(t, c.Policy.Credentials, req, h)
}

// Invariants checks what must hold on every response (FORMAT.md): at most
// one Allow-Origin, equal to * or to the request's single Origin;
// Allow-Credentials only "true" and only when the policy has credentials,
// never with *; Max-Age digits only; list members tokens; no other CORS
// header without Allow-Origin; preflight-only headers only on preflights.
func Invariants(t testing.TB, credentials bool, req *http.Request, h http.Header) {
	t.Helper()
	acao := values(h, "Access-Control-Allow-Origin")
	if len(acao) > 1 {
		t.Errorf("%d Access-Control-Allow-Origin lines", len(acao))
	}
	origin := req.Header.Get("Origin")
	if len(acao) == 1 && acao[0] != "*" && (acao[0] != origin || len(req.Header["Origin"]) != 1) {
		t.Errorf("Access-Control-Allow-Origin %q is neither * nor the request's Origin %q", acao[0], req.Header["Origin"])
	}
	if acac := values(h, "Access-Control-Allow-Credentials"); len(acac) > 0 {
		if len(acac) != 1 || acac[0] != "true" || !credentials {
			t.Errorf("Access-Control-Allow-Credentials %q (policy credentials %t)", acac, credentials)
		}
		if len(acao) == 1 && acao[0] == "*" {
			t.Error("Access-Control-Allow-Origin * with credentials")
		}
	}
	for _, v := range values(h, "Access-Control-Max-Age") {
		if v == "" || strings.Trim(v, "0123456789") != "" {
			t.Errorf("Access-Control-Max-Age %q is not digits", v)
		}
	}
	for _, k := range []string{"Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Expose-Headers"} {
		for _, m := range members(h, k) {
			if !isToken(m) {
				t.Errorf("%s member %q is not a token", k, m)
			}
		}
	}
	if len(acao) == 0 {
		for k := range h {
			if strings.HasPrefix(k, "Access-Control-Allow-") || k == "Access-Control-Expose-Headers" || k == "Access-Control-Max-Age" {
				t.Errorf("%s without Access-Control-Allow-Origin", k)
			}
		}
	}
	preflight := req.Method == http.MethodOptions && len(req.Header["Access-Control-Request-Method"]) > 0 && len(req.Header["Origin"]) > 0
	if !preflight {
		for _, k := range []string{"Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Max-Age"} {
			if len(values(h, k)) > 0 {
				t.Errorf("%s on a response that is not a preflight", k)
			}
		}
	}
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// browserOutcome replays the Fetch standard's CORS check
// (https://fetch.spec.whatwg.org/#cors-check) and, for a preflight, the
// checks of the CORS-preflight fetch
// (https://fetch.spec.whatwg.org/#cors-preflight-fetch).
func browserOutcome(req *http.Request, status int, h http.Header, include bool) string {
	corsCheck := func() bool {
		acao := values(h, "Access-Control-Allow-Origin")
		if len(acao) != 1 {
			return false
		}
		if !include && acao[0] == "*" {
			return true
		}
		if acao[0] != req.Header.Get("Origin") {
			return false
		}
		if !include {
			return true
		}
		acac := values(h, "Access-Control-Allow-Credentials")
		return len(acac) == 1 && acac[0] == "true"
	}
	preflight := req.Method == http.MethodOptions && len(req.Header["Access-Control-Request-Method"]) > 0
	if !preflight {
		if corsCheck() {
			return "allowed"
		}
		return "blocked"
	}
	if !corsCheck() || status < 200 || status > 299 {
		return "blocked"
	}
	methods := members(h, "Access-Control-Allow-Methods")
	headers := members(h, "Access-Control-Allow-Headers")
	for _, m := range append(methods, headers...) {
		if !isToken(m) {
			return "blocked"
		}
	}
	m := req.Header.Get("Access-Control-Request-Method")
	safelisted := m == "GET" || m == "HEAD" || m == "POST"
	if !slices.Contains(methods, m) && !safelisted && !(slices.Contains(methods, "*") && !include) {
		return "blocked"
	}
	for _, line := range req.Header.Values("Access-Control-Request-Headers") {
		for _, name := range strings.Split(line, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			if containsMember("Access-Control-Allow-Headers", headers, name) {
				continue
			}
			if slices.Contains(headers, "*") && !include && !strings.EqualFold(name, "authorization") {
				continue
			}
			return "blocked"
		}
	}
	return "allowed"
}

// String helps failure messages.
func (c Case) String() string { return fmt.Sprintf("%s %s", c.ID, c.Title) }

// FuzzRequest builds a request from fuzzed parts, setting the headers
// directly (a value with newlines becomes several field lines) so that
// nothing net/http's client would refuse is filtered out. ok is false for a
// method no server would parse.
func FuzzRequest(method, path, origin, acrm, acrh string) (r *http.Request, ok bool) {
	if method == "" || len(method) > 16 || !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?# \r\n\t") {
		return nil, false
	}
	for i := 0; i < len(method); i++ {
		if method[i] <= ' ' || method[i] >= 0x7f {
			return nil, false
		}
	}
	r = httptest.NewRequest(http.MethodGet, "https://api.example.com/", nil)
	r.Method = method
	r.URL.Path = path
	r.URL.RawPath = path
	for _, kv := range [][2]string{{"Origin", origin}, {"Access-Control-Request-Method", acrm}, {"Access-Control-Request-Headers", acrh}} {
		if kv[1] != "" {
			r.Header[kv[0]] = strings.Split(kv[1], "\n")
		}
	}
	return r, true
}
