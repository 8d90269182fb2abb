package main

import (
	"bytes"
	"context"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/protocors/protocors/examples/icecream/shop"
	"github.com/protocors/protocors/protocorstest"
)

// TestWiring: both middlewares of the example's API are mounted in front
// of every RPC they know (protocorstest.Verify probes the API as mounted).
func TestWiring(t *testing.T) {
	api, err := shop.NewAPI(shop.NewStore(), []string{"https://shop.example"},
		map[string][]string{shop.SetFactory: {"https://factory.example"}}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	connectCORS, gatewayCORS := api.Middlewares()
	if err := protocorstest.Verify(api, connectCORS, gatewayCORS); err != nil {
		t.Error(err)
	}
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want options
	}{{
		name: "defaults",
		want: options{Config: shop.Config{APIAddr: "127.0.0.1:8080", PageAddr: "localhost:8081"}},
	}, {
		name: "environment",
		env: map[string]string{"PROTOCORS_API_ADDR": "127.0.0.1:9000", "PROTOCORS_PAGE_ADDR": "localhost:9001",
			"PROTOCORS_ORIGINS": "https://shop.example, http://localhost:3000", "PROTOCORS_DEBUG": "1",
			"PROTOCORS_FACTORY_ORIGINS": "https://factory.example", "PROTOCORS_CONFIG": "/etc/icecream/cors.json"},
		want: options{Config: shop.Config{APIAddr: "127.0.0.1:9000", PageAddr: "localhost:9001",
			Origins: []string{"https://shop.example", "http://localhost:3000"}, Debug: true,
			OriginSets: map[string][]string{"factory": {"https://factory.example"}}},
			ConfigFile: "/etc/icecream/cors.json"},
	}, {
		name: "flags override environment",
		args: []string{"-api", "127.0.0.1:7000", "-origins", "https://a.example,,https://b.example",
			"-factory-origins", "https://f1.example, https://f2.example", "-config", "cors.json"},
		env: map[string]string{"PROTOCORS_API_ADDR": "127.0.0.1:9000", "PROTOCORS_ORIGINS": "https://shop.example",
			"PROTOCORS_FACTORY_ORIGINS": "https://factory.example", "PROTOCORS_CONFIG": "/etc/icecream/cors.json"},
		want: options{Config: shop.Config{APIAddr: "127.0.0.1:7000", PageAddr: "localhost:8081",
			Origins:    []string{"https://a.example", "https://b.example"},
			OriginSets: map[string][]string{"factory": {"https://f1.example", "https://f2.example"}}},
			ConfigFile: "cors.json"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseConfig(tt.args, func(k string) string { return tt.env[k] }, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if got.APIAddr != tt.want.APIAddr || got.PageAddr != tt.want.PageAddr || got.Debug != tt.want.Debug ||
				!slices.Equal(got.Origins, tt.want.Origins) || got.ConfigFile != tt.want.ConfigFile ||
				!maps.EqualFunc(got.OriginSets, tt.want.OriginSets, slices.Equal) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	if _, err := parseConfig([]string{"extra"}, func(string) string { return "" }, io.Discard); err == nil {
		t.Error("positional argument accepted")
	}
}

// syncBuffer is an io.Writer safe for the servers' logger and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRun starts the example on free ports, checks both servers answer as a
// browser needs, and stops it by cancelling the context (as Ctrl-C does).
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	started := make(chan *shop.Servers, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, options{Config: shop.Config{APIAddr: "127.0.0.1:0", PageAddr: "localhost:0"}}, &out, func(s *shop.Servers) { started <- s })
	}()
	var s *shop.Servers
	select {
	case s = <-started:
	case err := <-done:
		t.Fatalf("run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not start")
	}
	if !strings.HasPrefix(s.APIURL, "http://127.0.0.1:") || !strings.HasPrefix(s.PageURL, "http://localhost:") {
		t.Errorf("URLs %s and %s, want 127.0.0.1 and localhost", s.APIURL, s.PageURL)
	}
	if got := out.String(); !strings.Contains(got, s.APIURL) || !strings.Contains(got, s.PageURL) {
		t.Errorf("output does not print both URLs:\n%s", got)
	}

	// The page tells its script where the API is.
	res, err := http.Get(s.PageURL + "/config.js")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), `"`+s.APIURL+`"`) {
		t.Errorf("config.js = %q, want the API URL", body)
	}

	// The API grants the page's origin (the default) a Connect preflight.
	req, _ := http.NewRequest(http.MethodOptions, s.APIURL+"/icecream.v1.IceCreamService/PutIceCream", nil)
	req.Header.Set("Origin", s.PageURL)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type,connect-protocol-version,x-my-header")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != s.PageURL ||
		res.Header.Get("Access-Control-Allow-Credentials") != "true" || res.Header.Get("Access-Control-Max-Age") != "600" {
		t.Errorf("preflight: %d %v", res.StatusCode, res.Header)
	}

	// /metrics counts that preflight, in the Prometheus text format.
	res, err = http.Get(s.APIURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	want := `protocors_decisions_total{otel_scope_name="github.com/protocors/protocors",otel_scope_schema_url="",otel_scope_version="",protocors_outcome="preflight_allowed",rpc_method="PutIceCream",rpc_service="icecream.v1.IceCreamService",rpc_system="connect_rpc"} 1`
	if !strings.Contains(string(body), want) {
		t.Errorf("/metrics lacks\n%s\nin\n%s", want, body)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop")
	}
	if _, err := http.Get(s.APIURL + "/v1/icecream"); err == nil {
		t.Error("API still serving after shutdown")
	}
}

// TestRunRefusesBadOrigins: a mistake in the deployment's origins stops the
// example before it serves anything, naming the origin.
func TestRunRefusesBadOrigins(t *testing.T) {
	err := run(context.Background(), options{Config: shop.Config{APIAddr: "127.0.0.1:0", PageAddr: "localhost:0",
		Origins: []string{"https://shop.example/"}}}, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), `"https://shop.example/"`) {
		t.Errorf("run = %v, want an error naming the origin", err)
	}
}
