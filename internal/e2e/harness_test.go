package e2e_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/protocors/protocors/examples/icecream/shop"
)

const (
	webDir   = "testdata/web"
	howToRun = "browser tests need Chromium, Firefox and npm packages: apt-get install -y chromium firefox-esr && (cd internal/e2e/testdata/web && npm ci)"
)

// The browsers resolve these two names to 127.0.0.1 (Chromium's
// --host-resolver-rules, Firefox's network.dns.localDomains), so a page and
// an API on loopback can be two origins of one site that is not localhost,
// as app.example.com and api.example.com are: pages on appHost, APIs on
// apiHost, the site protocors.test (.test is reserved, RFC 6761, and not on
// the Public Suffix List, so protocors.test is the registrable domain).
const (
	appHost = "app.protocors.test"
	apiHost = "api.protocors.test"
)

// An engine is a browser every browser test runs in, as a subtest named
// after it (TestConnectWeb/chromium/..., TestConnectWeb/firefox/...).
type engine struct {
	name string // subtest name
	path string // executable, from Debian's package
	// blocked is the text of the TypeError fetch throws when the browser
	// blocks a response or stops a request: CORS errors are vague on
	// purpose, and each engine words its own.
	blocked string
	launch  func(path, profile string) (browser, error)
}

var engines = []*engine{{
	name:    "chromium",
	path:    "/usr/bin/chromium",
	blocked: "Failed to fetch",
	launch:  launchChromium, // chromedp, over the Chrome DevTools Protocol
}, {
	name:    "firefox",
	path:    "/usr/bin/firefox-esr",
	blocked: "NetworkError when attempting to fetch resource.",
	launch:  launchFirefox, // WebDriver BiDi (bidi_test.go)
}}

// browser is a running engine, shared by every test of the test binary.
type browser interface {
	// open opens a new tab on url and returns once the page has loaded.
	open(url string) (tab, error)
	close()
}

// tab is one page in a browser.
type tab interface {
	// evalString evaluates the JavaScript expression expr, whose value is a
	// string or a promise of one, and returns that string.
	evalString(expr string) (string, error)
	// setCookie stores a cookie for url's host in the browser, as if a
	// response from url had set it.
	setCookie(url, name, value string) error
	close()
}

// suite is what the tests in one engine share: one browser, one API, two
// page origins. Each engine has its own servers, so what one engine's
// browser did (the API's store, its recorder) never shows in the other's.
type suite struct {
	engine *engine
	api    string // API base URL, http://127.0.0.1:port
	// apiSameSite is the same API as http://localhost:port: another origin
	// than the page, but the same site, so the browser sends its cookies on
	// credentialed calls as it would from app.example.com to
	// api.example.com. (Across sites, third-party cookie policies differ
	// between engines: see TestCredentials.)
	apiSameSite string
	page        string // authorized page origin, http://localhost:port
	refused     string // another page origin the API does not authorize
	browser     browser
	seen        *recorder

	mu      sync.Mutex
	cleanup []func()
}

// started is an engine's suite, started on first use.
type started struct {
	once sync.Once
	s    *suite
	err  error
	skip string
}

var (
	bundleOnce sync.Once
	bundleDir  string // index.html and bundle.js, shared by every engine
	bundleErr  error

	suites = map[string]*started{}
)

func init() {
	for _, e := range engines {
		suites[e.name] = new(started)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, st := range suites {
		if st.s != nil {
			st.s.close()
		}
	}
	if bundleDir != "" {
		os.RemoveAll(bundleDir)
	}
	os.Exit(code)
}

// inEachEngine runs body as one subtest per engine, named after it. The
// engines run in parallel: each has its own browser and servers.
func inEachEngine(t *testing.T, body func(t *testing.T, s *suite)) {
	t.Helper()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			body(t, browserSuite(t, e))
		})
	}
}

// byEngine returns this engine's entry in a result that legitimately
// differs between engines. The map names every engine.
func byEngine[T any](t *testing.T, s *suite, m map[string]T) T {
	t.Helper()
	v, ok := m[s.engine.name]
	if !ok || len(m) != len(engines) {
		t.Fatalf("expectation %v does not name every engine", m)
	}
	return v
}

// browserSuite returns engine e's suite, starting it on first use. Without
// the engine or node_modules it skips the test, or fails it when CI=true.
func browserSuite(t *testing.T, e *engine) *suite {
	t.Helper()
	st := suites[e.name]
	st.once.Do(func() {
		if _, err := os.Stat(e.path); err != nil {
			st.skip = fmt.Sprintf("%s not found at %s; %s", e.name, e.path, howToRun)
			return
		}
		if _, err := os.Stat(filepath.Join(webDir, "node_modules", ".bin", "esbuild")); err != nil {
			st.skip = howToRun
			return
		}
		bundleOnce.Do(func() { bundleDir, bundleErr = bundle() })
		if bundleErr != nil {
			st.err = bundleErr
			return
		}
		st.s, st.err = startSuite(e)
	})
	if st.skip != "" {
		if os.Getenv("CI") == "true" {
			t.Fatal(st.skip)
		}
		t.Skip(st.skip)
	}
	if st.err != nil {
		t.Fatal(st.err)
	}
	return st.s
}

// bundle bundles the page's code (src/e2e.ts: the Connect web client and
// the official gRPC-Web client) with esbuild, at test time, into a new
// directory next to index.html.
func bundle() (string, error) {
	dist, err := os.MkdirTemp("", "protocors-e2e-web-")
	if err != nil {
		return "", err
	}
	esbuild := exec.Command(filepath.Join("node_modules", ".bin", "esbuild"), "src/e2e.ts",
		"--bundle", "--format=iife", "--target=es2022", "--log-level=warning",
		"--outfile="+filepath.Join(dist, "bundle.js"))
	esbuild.Dir = webDir
	if out, err := esbuild.CombinedOutput(); err != nil {
		os.RemoveAll(dist)
		return "", fmt.Errorf("esbuild: %v\n%s", err, out)
	}
	index, err := os.ReadFile(filepath.Join(webDir, "index.html"))
	if err == nil {
		err = os.WriteFile(filepath.Join(dist, "index.html"), index, 0o644)
	}
	if err != nil {
		os.RemoveAll(dist)
		return "", err
	}
	return dist, nil
}

func startSuite(e *engine) (s *suite, err error) {
	s = &suite{engine: e, seen: &recorder{}}
	defer func() {
		if err != nil {
			s.close()
		}
	}()

	// Two page origins on localhost, the API on 127.0.0.1: three origins.
	pages := http.FileServer(http.Dir(bundleDir))
	if s.page, err = s.serve("localhost:0", "localhost", pages); err != nil {
		return nil, err
	}
	if s.refused, err = s.serve("localhost:0", "localhost", pages); err != nil {
		return nil, err
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil)).With("engine", e.name)
	}
	api, err := shop.NewAPI(shop.NewStore(), []string{s.page}, nil, logger, testing.Verbose())
	if err != nil {
		return nil, err
	}
	if s.api, err = s.serve("127.0.0.1:0", "127.0.0.1", s.seen.wrap(api)); err != nil {
		return nil, err
	}
	s.apiSameSite = strings.Replace(s.api, "127.0.0.1", "localhost", 1)

	// One browser per engine for the whole test binary, fresh profile.
	profile, err := os.MkdirTemp("", "protocors-e2e-"+e.name+"-")
	if err != nil {
		return nil, err
	}
	s.addCleanup(func() { os.RemoveAll(profile) })
	b, err := e.launch(e.path, profile)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", e.path, err)
	}
	s.addCleanup(b.close)
	s.browser = b
	return s, nil
}

func (s *suite) addCleanup(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cleanup = append(s.cleanup, f)
}

func (s *suite) close() {
	s.mu.Lock()
	cleanup := s.cleanup
	s.cleanup = nil
	s.mu.Unlock()
	for i := len(cleanup) - 1; i >= 0; i-- {
		cleanup[i]()
	}
}

// serve serves h on addr until the test binary ends and returns its URL as
// http://host:port.
func (s *suite) serve(addr, host string, h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	s.addCleanup(func() { srv.Close() })
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return "http://" + net.JoinHostPort(host, port), nil
}

// recorder remembers the requests that reached the API (preflights aside),
// so tests can tell a request the browser never sent from one whose response
// it hid.
type recorder struct {
	mu   sync.Mutex
	seen []string
}

func (r *recorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodOptions {
			r.mu.Lock()
			r.seen = append(r.seen, req.Method+" "+req.URL.RequestURI())
			r.mu.Unlock()
		}
		h.ServeHTTP(w, req)
	})
}

// reached reports whether a request with this method, whose path and query
// contain part, reached the API.
func (r *recorder) reached(method, part string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.seen {
		if m, uri, _ := strings.Cut(s, " "); m == method && strings.Contains(uri, part) {
			return true
		}
	}
	return false
}

// page is a tab of the suite's browser, closed when the test ends.
type page struct {
	tab tab
	url string
}

// tab opens a new tab on the test page served from origin and waits for the
// bundle to load.
func (s *suite) tab(t *testing.T, origin string) *page {
	t.Helper()
	p := s.open(t, origin+"/index.html")
	p.waitFor(t, `document.body && document.body.dataset.ready === "true"`, 20*time.Second)
	return p
}

// open opens a new tab on url and waits for it to load.
func (s *suite) open(t *testing.T, url string) *page {
	t.Helper()
	tb, err := s.browser.open(url)
	if err != nil {
		t.Fatalf("%s: load page %s: %v", s.engine.name, url, err)
	}
	t.Cleanup(tb.close)
	return &page{tab: tb, url: url}
}

// run evaluates the JavaScript expression expr (awaiting it if it is a
// promise) in the page and decodes its value, which JSON.stringify
// serializes, into out (nil: ignore it).
func (p *page) run(t *testing.T, expr string, out any) {
	t.Helper()
	text, err := p.tab.evalString(`(async () => JSON.stringify(await (` + expr + `)) ?? "null")()`)
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	if out == nil {
		return
	}
	if err := json.Unmarshal([]byte(text), out); err != nil {
		t.Fatalf("%s: decode %s: %v", expr, text, err)
	}
}

// waitFor waits until the JavaScript condition cond holds in the page.
func (p *page) waitFor(t *testing.T, cond string, timeout time.Duration) {
	t.Helper()
	p.run(t, fmt.Sprintf(`new Promise((resolve, reject) => {
		const end = Date.now() + %d;
		const poll = () => {
			if (%s) resolve(true);
			else if (Date.now() > end) reject(new Error("timed out after %v waiting for " + %q + " in " + location.href));
			else setTimeout(poll, 20);
		};
		poll();
	})`, timeout.Milliseconds(), cond, timeout, cond), nil)
}

// setCookie stores a cookie for url's host, as if url had set it at login.
func (p *page) setCookie(t *testing.T, url, name, value string) {
	t.Helper()
	if err := p.tab.setCookie(url, name, value); err != nil {
		t.Fatalf("set cookie %s for %s: %v", name, url, err)
	}
}

// observation is what a call let the page see (window.e2e in src/e2e.ts).
type observation struct {
	Outcome    string          `json:"outcome"` // allowed, blocked, error
	Status     int             `json:"status"`
	Body       json.RawMessage `json:"body"`
	Code       string          `json:"code"`
	Error      string          `json:"error"`
	ScoopsLeft *string         `json:"scoopsLeft"`
	ServedBy   *string         `json:"servedBy"`
}

func (o observation) String() string {
	b, _ := json.Marshal(o)
	return string(b)
}

// eval calls window.e2e.<fn>(args...) in the page and decodes the result.
func eval(t *testing.T, p *page, fn string, args ...any) observation {
	t.Helper()
	parts := make([]string, len(args))
	for i, a := range args {
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		parts[i] = string(b)
	}
	var o observation
	p.run(t, "window.e2e."+fn+"("+strings.Join(parts, ", ")+")", &o)
	return o
}

// fetchSpec is a plain fetch made by the page.
type fetchSpec struct {
	URL         string            `json:"url"`
	Method      string            `json:"method,omitempty"`
	Headers     map[string]string `json:"headers,omitempty"`
	Body        string            `json:"body,omitempty"`
	Credentials string            `json:"credentials,omitempty"`
}

// callSpec is a unary call made by the page with the Connect web client.
type callSpec struct {
	API         string            `json:"api"`
	Kind        string            `json:"kind"` // connect-json, connect-binary, connect-get, grpc-web
	Method      string            `json:"method"`
	Request     map[string]any    `json:"request"`
	Headers     map[string]string `json:"headers,omitempty"`
	Credentials bool              `json:"credentials,omitempty"`
}
