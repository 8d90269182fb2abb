package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// TestMinimal sends what a page on https://app.example.com (and one on
// another origin) sends to both routes of GetIceCream, over a real server.
func TestMinimal(t *testing.T) {
	h, err := newHandler()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	const app, evil = "https://app.example.com", "https://evil.example"
	tests := []struct {
		name, method, path, origin, body string
		headers                          map[string]string
		code                             int
		allowOrigin, inBody              string
	}{
		{name: "connect preflight", method: "OPTIONS", path: "/icecream.v1.IceCreamService/GetIceCream", origin: app,
			headers: map[string]string{"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"},
			code:    http.StatusNoContent, allowOrigin: app},
		{name: "connect call", method: "POST", path: "/icecream.v1.IceCreamService/GetIceCream", origin: app,
			body: `{"flavor":"mint"}`, headers: map[string]string{"Content-Type": "application/json"},
			code: http.StatusOK, allowOrigin: app, inBody: `"flavor":"mint"`},
		{name: "gateway preflight", method: "OPTIONS", path: "/v1/icecream/mint", origin: app,
			headers: map[string]string{"Access-Control-Request-Method": "GET"},
			code:    http.StatusNoContent, allowOrigin: app},
		{name: "gateway call", method: "GET", path: "/v1/icecream/mint", origin: app,
			code: http.StatusOK, allowOrigin: app, inBody: `"scoops":3`},
		{name: "gateway preflight from another origin", method: "OPTIONS", path: "/v1/icecream/mint", origin: evil,
			headers: map[string]string{"Access-Control-Request-Method": "GET"},
			code:    http.StatusForbidden},
		{name: "gateway preflight of a CORS-disabled RPC", method: "OPTIONS", path: "/v1/icecream/mint", origin: app,
			headers: map[string]string{"Access-Control-Request-Method": "DELETE"},
			code:    http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Origin", tt.origin)
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.code {
				t.Errorf("status %d, want %d (%s)", res.StatusCode, tt.code, body)
			}
			if got := res.Header.Get("Access-Control-Allow-Origin"); got != tt.allowOrigin {
				t.Errorf("Access-Control-Allow-Origin %q, want %q", got, tt.allowOrigin)
			}
			if !strings.Contains(string(body), tt.inBody) {
				t.Errorf("body %s, want it to contain %s", body, tt.inBody)
			}
		})
	}
}

// The example's promise: the whole program fits in one screen.
func TestUnderSixtyLines(t *testing.T) {
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(src), "\n"); n >= 60 {
		t.Errorf("main.go has %d lines, want under 60", n)
	}
}
