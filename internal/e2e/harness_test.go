package e2e_test

import (
	"context"
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

	"github.com/chromedp/chromedp"

	"github.com/protocors/protocors/examples/icecream/shop"
)

const (
	chromiumPath = "/usr/bin/chromium"
	webDir       = "testdata/web"
	howToRun     = "browser tests need Chromium and npm packages: apt-get install -y chromium && (cd internal/e2e/testdata/web && npm ci)"
)

// suite is shared by every test: one browser, one API, two page origins.
type suite struct {
	api string // API base URL, http://127.0.0.1:port
	// apiSameSite is the same API as http://localhost:port: another origin
	// than the page, but the same site, so the browser sends its cookies on
	// credentialed calls as it would from app.example.com to
	// api.example.com. (Across sites, Chromium's third-party cookie
	// blocking would keep them.)
	apiSameSite string
	page        string // authorized page origin, http://localhost:port
	refused     string // another page origin the API does not authorize
	browser     context.Context
	seen        *recorder

	cleanup []func()
}

var (
	setupOnce sync.Once
	shared    *suite
	setupErr  error
	skipMsg   string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		for i := len(shared.cleanup) - 1; i >= 0; i-- {
			shared.cleanup[i]()
		}
	}
	os.Exit(code)
}

// browserSuite returns the shared suite, starting it on first use. Without
// Chromium or node_modules it skips the test, or fails it when CI=true.
func browserSuite(t *testing.T) *suite {
	t.Helper()
	setupOnce.Do(func() {
		if _, err := os.Stat(chromiumPath); err != nil {
			skipMsg = howToRun
			return
		}
		if _, err := os.Stat(filepath.Join(webDir, "node_modules", ".bin", "esbuild")); err != nil {
			skipMsg = howToRun
			return
		}
		shared, setupErr = startSuite()
	})
	if skipMsg != "" {
		if os.Getenv("CI") == "true" {
			t.Fatal(skipMsg)
		}
		t.Skip(skipMsg)
	}
	if setupErr != nil {
		t.Fatal(setupErr)
	}
	return shared
}

func startSuite() (s *suite, err error) {
	s = &suite{seen: &recorder{}}
	defer func() {
		if err != nil {
			for i := len(s.cleanup) - 1; i >= 0; i-- {
				s.cleanup[i]()
			}
		}
	}()

	// Bundle the Connect web client with esbuild, at test time.
	dist, err := os.MkdirTemp("", "protocors-e2e-web-")
	if err != nil {
		return nil, err
	}
	s.cleanup = append(s.cleanup, func() { os.RemoveAll(dist) })
	esbuild := exec.Command(filepath.Join("node_modules", ".bin", "esbuild"), "src/e2e.ts",
		"--bundle", "--format=iife", "--target=es2022", "--log-level=warning",
		"--outfile="+filepath.Join(dist, "bundle.js"))
	esbuild.Dir = webDir
	if out, err := esbuild.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("esbuild: %v\n%s", err, out)
	}
	index, err := os.ReadFile(filepath.Join(webDir, "index.html"))
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dist, "index.html"), index, 0o644); err != nil {
		return nil, err
	}

	// Two page origins on localhost, the API on 127.0.0.1: three origins.
	pages := http.FileServer(http.Dir(dist))
	if s.page, err = s.serve("localhost:0", "localhost", pages); err != nil {
		return nil, err
	}
	if s.refused, err = s.serve("localhost:0", "localhost", pages); err != nil {
		return nil, err
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	api, err := shop.APIHandler(shop.NewStore(), []string{s.page}, logger, testing.Verbose())
	if err != nil {
		return nil, err
	}
	if s.api, err = s.serve("127.0.0.1:0", "127.0.0.1", s.seen.wrap(api)); err != nil {
		return nil, err
	}
	s.apiSameSite = strings.Replace(s.api, "127.0.0.1", "localhost", 1)

	// One headless Chromium for the whole suite, fresh profile.
	profile, err := os.MkdirTemp("", "protocors-e2e-chromium-")
	if err != nil {
		return nil, err
	}
	s.cleanup = append(s.cleanup, func() { os.RemoveAll(profile) })
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(profile),
	)
	s.cleanup = append(s.cleanup, cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	s.cleanup = append(s.cleanup, func() { cancelBrowser() })
	// Start the browser now, so a broken installation fails here. (The
	// first action allocates the browser with the context it is given, which
	// must live as long as the suite: no timeout here.)
	if err := chromedp.Do(browser, chromedp.Navigate("about:blank")); err != nil {
		return nil, fmt.Errorf("start %s: %w", chromiumPath, err)
	}
	s.browser = browser
	return s, nil
}

// serve serves h on addr and returns its URL as http://host:port.
func (s *suite) serve(addr, host string, h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	s.cleanup = append(s.cleanup, func() { srv.Close() })
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

// tab opens a new tab on the page served from origin and waits for the
// bundle to load.
func (s *suite) tab(t *testing.T, origin string) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(s.browser)
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancelTimeout)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(origin+"/index.html"),
		chromedp.Poll[chromedp.Void](`document.body && document.body.dataset.ready === "true"`, chromedp.WithPollingTimeout(20*time.Second)),
	); err != nil {
		t.Fatalf("load page %s: %v", origin, err)
	}
	return ctx
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
func eval(t *testing.T, ctx context.Context, fn string, args ...any) observation {
	t.Helper()
	parts := make([]string, len(args))
	for i, a := range args {
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		parts[i] = string(b)
	}
	expr := "window.e2e." + fn + "(" + strings.Join(parts, ", ") + ")"
	o, err := chromedp.Run(ctx, chromedp.Evaluate[observation](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
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
