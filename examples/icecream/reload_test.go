package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/protocors/protocors/examples/icecream/shop"
)

// configMap is a directory laid out as the kubelet lays out a ConfigMap
// volume: dir/cors.json -> ..data/cors.json, ..data -> ..<version>/. An
// update writes a new version directory and switches ..data atomically, so
// the file the server reads is never written in place.
type configMap struct {
	t       *testing.T
	dir     string
	version int
}

func newConfigMap(t *testing.T, content string) *configMap {
	c := &configMap{t: t, dir: t.TempDir()}
	c.update(content)
	if err := os.Symlink(filepath.Join("..data", "cors.json"), c.path()); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *configMap) path() string { return filepath.Join(c.dir, "cors.json") }

func (c *configMap) update(content string) {
	c.t.Helper()
	c.version++
	v := fmt.Sprintf("..v%d", c.version)
	if err := os.Mkdir(filepath.Join(c.dir, v), 0o755); err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.dir, v, "cors.json"), []byte(content), 0o644); err != nil {
		c.t.Fatal(err)
	}
	tmp := filepath.Join(c.dir, "..data_tmp")
	if err := os.Symlink(v, tmp); err != nil {
		c.t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(c.dir, "..data")); err != nil {
		c.t.Fatal(err)
	}
}

// startWithConfig runs the example with a -config file, as main does, and
// stops it at the end of the test.
func startWithConfig(t *testing.T, opts options, out io.Writer) *shop.Servers {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan *shop.Servers, 1)
	done := make(chan error, 1)
	opts.APIAddr, opts.PageAddr = "127.0.0.1:0", "localhost:0"
	go func() { done <- run(ctx, opts, out, func(s *shop.Servers) { started <- s }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	select {
	case s := <-started:
		return s
	case err := <-done:
		t.Fatalf("run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not start")
	}
	return nil
}

// granted asks the API for a preflight of RestockIceCream from origin, over
// Connect and over the gateway, and reports whether both granted it (it
// fails the test when the two middlewares disagree).
func granted(t *testing.T, api, origin string) bool {
	t.Helper()
	got := grants(t, api, origin)
	if got[0] != got[1] {
		t.Fatalf("origin %s: Connect granted %v, gateway granted %v", origin, got[0], got[1])
	}
	return got[0]
}

// grantedByBoth is granted while a reload may be under way: the two
// middlewares swap one after the other, so for an instant they may
// disagree; it reports whether both grant.
func grantedByBoth(t *testing.T, api, origin string) bool {
	t.Helper()
	got := grants(t, api, origin)
	return got[0] && got[1]
}

// grants asks the Connect and gateway routes of RestockIceCream.
func grants(t *testing.T, api, origin string) [2]bool {
	t.Helper()
	var got [2]bool
	for i, path := range []string{"/icecream.v1.IceCreamService/RestockIceCream", "/v1/icecream/vanilla:restock"} {
		req, _ := http.NewRequest(http.MethodOptions, api+path, nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		got[i] = res.Header.Get("Access-Control-Allow-Origin") == origin
	}
	return got
}

// eventually polls cond for up to 5 seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after 5 s: %s", what)
		}
	}
}

const (
	factoryA = "https://factory-a.example"
	factoryB = "https://factory-b.example"
)

// TestReloadConfigFile: the server picks up a changed -config file (a
// ConfigMap update) without a restart, on both middlewares, logs what
// changed, and keeps the configuration in force when the new file is bad.
func TestReloadConfigFile(t *testing.T) {
	cm := newConfigMap(t, `{"origin_sets": {"factory": ["`+factoryA+`"]}}`)
	var out syncBuffer
	s := startWithConfig(t, options{ConfigFile: cm.path(), Poll: 20 * time.Millisecond,
		Config: shop.Config{OriginSets: map[string][]string{"factory": {"https://from-the-flag.example"}}}}, &out)

	// The file's factory set replaced the flag's; the shop's origins (no
	// flag, no key in the file) are the page's own.
	if !granted(t, s.APIURL, factoryA) || granted(t, s.APIURL, factoryB) || granted(t, s.APIURL, "https://from-the-flag.example") {
		t.Fatalf("at start: want %s only", factoryA)
	}
	if origins, _ := s.Authorized(); len(origins) != 1 || origins[0] != s.PageURL {
		t.Errorf("origins %q, want the page's %s", origins, s.PageURL)
	}

	cm.update(`{"origins": ["https://shop.example"], "origin_sets": {"factory": ["` + factoryB + `"]}}`)
	eventually(t, factoryB+" granted after the file changed", func() bool { return grantedByBoth(t, s.APIURL, factoryB) })
	if granted(t, s.APIURL, factoryA) {
		t.Errorf("%s still granted after the file removed it", factoryA)
	}
	eventually(t, "reload logged", func() bool { return strings.Contains(out.String(), `msg="origins reloaded"`) })
	for _, want := range []string{
		`trigger="file changed"`,
		`origins.added=[https://shop.example]`, `origins.removed=[` + s.PageURL + `]`,
		`origin_sets.factory.added=[` + factoryB + `]`, `origin_sets.factory.removed=[` + factoryA + `]`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, out.String())
		}
	}

	// Bad files: each is logged once and changes nothing.
	for _, bad := range []struct{ content, logged string }{
		{`{"origin_sets": {"factory": ["https://factory-c.example/"]}}`, `https://factory-c.example/`}, // not an origin
		{`{"origin_sets": {"factroy": ["https://factory-c.example"]}}`, `factroy`},                     // a typo
		{`{"origins": ["https://shop.example"],`, `unexpected EOF`},                                    // half written
	} {
		cm.update(bad.content)
		eventually(t, "bad file "+bad.content+" logged", func() bool {
			return strings.Contains(out.String(), "level=ERROR") && strings.Contains(out.String(), bad.logged)
		})
		if !granted(t, s.APIURL, factoryB) || granted(t, s.APIURL, "https://factory-c.example") {
			t.Errorf("after bad file %s: configuration changed", bad.content)
		}
	}
	if n := strings.Count(out.String(), "level=ERROR"); n != 3 {
		t.Errorf("%d errors logged for 3 bad files:\n%s", n, out.String())
	}
	if origins, sets := s.Authorized(); len(origins) != 1 || origins[0] != "https://shop.example" ||
		len(sets["factory"]) != 1 || sets["factory"][0] != factoryB {
		t.Errorf("after bad files: %q %q", origins, sets)
	}

	// Fixed again: reloaded. Removing the key falls back to the flag.
	cm.update(`{}`)
	eventually(t, "flag's factory origin granted", func() bool { return grantedByBoth(t, s.APIURL, "https://from-the-flag.example") })
	if granted(t, s.APIURL, factoryB) {
		t.Errorf("%s still granted", factoryB)
	}
}

// TestReloadOnSIGHUP: SIGHUP re-reads the file at once (no polling here).
func TestReloadOnSIGHUP(t *testing.T) {
	cm := newConfigMap(t, `{"origin_sets": {"factory": ["`+factoryA+`"]}}`)
	var out syncBuffer
	s := startWithConfig(t, options{ConfigFile: cm.path(), Poll: time.Hour}, &out)
	cm.update(`{"origin_sets": {"factory": ["` + factoryA + `", "` + factoryB + `"]}}`)
	if granted(t, s.APIURL, factoryB) {
		t.Fatal("reloaded before SIGHUP")
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually(t, factoryB+" granted after SIGHUP", func() bool { return grantedByBoth(t, s.APIURL, factoryB) })
	if !granted(t, s.APIURL, factoryA) {
		t.Errorf("%s no longer granted", factoryA)
	}
	eventually(t, "reload logged", func() bool {
		return strings.Contains(out.String(), `trigger=SIGHUP`) && strings.Contains(out.String(), `origin_sets.factory.added=[`+factoryB+`]`)
	})
}

// TestRunRefusesBadConfigFile: at start, unlike a reload, a bad file stops
// the example before it serves anything.
func TestRunRefusesBadConfigFile(t *testing.T) {
	for _, content := range []string{`{"origin_sets": {"factory": ["https://factory.example/"]}}`, `{"origin": []}`} {
		cm := newConfigMap(t, content)
		err := run(context.Background(), options{ConfigFile: cm.path(), Config: shop.Config{APIAddr: "127.0.0.1:0", PageAddr: "localhost:0"}}, io.Discard, nil)
		if err == nil {
			t.Errorf("run with %s: no error", content)
		}
	}
	if err := run(context.Background(), options{ConfigFile: filepath.Join(t.TempDir(), "missing.json"), Config: shop.Config{APIAddr: "127.0.0.1:0", PageAddr: "localhost:0"}}, io.Discard, nil); err == nil {
		t.Error("run with a missing file: no error")
	}
}
