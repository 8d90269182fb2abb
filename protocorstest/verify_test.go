package protocorstest_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/gateway"
	"github.com/protocors/protocors/interceptor"
	testv1 "github.com/protocors/protocors/internal/gen/protocors/test/v1"
	"github.com/protocors/protocors/internal/gen/protocors/test/v1/testv1connect"
	"github.com/protocors/protocors/protocorstest"
)

// connectHandlers are real connect-go handlers of every test service.
func connectHandlers() map[string]http.Handler {
	hs := map[string]http.Handler{}
	for _, mk := range []func() (string, http.Handler){
		func() (string, http.Handler) {
			return testv1connect.NewFlavorServiceHandler(testv1connect.UnimplementedFlavorServiceHandler{})
		},
		func() (string, http.Handler) {
			return testv1connect.NewResourceServiceHandler(testv1connect.UnimplementedResourceServiceHandler{})
		},
		func() (string, http.Handler) {
			return testv1connect.NewPingServiceHandler(testv1connect.UnimplementedPingServiceHandler{})
		},
		func() (string, http.Handler) {
			return testv1connect.NewGadgetServiceHandler(testv1connect.UnimplementedGadgetServiceHandler{})
		},
	} {
		path, h := mk()
		hs[path] = h
	}
	return hs
}

// gatewayMux is a real grpc-gateway mux with every test service.
func gatewayMux(t *testing.T) *runtime.ServeMux {
	t.Helper()
	ctx := context.Background()
	mux := runtime.NewServeMux()
	for _, err := range []error{
		testv1.RegisterFlavorServiceHandlerServer(ctx, mux, testv1.UnimplementedFlavorServiceServer{}),
		testv1.RegisterResourceServiceHandlerServer(ctx, mux, testv1.UnimplementedResourceServiceServer{}),
		testv1.RegisterPingServiceHandlerServer(ctx, mux, testv1.UnimplementedPingServiceServer{}),
		testv1.RegisterGadgetServiceHandlerServer(ctx, mux, testv1.UnimplementedGadgetServiceServer{}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return mux
}

// auth refuses requests without Authorization, preflights included: the
// mistake of putting authentication in front of CORS.
func auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func middlewares(t *testing.T) (*interceptor.Middleware, *gateway.Middleware) {
	t.Helper()
	origins := protocors.WithOrigins("https://app.example.com")
	c, err := interceptor.New(origins)
	if err != nil {
		t.Fatal(err)
	}
	g, err := gateway.New(origins)
	if err != nil {
		t.Fatal(err)
	}
	return c, g
}

func TestVerify(t *testing.T) {
	const (
		createGadget = "protocors.test.v1.GadgetService.CreateGadget (POST /v1/gadgets/{name})"
		getGadget    = "protocors.test.v1.GadgetService.GetGadget (GET /v1/gadgets/{name})"
		ping         = "protocors.test.v1.PingService.Ping (POST /v1/ping)"
		connectPut   = "protocors.test.v1.FlavorService.PutFlavor (POST /protocors.test.v1.FlavorService/PutFlavor)"
	)
	tests := []struct {
		name string
		// mount builds the server's root handler.
		mount func(t *testing.T, c *interceptor.Middleware, g *gateway.Middleware) http.Handler
		// want are RPC routes and the cause each must be reported with;
		// empty: Verify returns nil.
		want map[string]string
		// clean are RPC routes that must not be reported.
		clean []string
	}{{
		name: "correct",
		mount: func(t *testing.T, c *interceptor.Middleware, g *gateway.Middleware) http.Handler {
			mux := http.NewServeMux()
			for path, h := range connectHandlers() {
				mux.Handle(c.Wrap(path, h))
			}
			mux.Handle("/v1/", g.Handler(gatewayMux(t)))
			return mux
		},
	}, {
		name: "correct, one Handler in front of everything",
		mount: func(t *testing.T, c *interceptor.Middleware, g *gateway.Middleware) http.Handler {
			mux := http.NewServeMux()
			for path, h := range connectHandlers() {
				mux.Handle(path, h)
			}
			mux.Handle("/v1/", g.Handler(gatewayMux(t)))
			return c.Handler(mux)
		},
	}, {
		name: "gateway mux not wrapped",
		mount: func(t *testing.T, c *interceptor.Middleware, g *gateway.Middleware) http.Handler {
			mux := http.NewServeMux()
			for path, h := range connectHandlers() {
				mux.Handle(c.Wrap(path, h))
			}
			mux.Handle("/v1/", gatewayMux(t))
			return mux
		},
		want: map[string]string{
			createGadget: "not wrapped: the preflight reached a handler without passing through the gateway middleware",
			getGadget:    "not wrapped",
			ping:         "not protected: the request reached a handler without passing through the gateway middleware",
		},
		clean: []string{connectPut},
	}, {
		name: "Connect handlers not wrapped",
		mount: func(t *testing.T, c *interceptor.Middleware, g *gateway.Middleware) http.Handler {
			mux := http.NewServeMux()
			for path, h := range connectHandlers() {
				mux.Handle(path, h)
			}
			mux.Handle("/v1/", g.Handler(gatewayMux(t)))
			return mux
		},
		want: map[string]string{
			connectPut: "not wrapped: the preflight reached a handler without passing through the interceptor middleware (status 405",
		},
		clean: []string{createGadget, ping},
	}, {
		name: "middlewares swapped",
		mount: func(t *testing.T, c *interceptor.Middleware, g *gateway.Middleware) http.Handler {
			mux := http.NewServeMux()
			for path, h := range connectHandlers() {
				mux.Handle(path, g.Handler(h))
			}
			mux.Handle("/v1/", c.Handler(gatewayMux(t)))
			return mux
		},
		want: map[string]string{
			createGadget: "middlewares swapped: the request went through the interceptor middleware",
			ping:         "middlewares swapped",
			connectPut:   "middlewares swapped: the request went through the gateway middleware",
		},
	}, {
		name: "http.StripPrefix inside the middleware",
		mount: func(t *testing.T, c *interceptor.Middleware, g *gateway.Middleware) http.Handler {
			mux := http.NewServeMux()
			for path, h := range connectHandlers() {
				mux.Handle(c.Wrap(path, h))
			}
			mux.Handle("/api/", g.Handler(http.StripPrefix("/api", gatewayMux(t))))
			return mux
		},
		want: map[string]string{
			createGadget: "http.StripPrefix inside the middleware, put it outside",
			ping:         "http.StripPrefix inside the middleware",
		},
		clean: []string{connectPut},
	}, {
		name: "http.StripPrefix rewriting paths in front of the middleware",
		mount: func(t *testing.T, c *interceptor.Middleware, g *gateway.Middleware) http.Handler {
			mux := http.NewServeMux()
			for path, h := range connectHandlers() {
				mux.Handle(c.Wrap(path, h))
			}
			mux.Handle("/v1/", http.StripPrefix("/v1", g.Handler(gatewayMux(t))))
			return mux
		},
		want: map[string]string{
			createGadget: `the gateway middleware saw the path "/gadgets/protocors-verify", not the RPC's "/v1/gadgets/protocors-verify"`,
		},
	}, {
		name: "authentication in front of CORS",
		mount: func(t *testing.T, c *interceptor.Middleware, g *gateway.Middleware) http.Handler {
			mux := http.NewServeMux()
			for path, h := range connectHandlers() {
				mux.Handle(c.Wrap(path, h))
			}
			mux.Handle("/v1/", auth(g.Handler(gatewayMux(t))))
			return mux
		},
		want: map[string]string{
			createGadget: "something in front of the middleware answered the preflight with status 401 (an authentication layer?)",
			getGadget:    "(an authentication layer?)",
		},
		clean: []string{connectPut},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, g := middlewares(t)
			err := protocorstest.Verify(tt.mount(t, c, g), c, g)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			var verr *protocorstest.Error
			if !errors.As(err, &verr) {
				t.Fatalf("Verify returned %v, want a *protocorstest.Error", err)
			}
			reported := map[string][]string{}
			for _, p := range verr.Problems {
				key := p.RPC + " (" + p.Route + ")"
				reported[key] = append(reported[key], p.Cause)
			}
			for rpc, cause := range tt.want {
				causes, ok := reported[rpc]
				if !ok {
					t.Errorf("%s not reported; error:\n%v", rpc, err)
					continue
				}
				found := false
				for _, c := range causes {
					found = found || strings.Contains(c, cause)
				}
				if !found {
					t.Errorf("%s reported with %q, want a cause containing %q", rpc, causes, cause)
				}
				if !strings.Contains(err.Error(), rpc) {
					t.Errorf("error text does not name %s", rpc)
				}
			}
			for _, rpc := range tt.clean {
				if causes, ok := reported[rpc]; ok {
					t.Errorf("%s reported, though wired correctly: %q", rpc, causes)
				}
			}
		})
	}
}

// Verify checks its arguments.
func TestVerifyArguments(t *testing.T) {
	c, _ := middlewares(t)
	if err := protocorstest.Verify(nil, c); err == nil {
		t.Error("nil handler accepted")
	}
	if err := protocorstest.Verify(http.NotFoundHandler()); err == nil {
		t.Error("no middleware accepted")
	}
}

// Probe mode cannot be turned on from outside: a request served while a
// Verify runs elsewhere in the process, carrying whatever a client sends,
// is answered as any other.
func TestVerifyNotRemote(t *testing.T) {
	c, g := middlewares(t)
	mux := http.NewServeMux()
	mux.Handle("/v1/", g.Handler(gatewayMux(t)))
	for path, h := range connectHandlers() {
		mux.Handle(c.Wrap(path, h))
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	send := func() (int, string) {
		r, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/gadgets/x?protocors-verify=%zz", strings.NewReader("protocors-verify"))
		r.Header.Set("Origin", "https://protocors-verify.invalid")
		r.Header.Set("Sec-Fetch-Site", "cross-site")
		r.Header.Set("Content-Type", "text/plain")
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin")
	}
	beforeCode, beforeACAO := send()
	// A Verify of a never-answering handler keeps probe mode on while the
	// remote request is served.
	started, release := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		once := false
		done <- protocorstest.Verify(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !once {
				once = true
				close(started)
				<-release
			}
			http.NotFound(w, r)
		}), g)
	}()
	<-started
	duringCode, duringACAO := send()
	close(release)
	<-done
	if beforeCode != http.StatusForbidden || duringCode != beforeCode || duringACAO != beforeACAO {
		t.Errorf("remote request: %d %q before, %d %q while a Verify runs; want 403 both times", beforeCode, beforeACAO, duringCode, duringACAO)
	}
}
