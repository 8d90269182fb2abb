package interceptor_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/interceptor"
	"github.com/protocors/protocors/internal/corstest"
	"github.com/protocors/protocors/internal/gen/protocors/test/v1/testv1connect"
)

// The attacks of issue "safe whatever the Content-Type, the credentials or
// the debug switch", against real connect-go handlers. Each failed before
// the shared request path (internal/core/gate.go) closed it.

// grpcFrame frames msg as one gRPC length-prefixed message.
func grpcFrame(msg string) []byte {
	b := make([]byte, 5+len(msg))
	binary.BigEndian.PutUint32(b[1:5], uint32(len(msg)))
	copy(b[5:], msg)
	return b
}

// Hole 1: a Content-Type starting with application/grpc passed the request
// to the handler unjudged. connect-go serves unary gRPC over HTTP/1.1, so a
// page whose origin Reconfigure had just removed ran the RPC with a
// Content-Type its browser still held a cached preflight grant for.
func TestAttackGRPCContentTypeSkipsProtection(t *testing.T) {
	const page = "https://page.example.com"
	mw, err := interceptor.New(protocors.WithDefaultPolicy(&corspb.Policy{AllowOrigins: []string{page}}))
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, mw) // real connect-go handlers, HTTP/2 and TLS
	if err := mw.Reconfigure(protocors.WithDefaultPolicy(&corspb.Policy{AllowOrigins: []string{"https://other.example.com"}})); err != nil {
		t.Fatal(err)
	}
	for _, ct := range []string{"application/grpc+json", "application/grpc", "application/GRPC+proto", "application/json"} {
		body := []byte(`{"text":"hi"}`)
		if strings.HasPrefix(strings.ToLower(ct), "application/grpc") {
			body = grpcFrame(`{"text":"hi"}`)
		}
		for _, marker := range [][]string{
			{"Origin", page, "Sec-Fetch-Site", "cross-site"},
			{"Origin", page},                 // an older browser
			{"Sec-Fetch-Site", "cross-site"}, // no Origin
		} {
			r, _ := http.NewRequest("POST", srv.url+testv1connect.PingServicePingProcedure, bytes.NewReader(body))
			r.Header.Set("Content-Type", ct)
			for i := 0; i+1 < len(marker); i += 2 {
				r.Header.Set(marker[i], marker[i+1])
			}
			before := srv.reached.Load()
			res, err := srv.client.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusForbidden || srv.reached.Load() != before {
				t.Errorf("%s %v: status %d, handler reached %t; want 403 before the handler", ct, marker, res.StatusCode, srv.reached.Load() != before)
			}
		}
	}
	// A gRPC client (no Origin, no Sec-Fetch-Site) is untouched.
	r, _ := http.NewRequest("POST", srv.url+testv1connect.PingServicePingProcedure, bytes.NewReader(grpcFrame("")))
	r.Header.Set("Content-Type", "application/grpc")
	r.Header.Set("Te", "trailers")
	res, err := srv.client.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Vary") != "" || len(corsHeaders(res.Header)) > 0 {
		t.Errorf("native gRPC client: %d %v, want 200 untouched", res.StatusCode, res.Header)
	}
}

// Hole 2: a Connect GET (which connect-go serves whatever the
// Content-Type) with Content-Type application/grpc was answered without
// Vary: Origin, and without Access-Control-Allow-Origin: * under a "*"
// policy, so a shared cache stored one origin's answer for every origin.
func TestAttackGRPCContentTypeOnGETPoisonsCaches(t *testing.T) {
	mw, err := interceptor.New()
	if err != nil {
		t.Fatal(err)
	}
	h := mw.Handler(reached)
	for _, tt := range []struct {
		path, origin, acao string
		vary               bool
	}{
		{testv1connect.FlavorServiceGetFlavorProcedure, appOrigin, appOrigin, true},
		{testv1connect.FlavorServiceGetFlavorProcedure, evilOrigin, "", true},
		{testv1connect.FlavorServiceGetFlavorProcedure, "", "", true},
		{testv1connect.ResourceServiceGetResourceProcedure, evilOrigin, "*", false},
		{testv1connect.ResourceServiceGetResourceProcedure, "", "*", false},
	} {
		for _, ct := range []string{"application/grpc", "application/grpc+proto"} {
			r := httptest.NewRequest("GET", tt.path+"?encoding=json&message={}", nil)
			r.Header.Set("Content-Type", ct)
			if tt.origin != "" {
				r.Header.Set("Origin", tt.origin)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if got := w.Header().Get("Access-Control-Allow-Origin"); got != tt.acao {
				t.Errorf("GET %s from %q, %s: Access-Control-Allow-Origin %q, want %q", tt.path, tt.origin, ct, got, tt.acao)
			}
			if got := strings.Contains(w.Header().Get("Vary"), "Origin"); got != tt.vary {
				t.Errorf("GET %s from %q, %s: Vary %q, want Origin in it: %t", tt.path, tt.origin, ct, w.Header().Get("Vary"), tt.vary)
			}
		}
	}
}

// Hole 3 on the Connect side: a cross-origin unsafe request with the
// user's credentials to a procedure whose policy does not allow them.
func TestAttackCredentials(t *testing.T) {
	mw, err := interceptor.New()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		headers    []string
		status     int // 0: reached the handler
	}{
		{`"*" with a cookie`, testv1connect.ResourceServiceGetResourceProcedure, []string{"Origin", evilOrigin, "Sec-Fetch-Site", "cross-site", "Cookie", "s=1"}, 403},
		{`"*" with HTTP authentication`, testv1connect.ResourceServiceGetResourceProcedure, []string{"Origin", evilOrigin, "Sec-Fetch-Site", "same-site", "Authorization", "Bearer x"}, 403},
		{"allowed origin without allow_credentials, cookie", testv1connect.FlavorServiceGetFlavorProcedure, []string{"Origin", appOrigin, "Sec-Fetch-Site", "cross-site", "Cookie", "s=1"}, 403},
		{"allow_credentials, cookie", testv1connect.FlavorServicePutFlavorProcedure, []string{"Origin", appOrigin, "Sec-Fetch-Site", "cross-site", "Cookie", "s=1"}, 0},
		{`"*" without credentials`, testv1connect.ResourceServiceGetResourceProcedure, []string{"Origin", evilOrigin, "Sec-Fetch-Site", "cross-site"}, 0},
		{"same origin with a cookie", testv1connect.ResourceServiceGetResourceProcedure, []string{"Origin", "http://example.com", "Sec-Fetch-Site", "same-origin", "Cookie", "s=1"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ran := false
			h := mw.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { ran = true }))
			r := httptest.NewRequest("POST", tt.path, strings.NewReader("{}"))
			r.Header.Set("Content-Type", "application/json")
			for i := 0; i+1 < len(tt.headers); i += 2 {
				r.Header.Set(tt.headers[i], tt.headers[i+1])
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if tt.status == 0 && (!ran || w.Code != 200) || tt.status != 0 && (ran || w.Code != tt.status) {
				t.Errorf("status %d, reached %t; want %d (0: reached)", w.Code, ran, tt.status)
			}
		})
	}
}

// Hardening: Reconfigure with a descriptor source that lacks services
// mounted with Wrap returned nil, and the service then served without CORS
// and without the protection.
func TestReconfigureKeepsMountedServices(t *testing.T) {
	mw, err := interceptor.New()
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, mw) // mounts FlavorService, ResourceService, PingService with Wrap
	err = mw.Reconfigure(protocors.WithFiles(onlyFile(t, "protocors/test/v1/nopolicy.proto")))
	var cfgErr *protocors.Error
	if !errors.As(err, &cfgErr) {
		t.Fatalf("Reconfigure without the mounted services: %v, want a *protocors.Error", err)
	}
	for _, name := range []string{"protocors.test.v1.FlavorService", "protocors.test.v1.ResourceService"} {
		if !strings.Contains(err.Error(), name+": interceptor.Wrap: mounted with Wrap") {
			t.Errorf("error does not name %s:\n%v", name, err)
		}
	}
	// The running state is kept: the protection still refuses.
	r, _ := http.NewRequest("POST", srv.url+testv1connect.PingServicePingProcedure, strings.NewReader("{}"))
	r.Header.Set("Origin", evilOrigin)
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	r.Header.Set("Content-Type", "application/json")
	res, err := srv.client.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("after the refused Reconfigure: status %d, want 403", res.StatusCode)
	}
}

// Hole 5 on the Connect side: request values are cut in log lines, and
// the origin is logged once.
func TestLogBounded(t *testing.T) {
	var buf bytes.Buffer
	mw, err := interceptor.New(protocors.WithLogger(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	if err != nil {
		t.Fatal(err)
	}
	h := mw.Handler(reached)
	huge := strings.Repeat("\xff", 500<<10)
	for _, headers := range [][]string{
		{"Origin", huge, "Access-Control-Request-Method", "POST"},
		{"Origin", appOrigin, "Access-Control-Request-Method", huge},
	} {
		buf.Reset()
		send(h, "OPTIONS", testv1connect.FlavorServiceGetFlavorProcedure, headers...)
		if strings.Count(buf.String(), "\n") != 1 || buf.Len() > 16<<10 {
			t.Errorf("preflight: %d lines, %d bytes of log", strings.Count(buf.String(), "\n"), buf.Len())
		}
	}
	buf.Reset()
	send(h, "POST", testv1connect.FlavorServiceGetFlavorProcedure, "Origin", huge[:250<<10], "Sec-Fetch-Site", huge[:250<<10], "Content-Type", "text/plain")
	if strings.Count(buf.String(), "\n") != 1 || buf.Len() > 16<<10 {
		t.Errorf("refused request: %d lines, %d bytes of log", strings.Count(buf.String(), "\n"), buf.Len())
	}
}

// onlyFile returns a registry holding the file at path of
// protoregistry.GlobalFiles and what it imports, nothing else.
func onlyFile(t *testing.T, path string) *protoregistry.Files {
	t.Helper()
	fd, err := protoregistry.GlobalFiles.FindFileByPath(path)
	if err != nil {
		t.Fatal(err)
	}
	return corstest.Registry(t, fd)
}

// WithUnknownPathProtection covers handlers beside the Connect ones in the
// wrapped mux, as net/http.CrossOriginProtection does.
func TestUnknownPathProtection(t *testing.T) {
	for _, on := range []bool{false, true} {
		mw, err := interceptor.New(protocors.WithUnknownPathProtection(on))
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			method  string
			headers []string
			refused bool
		}{
			{"POST", []string{"Origin", evilOrigin, "Sec-Fetch-Site", "cross-site"}, on},
			{"POST", []string{"Origin", evilOrigin}, on},
			{"DELETE", []string{"Sec-Fetch-Site", "same-site"}, on},
			{"GET", []string{"Origin", evilOrigin, "Sec-Fetch-Site", "cross-site"}, false},
			{"POST", []string{"Origin", "http://example.com", "Sec-Fetch-Site", "same-origin"}, false},
			{"POST", []string{"Content-Type", "application/json"}, false},
		} {
			ran := false
			h := mw.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { ran = true }))
			r := httptest.NewRequest(tt.method, "/admin/reset", nil)
			for i := 0; i+1 < len(tt.headers); i += 2 {
				r.Header.Set(tt.headers[i], tt.headers[i+1])
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if ran == tt.refused || tt.refused && w.Code != http.StatusForbidden {
				t.Errorf("on %t: %s %v: status %d, reached %t", on, tt.method, tt.headers, w.Code, ran)
			}
		}
	}
}
