package interceptor_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/interceptor"
	testv1 "github.com/protocors/protocors/internal/gen/protocors/test/v1"
	"github.com/protocors/protocors/internal/gen/protocors/test/v1/testv1connect"
)

const (
	appOrigin  = "https://app.example.com"
	shopOrigin = "https://shop.example.org" // only ListFlavors allows it
	evilOrigin = "https://evil.example.net"
)

// flavors implements FlavorService: GetFlavor sets X-Trace-Id as header and
// trailer, fails for "missing" and waits out the deadline for "slow".
type flavors struct{}

func (flavors) GetFlavor(ctx context.Context, req *connect.Request[testv1.GetFlavorRequest]) (*connect.Response[testv1.Flavor], error) {
	switch req.Msg.GetName() {
	case "missing":
		return nil, connect.NewError(connect.CodeNotFound, errors.New("no such flavor"))
	case "slow":
		<-ctx.Done()
		return nil, ctx.Err()
	}
	res := connect.NewResponse(&testv1.Flavor{Name: req.Msg.GetName(), Scoops: 2})
	res.Header().Set("X-Trace-Id", "header-trace")
	res.Trailer().Set("X-Trace-Id", "trailer-trace")
	return res, nil
}

func (flavors) PutFlavor(_ context.Context, req *connect.Request[testv1.PutFlavorRequest]) (*connect.Response[testv1.Flavor], error) {
	return connect.NewResponse(req.Msg.GetFlavor()), nil
}

func (flavors) DeleteFlavor(context.Context, *connect.Request[testv1.DeleteFlavorRequest]) (*connect.Response[testv1.DeleteFlavorResponse], error) {
	return connect.NewResponse(&testv1.DeleteFlavorResponse{}), nil
}

func (flavors) ListFlavors(context.Context, *connect.Request[testv1.ListFlavorsRequest]) (*connect.Response[testv1.ListFlavorsResponse], error) {
	return connect.NewResponse(&testv1.ListFlavorsResponse{Flavors: []*testv1.Flavor{{Name: "vanilla"}}}), nil
}

func (flavors) WatchFlavors(_ context.Context, req *connect.Request[testv1.WatchFlavorsRequest], stream *connect.ServerStream[testv1.Flavor]) error {
	stream.ResponseHeader().Set("X-Trace-Id", "stream-trace")
	for i := range req.Msg.GetCount() {
		if err := stream.Send(&testv1.Flavor{Name: "vanilla", Scoops: i}); err != nil {
			return err
		}
	}
	return nil
}

type ping struct{}

func (ping) Ping(_ context.Context, req *connect.Request[testv1.PingRequest]) (*connect.Response[testv1.PingResponse], error) {
	return connect.NewResponse(&testv1.PingResponse{Text: req.Msg.GetText()}), nil
}

// server serves the test services behind mw over HTTP/2 with TLS (gRPC
// needs HTTP/2) and counts the requests that reach the Connect handlers.
type server struct {
	url     string
	client  *http.Client
	reached atomic.Int64
}

func newServer(t *testing.T, mw *interceptor.Middleware) *server {
	t.Helper()
	s := &server{}
	count := func(path string, h http.Handler) (string, http.Handler) {
		return path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.reached.Add(1)
			h.ServeHTTP(w, r)
		})
	}
	mux := http.NewServeMux()
	mux.Handle(mw.Wrap(count(testv1connect.NewFlavorServiceHandler(flavors{}))))
	mux.Handle(mw.Wrap(count(testv1connect.NewResourceServiceHandler(testv1connect.UnimplementedResourceServiceHandler{}))))
	mux.Handle(mw.Wrap(count(testv1connect.NewPingServiceHandler(ping{}))))
	srv := httptest.NewUnstartedServer(mux)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	s.url = srv.URL
	s.client = srv.Client()
	return s
}

// recorder sets Origin on every request a connect-go client sends, as a
// browser would, and keeps the last response's headers.
type recorder struct {
	base   http.RoundTripper
	origin string

	mu     sync.Mutex
	method string
	header http.Header
}

func (rec *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	if rec.origin != "" {
		req.Header.Set("Origin", rec.origin)
	}
	res, err := rec.base.RoundTrip(req)
	if err == nil {
		rec.mu.Lock()
		rec.method = req.Method
		rec.header = res.Header.Clone()
		rec.mu.Unlock()
	}
	return res, err
}

func (rec *recorder) last() (string, http.Header) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.method, rec.header
}

func (s *server) clientFor(origin string) (*http.Client, *recorder) {
	rec := &recorder{base: s.client.Transport, origin: origin}
	return &http.Client{Transport: rec}, rec
}

var protocols = []struct {
	name string
	grpc bool // gRPC or gRPC-Web: trailers in the body or HTTP trailers
	// native: gRPC over HTTP/2. Without Origin and Sec-Fetch-Site (a gRPC
	// client) the middleware leaves it untouched; with them it is judged
	// and decorated like any other protocol: Content-Type never decides
	// that a request comes from no browser.
	native bool
	opts   []connect.ClientOption
}{
	{"connect", false, false, nil},
	{"connect-json", false, false, []connect.ClientOption{connect.WithProtoJSON()}},
	{"grpc-web", true, false, []connect.ClientOption{connect.WithGRPCWeb()}},
	{"grpc", true, true, []connect.ClientOption{connect.WithGRPC()}},
}

var grpcFloor = []string{"Grpc-Status", "Grpc-Message", "Grpc-Status-Details-Bin", "Grpc-Encoding"}

// members splits a list header into its members.
func members(h http.Header, key string) []string {
	var out []string
	for _, line := range h.Values(key) {
		for m := range strings.SplitSeq(line, ",") {
			if m = strings.TrimSpace(m); m != "" {
				out = append(out, m)
			}
		}
	}
	return out
}

func sameMembers(got, want []string) bool {
	norm := func(l []string) []string {
		out := make([]string, len(l))
		for i, s := range l {
			out[i] = strings.ToLower(s)
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(norm(got), norm(want))
}

func corsHeaders(h http.Header) []string {
	var out []string
	for k := range h {
		if strings.HasPrefix(k, "Access-Control-") {
			out = append(out, k)
		}
	}
	return out
}

// TestConnectClients calls the services with real connect-go clients over
// the Connect, gRPC-Web and gRPC protocols and checks what a browser would
// need to read each response.
func TestConnectClients(t *testing.T) {
	// The clients send Origin from a Go program: the request's Host differs,
	// so to the cross-origin request protection they are cross-origin
	// requests. Every case runs with the protection on (the default) and
	// off: on, the cases marked refused get 403 before the handler.
	protected, err := interceptor.New()
	if err != nil {
		t.Fatal(err)
	}
	unprotected, err := interceptor.New(protocors.WithCrossOriginProtection(false))
	if err != nil {
		t.Fatal(err)
	}
	srvOn, srvOff := newServer(t, protected), newServer(t, unprotected)
	srv := srvOff // the server the calls below go to; the loop sets it

	type call func(ctx context.Context, hc *http.Client, opts []connect.ClientOption) error
	getFlavor := func(name string) call {
		return func(ctx context.Context, hc *http.Client, opts []connect.ClientOption) error {
			c := testv1connect.NewFlavorServiceClient(hc, srv.url, opts...)
			res, err := c.GetFlavor(ctx, connect.NewRequest(&testv1.GetFlavorRequest{Name: name}))
			if err == nil && res.Msg.GetName() != name {
				return errors.New("wrong answer")
			}
			return err
		}
	}
	putFlavor := func(ctx context.Context, hc *http.Client, opts []connect.ClientOption) error {
		c := testv1connect.NewFlavorServiceClient(hc, srv.url, opts...)
		_, err := c.PutFlavor(ctx, connect.NewRequest(&testv1.PutFlavorRequest{Name: "x", Flavor: &testv1.Flavor{Name: "x"}}))
		return err
	}
	deleteFlavor := func(ctx context.Context, hc *http.Client, opts []connect.ClientOption) error {
		c := testv1connect.NewFlavorServiceClient(hc, srv.url, opts...)
		_, err := c.DeleteFlavor(ctx, connect.NewRequest(&testv1.DeleteFlavorRequest{Name: "x"}))
		return err
	}
	listFlavors := func(ctx context.Context, hc *http.Client, opts []connect.ClientOption) error {
		c := testv1connect.NewFlavorServiceClient(hc, srv.url, opts...)
		_, err := c.ListFlavors(ctx, connect.NewRequest(&testv1.ListFlavorsRequest{}))
		return err
	}
	watch := func(ctx context.Context, hc *http.Client, opts []connect.ClientOption) error {
		c := testv1connect.NewFlavorServiceClient(hc, srv.url, opts...)
		stream, err := c.WatchFlavors(ctx, connect.NewRequest(&testv1.WatchFlavorsRequest{Count: 3}))
		if err != nil {
			return err
		}
		n := 0
		for stream.Receive() {
			n++
		}
		if err := stream.Close(); err != nil {
			return err
		}
		if n != 3 {
			return errors.New("wrong number of messages")
		}
		return stream.Err()
	}
	getResource := func(ctx context.Context, hc *http.Client, opts []connect.ClientOption) error {
		c := testv1connect.NewResourceServiceClient(hc, srv.url, opts...)
		_, err := c.GetResource(ctx, connect.NewRequest(&testv1.ResourceRequest{Name: "x"}))
		return err
	}
	pingCall := func(ctx context.Context, hc *http.Client, opts []connect.ClientOption) error {
		c := testv1connect.NewPingServiceClient(hc, srv.url, opts...)
		_, err := c.Ping(ctx, connect.NewRequest(&testv1.PingRequest{Text: "hi"}))
		return err
	}

	tests := []struct {
		name     string
		call     call
		origin   string
		wantCode connect.Code // 0: success
		// acao "" means no CORS header at all.
		acao        string
		credentials bool
		vary        bool     // Vary names Origin
		exposeConn  []string // Expose-Headers for the Connect protocol; nil: absent
		exposeGRPC  []string // ... for gRPC and gRPC-Web
		// refused: with the protection on, the call gets 403 and never
		// reaches the handler (the origin is not allowed by the policy).
		refused bool
	}{
		{
			name: "unary from allowed origin", call: getFlavor("mint"), origin: appOrigin,
			acao: appOrigin, vary: true,
			exposeConn: []string{"X-Trace-Id", "Trailer-X-Trace-Id"},
			exposeGRPC: append(slices.Clone(grpcFloor), "X-Trace-Id"),
		},
		{
			name: "unary from disallowed origin", call: getFlavor("mint"), origin: evilOrigin, refused: true,
			vary: true,
		},
		{
			name: "unary without origin", call: getFlavor("mint"),
			vary: true,
		},
		{
			name: "credentials", call: putFlavor, origin: appOrigin,
			acao: appOrigin, credentials: true, vary: true,
			exposeConn: []string{"X-Trace-Id", "Trailer-X-Trace-Id"},
			exposeGRPC: append(slices.Clone(grpcFloor), "X-Trace-Id"),
		},
		{
			name: "method-level origins", call: listFlavors, origin: shopOrigin,
			acao: shopOrigin, vary: true,
			exposeConn: []string{"X-Trace-Id", "Trailer-X-Trace-Id"},
			exposeGRPC: append(slices.Clone(grpcFloor), "X-Trace-Id"),
		},
		{
			name: "method-level origins refuse the service's other origin scope", call: getFlavor("mint"), origin: shopOrigin, refused: true,
			vary: true,
		},
		{
			name: "server streaming", call: watch, origin: appOrigin,
			acao: appOrigin, vary: true,
			exposeConn: []string{"X-Trace-Id", "Connect-Content-Encoding"},
			exposeGRPC: append(slices.Clone(grpcFloor), "X-Trace-Id"),
		},
		{
			name: "error from the service", call: getFlavor("missing"), origin: appOrigin, wantCode: connect.CodeNotFound,
			acao: appOrigin, vary: true,
			exposeConn: []string{"X-Trace-Id", "Trailer-X-Trace-Id"},
			exposeGRPC: append(slices.Clone(grpcFloor), "X-Trace-Id"),
		},
		{
			name: "unimplemented, any origin", call: getResource, origin: evilOrigin, wantCode: connect.CodeUnimplemented,
			acao:       "*",
			exposeGRPC: grpcFloor,
		},
		{
			name: "enabled false passes through", call: deleteFlavor, origin: appOrigin, refused: true,
		},
		{
			name: "no policy passes through", call: pingCall, origin: appOrigin, refused: true,
		},
	}
	for _, on := range []bool{true, false} {
		for _, p := range protocols {
			for _, tt := range tests {
				name := "protection-off/" + p.name + "/" + tt.name
				srv = srvOff // the calls above read srv
				if on {
					name, srv = "protection-on/"+p.name+"/"+tt.name, srvOn
				}
				t.Run(name, func(t *testing.T) {
					hc, rec := srv.clientFor(tt.origin)
					ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
					defer cancel()
					before := srv.reached.Load()
					err := tt.call(ctx, hc, p.opts)
					if p.native && tt.origin == "" {
						if got := connect.CodeOf(err); err != nil && got != tt.wantCode || err == nil && tt.wantCode != 0 {
							t.Fatalf("call: %v, want code %v", err, tt.wantCode)
						}
						if srv.reached.Load() == before {
							t.Error("the request did not reach the Connect handler")
						}
						if _, h := rec.last(); len(corsHeaders(h)) > 0 || len(h.Values("Vary")) > 0 {
							t.Errorf("native gRPC response carries CORS headers or Vary: %v", h)
						}
						return
					}
					if on && tt.refused {
						if got := connect.CodeOf(err); got != connect.CodePermissionDenied {
							t.Fatalf("call: %v, want permission_denied (403) from the protection", err)
						}
						if srv.reached.Load() != before {
							t.Error("the refused request reached the Connect handler")
						}
						_, h := rec.last()
						if got := corsHeaders(h); len(got) > 0 {
							t.Errorf("CORS headers %v, want none", got)
						}
						return
					}
					if got := connect.CodeOf(err); err != nil && got != tt.wantCode || err == nil && tt.wantCode != 0 {
						t.Fatalf("call: %v, want code %v", err, tt.wantCode)
					}
					if srv.reached.Load() == before {
						t.Error("the request did not reach the Connect handler")
					}
					_, h := rec.last()
					if tt.acao == "" {
						if got := corsHeaders(h); len(got) > 0 {
							t.Errorf("CORS headers %v, want none", got)
						}
					} else if got := h.Values("Access-Control-Allow-Origin"); len(got) != 1 || got[0] != tt.acao {
						t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, tt.acao)
					}
					if got := h.Get("Access-Control-Allow-Credentials"); (got == "true") != tt.credentials || got != "" && got != "true" {
						t.Errorf("Access-Control-Allow-Credentials = %q, want credentials %t", got, tt.credentials)
					}
					if got := slices.ContainsFunc(members(h, "Vary"), func(s string) bool { return strings.EqualFold(s, "Origin") }); got != tt.vary {
						t.Errorf("Vary = %q, want Origin in it: %t", h.Values("Vary"), tt.vary)
					}
					want := tt.exposeConn
					if p.grpc {
						want = tt.exposeGRPC
					}
					got := members(h, "Access-Control-Expose-Headers")
					if want == nil && got != nil || !sameMembers(got, want) {
						t.Errorf("Access-Control-Expose-Headers = %q, want %q", got, want)
					}
				})
			}
		}
	}
}

// TestConnectGET checks that a NO_SIDE_EFFECTS method is callable with
// Connect GET cross-origin: the preflight grants GET, and the GET response
// carries the CORS headers.
func TestConnectGET(t *testing.T) {
	mw, err := interceptor.New()
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, mw)
	hc, rec := srv.clientFor(appOrigin)
	c := testv1connect.NewFlavorServiceClient(hc, srv.url, connect.WithHTTPGet())
	res, err := c.GetFlavor(t.Context(), connect.NewRequest(&testv1.GetFlavorRequest{Name: "mint"}))
	if err != nil {
		t.Fatal(err)
	}
	if res.Msg.GetName() != "mint" {
		t.Errorf("got %v", res.Msg)
	}
	method, h := rec.last()
	if method != http.MethodGet {
		t.Fatalf("client sent %s, want GET", method)
	}
	if got := h.Get("Access-Control-Allow-Origin"); got != appOrigin {
		t.Errorf("Access-Control-Allow-Origin = %q", got)
	}
	if got := members(h, "Access-Control-Expose-Headers"); !sameMembers(got, []string{"X-Trace-Id", "Trailer-X-Trace-Id"}) {
		t.Errorf("Access-Control-Expose-Headers = %q", got)
	}
}

// TestPreflights sends browser preflights and checks they are answered
// without reaching the Connect handler, unless the procedure has no CORS
// policy.
func TestPreflights(t *testing.T) {
	mw, err := interceptor.New()
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, mw)
	tests := []struct {
		name      string
		procedure string
		origin    string
		method    string
		headers   string
		// status 0: the request must reach the Connect handler.
		status      int
		acam        string
		acah        string
		credentials bool
		maxAge      string
		acao        string
	}{
		{"NO_SIDE_EFFECTS allows GET", testv1connect.FlavorServiceGetFlavorProcedure, appOrigin, "GET", "", 204, "GET, POST", "", false, "300", appOrigin},
		{"Connect unary headers", testv1connect.FlavorServiceGetFlavorProcedure, appOrigin, "POST", "connect-protocol-version,connect-timeout-ms,content-type", 204, "GET, POST", "connect-protocol-version,connect-timeout-ms,content-type", false, "300", appOrigin},
		{"gRPC-Web headers", testv1connect.FlavorServiceGetFlavorProcedure, appOrigin, "POST", "content-type,grpc-timeout,x-grpc-web,x-user-agent", 204, "GET, POST", "content-type,grpc-timeout,x-grpc-web,x-user-agent", false, "300", appOrigin},
		{"header of another method refused", testv1connect.FlavorServiceGetFlavorProcedure, appOrigin, "POST", "x-request-id", 403, "", "", false, "", ""},
		{"method-level header and credentials", testv1connect.FlavorServicePutFlavorProcedure, appOrigin, "POST", "content-type,x-request-id", 204, "POST", "content-type,x-request-id", true, "300", appOrigin},
		{"GET refused without NO_SIDE_EFFECTS", testv1connect.FlavorServicePutFlavorProcedure, appOrigin, "GET", "", 403, "", "", false, "", ""},
		{"PUT is never a Connect method", testv1connect.FlavorServicePutFlavorProcedure, appOrigin, "PUT", "", 403, "", "", false, "", ""},
		{"streaming is POST only", testv1connect.FlavorServiceWatchFlavorsProcedure, appOrigin, "GET", "", 403, "", "", false, "", ""},
		{"streaming POST", testv1connect.FlavorServiceWatchFlavorsProcedure, appOrigin, "POST", "connect-accept-encoding,connect-content-encoding,content-type", 204, "POST", "connect-accept-encoding,connect-content-encoding,content-type", false, "300", appOrigin},
		{"method-level origins", testv1connect.FlavorServiceListFlavorsProcedure, shopOrigin, "GET", "", 204, "GET, POST", "", false, "300", shopOrigin},
		{"disallowed origin", testv1connect.FlavorServiceGetFlavorProcedure, evilOrigin, "POST", "content-type", 403, "", "", false, "", ""},
		{"any origin", testv1connect.ResourceServiceGetResourceProcedure, evilOrigin, "POST", "", 204, "POST", "", false, "300", "*"},
		{"enabled false passes through", testv1connect.FlavorServiceDeleteFlavorProcedure, appOrigin, "POST", "", 0, "", "", false, "", ""},
		{"no policy passes through", testv1connect.PingServicePingProcedure, appOrigin, "POST", "", 0, "", "", false, "", ""},
		{"unknown procedure passes through", "/protocors.test.v1.FlavorService/Nope", appOrigin, "POST", "", 0, "", "", false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodOptions, srv.url+tt.procedure, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Origin", tt.origin)
			req.Header.Set("Access-Control-Request-Method", tt.method)
			if tt.headers != "" {
				req.Header.Set("Access-Control-Request-Headers", tt.headers)
			}
			before := srv.reached.Load()
			res, err := srv.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			reached := srv.reached.Load() != before
			h := res.Header
			if tt.status == 0 {
				if !reached {
					t.Error("preflight did not reach the Connect handler")
				}
				if got := corsHeaders(h); len(got) > 0 {
					t.Errorf("CORS headers %v on a procedure without CORS", got)
				}
				return
			}
			if reached {
				t.Error("preflight reached the Connect handler")
			}
			if res.StatusCode != tt.status {
				t.Errorf("status %d, want %d", res.StatusCode, tt.status)
			}
			if tt.status != 204 {
				if got := corsHeaders(h); len(got) > 0 {
					t.Errorf("CORS headers %v on a refused preflight", got)
				}
				return
			}
			for k, want := range map[string]string{
				"Access-Control-Allow-Origin":  tt.acao,
				"Access-Control-Allow-Methods": tt.acam,
				"Access-Control-Allow-Headers": tt.acah,
				"Access-Control-Max-Age":       tt.maxAge,
			} {
				if got := h.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if got := h.Get("Access-Control-Allow-Credentials") == "true"; got != tt.credentials {
				t.Errorf("Access-Control-Allow-Credentials = %q, want %t", h.Get("Access-Control-Allow-Credentials"), tt.credentials)
			}
			if got := members(h, "Vary"); !slices.Contains(got, "Access-Control-Request-Method") {
				t.Errorf("Vary = %q", got)
			}
		})
	}
}

// TestHandlerWrittenErrors checks that responses the Connect handler writes
// itself still carry the CORS headers, so the page can read the error.
func TestHandlerWrittenErrors(t *testing.T) {
	mw, err := interceptor.New()
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, mw)
	tests := []struct {
		name    string
		method  string
		ct      string
		headers map[string]string
		body    string
		status  int
	}{
		{"unsupported media type", "POST", "text/plain", nil, "hi", http.StatusUnsupportedMediaType},
		{"deadline exceeded", "POST", "application/json", map[string]string{"Connect-Timeout-Ms": "1"}, `{"name":"slow"}`, http.StatusGatewayTimeout},
		{"OPTIONS that is not a preflight", "OPTIONS", "", nil, "", http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tt.method, srv.url+testv1connect.FlavorServiceGetFlavorProcedure, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Origin", appOrigin)
			if tt.ct != "" {
				req.Header.Set("Content-Type", tt.ct)
			}
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			res, err := srv.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tt.status {
				t.Errorf("status %d, want %d", res.StatusCode, tt.status)
			}
			if got := res.Header.Get("Access-Control-Allow-Origin"); got != appOrigin {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, appOrigin)
			}
		})
	}
}
