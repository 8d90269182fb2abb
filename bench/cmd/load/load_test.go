package main

import (
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// TestMain lets the test binary be the server processes too, as the
// command is for itself (see start).
func TestMain(m *testing.M) {
	if mode := os.Getenv(serveEnv); mode != "" {
		every, _ := time.ParseDuration(os.Getenv(reconfigureEnv))
		if err := serve(mode, every, os.Stdin, os.Stdout); err != nil {
			os.Stderr.WriteString("load server: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestSmoke is the load test in small, which `go test ./...` runs in CI:
// both servers for a second each at 120 requests a second (every target
// ten times over), Reconfigure every 100 ms. Every answer must be the one
// its target expects, and Reconfigure must succeed throughout.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two server processes")
	}
	cfg := config{duration: time.Second, window: 500 * time.Millisecond, rate: 120, reconfigure: 100 * time.Millisecond}
	rep, err := run(cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	out := rep.markdown(cfg)
	t.Log("\n" + out)
	if n := rep.unexpected(); n > 0 {
		t.Errorf("%d unexpected answers", n)
	}
	for _, s := range rep.servers {
		if s.all.Requests < 100 {
			t.Errorf("%s: %d requests, want about 120", s.mode, s.all.Requests)
		}
	}
	cors := rep.servers[1]
	if cors.refusals == 0 {
		t.Error("no request refused with 403: the refused targets did not reach the middlewares")
	}
	if cors.stats.Reconfigured < 5 {
		t.Errorf("Reconfigure ran %d times in 2 s, want about 20", cors.stats.Reconfigured)
	}
	if !strings.Contains(out, "| behind protocors") {
		t.Errorf("report without the middlewares' row:\n%s", out)
	}
}

// TestCheck shows that check catches each kind of wrong answer: a status,
// a missing or extra Access-Control-Allow-Origin, a transport error, an
// unknown target.
func TestCheck(t *testing.T) {
	base := "http://127.0.0.1:1"
	tgts, index := targets(base)
	allowed := tgts[3] // Connect GetIceCream from the shop
	if index[key(allowed.Method, allowed.URL)].kind != kindAllowed {
		t.Fatalf("mix[3] is %+v, want an allowed actual request", index[key(allowed.Method, allowed.URL)])
	}
	grant := http.Header{"Access-Control-Allow-Origin": {shopOrigin}}
	for _, tc := range []struct {
		name string
		mode string
		res  vegeta.Result
		bad  bool
	}{
		{"granted", modeCORS, vegeta.Result{Method: allowed.Method, URL: allowed.URL, Code: 200, Headers: grant}, false},
		{"bare, no CORS headers", modeBare, vegeta.Result{Method: allowed.Method, URL: allowed.URL, Code: 200, Headers: http.Header{}}, false},
		{"status", modeCORS, vegeta.Result{Method: allowed.Method, URL: allowed.URL, Code: 403, Headers: grant}, true},
		{"grant missing", modeCORS, vegeta.Result{Method: allowed.Method, URL: allowed.URL, Code: 200, Headers: http.Header{}}, true},
		{"grant without the middlewares", modeBare, vegeta.Result{Method: allowed.Method, URL: allowed.URL, Code: 200, Headers: grant}, true},
		{"transport error", modeCORS, vegeta.Result{Method: allowed.Method, URL: allowed.URL, Error: "connection refused"}, true},
		{"unknown target", modeCORS, vegeta.Result{Method: http.MethodDelete, URL: allowed.URL, Code: 200}, true},
	} {
		s := &server{mode: tc.mode, index: index, byKind: map[string]*vegeta.Metrics{}, byTarget: map[string]int{}}
		s.check(&tc.res)
		if got := s.badCount > 0; got != tc.bad {
			t.Errorf("%s: unexpected %v (%v), want %v", tc.name, got, s.bad, tc.bad)
		}
	}
}
