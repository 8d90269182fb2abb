package connectv2_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"connectrpc.com/connect/v2"
	"connectrpc.com/connect/v2/connecthttp"

	"github.com/protocors/protocors/interceptor"
	testv1 "github.com/protocors/protocors/internal/gen/protocors/test/v1"
)

const (
	getFlavor = "/protocors.test.v1.FlavorService/GetFlavor"
	app       = "https://app.example.com"
	evil      = "https://evil.example.net"
)

// method is a v2 method for a procedure of the test protos; its handler
// only counts calls.
func method(procedure string, calls *int) connect.Method {
	return connect.Method{
		Spec: connect.Spec{Procedure: procedure, StreamType: connect.StreamTypeUnary},
		Handler: func(context.Context, connect.Spec, connect.ServerStream) error {
			*calls++
			return connect.NewError(connect.CodeUnimplemented, "test handler")
		},
	}
}

// TestMountV2 mounts a real connect-go v2 server through Middleware.Mux and
// sends an allowed and a refused preflight, and an actual call.
func TestMountV2(t *testing.T) {
	_ = testv1.File_protocors_test_v1_test_proto // registers the descriptors
	mw, err := interceptor.New()
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	server := connect.NewServer()
	server.Register(method(getFlavor, &calls))
	mux := http.NewServeMux()
	connecthttp.Mount(mw.Mux(mux), server)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	preflight := func(origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, srv.URL+getFlavor, nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "connect-protocol-version,content-type")
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	if res := preflight(app); res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != app {
		t.Errorf("allowed preflight: %d %v", res.StatusCode, res.Header)
	}
	if res := preflight(evil); res.StatusCode != http.StatusForbidden || res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("refused preflight: %d %v", res.StatusCode, res.Header)
	}
	if calls != 0 {
		t.Errorf("a preflight reached the v2 handler")
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+getFlavor, strings.NewReader("{}"))
	req.Header.Set("Origin", app)
	req.Header.Set("Content-Type", "application/json")
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if calls != 1 || res.Header.Get("Access-Control-Allow-Origin") != app {
		t.Errorf("actual call: handler ran %d times, Allow-Origin %q", calls, res.Header.Get("Access-Control-Allow-Origin"))
	}
}

// TestMountV2RefusesUnknownProcedure: a procedure without a descriptor
// would get no CORS; Mux refuses it at mount time.
func TestMountV2RefusesUnknownProcedure(t *testing.T) {
	mw, err := interceptor.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, procedure := range []string{"/unknown.v1.NopeService/Call", "/protocors.test.v1.FlavorService/Nope"} {
		func() {
			defer func() {
				err, _ := recover().(error)
				if err == nil || !strings.Contains(err.Error(), "protocors:") {
					t.Errorf("%s: recovered %v, want an error that says how to fix it", procedure, err)
				}
			}()
			server := connect.NewServer()
			calls := 0
			server.Register(method(procedure, &calls))
			connecthttp.Mount(mw.Mux(http.NewServeMux()), server)
		}()
	}
}
