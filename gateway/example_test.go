package gateway_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/gateway"
	testv1 "github.com/protocors/protocors/internal/gen/protocors/test/v1"
)

// Mount the middleware in front of a grpc-gateway mux. The policies come
// from the protocors options in the .proto files of the registered services.
func Example_mount() {
	gwmux := runtime.NewServeMux()
	_ = testv1.RegisterGadgetServiceHandlerServer(context.Background(), gwmux, gadgets{})
	mw, err := gateway.New()
	if err != nil {
		log.Fatal(err)
	}
	handler := mw.Handler(gwmux) // http.ListenAndServe(addr, handler)

	// What a browser at https://app.example.com sends before a DELETE.
	r := httptest.NewRequest(http.MethodOptions, "/v1/gadgets/g1", nil)
	r.Header.Set("Origin", "https://app.example.com")
	r.Header.Set("Access-Control-Request-Method", "DELETE")
	w := httptest.NewRecorder()
	handler.ServeHTTP(w, r)
	fmt.Println(w.Code)
	fmt.Println(w.Header().Get("Access-Control-Allow-Origin"))
	fmt.Println(w.Header().Get("Access-Control-Allow-Methods"))
	fmt.Println(w.Header().Get("Access-Control-Max-Age"))
	// Output:
	// 204
	// https://app.example.com
	// DELETE, GET, PATCH
	// 600
}

// Give the deployment's origins at run time, for RPCs whose options do not
// list any, and add a route registered with HandlePath.
func ExampleWithRoute() {
	gwmux := runtime.NewServeMux()
	_ = gwmux.HandlePath(http.MethodGet, "/healthz", func(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
		_, _ = fmt.Fprint(w, "ok")
	})
	mw, err := gateway.New(
		protocors.WithOrigins("https://status.example.com"),
		gateway.WithRoute(http.MethodGet, "/healthz", &corspb.Policy{MaxAgeSeconds: new(uint32(60))}),
	)
	if err != nil {
		log.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/healthz", nil)
	r.Header.Set("Origin", "https://status.example.com")
	w := httptest.NewRecorder()
	mw.Handler(gwmux).ServeHTTP(w, r)
	fmt.Println(w.Body.String(), w.Header().Get("Access-Control-Allow-Origin"))
	// Output:
	// ok https://status.example.com
}

// New reports every problem of every policy at once, by descriptor.
func ExampleNew_error() {
	_, err := gateway.New(protocors.WithOrigins("https://app.example.com/"))
	fmt.Println(err)
	// Output:
	// protocors: runtime default: allow_origins[0] "https://app.example.com/": has a path or trailing slash: an origin is scheme://host[:port] only (drop "/")
}

// Under a path prefix, put the middleware inside http.StripPrefix: it
// matches the path the mux will see, so it must see the same one.
func ExampleMiddleware_Handler_stripPrefix() {
	gwmux := runtime.NewServeMux()
	_ = testv1.RegisterGadgetServiceHandlerServer(context.Background(), gwmux, gadgets{})
	mw, err := gateway.New()
	if err != nil {
		log.Fatal(err)
	}
	handler := http.StripPrefix("/api", mw.Handler(gwmux)) // correct

	fmt.Println(preflightGadget(handler, "/api/v1/gadgets/g1"))
	// Output:
	// 204 https://app.example.com
}

// The placement that bites: with http.StripPrefix inside the middleware,
// the middleware sees "/api/v1/gadgets/g1", which is no route of the mux.
// The preflight passes through to the mux, which has no OPTIONS route, and
// the browser gets no CORS headers.
func ExampleMiddleware_Handler_stripPrefixIncorrect() {
	gwmux := runtime.NewServeMux()
	_ = testv1.RegisterGadgetServiceHandlerServer(context.Background(), gwmux, gadgets{})
	mw, err := gateway.New()
	if err != nil {
		log.Fatal(err)
	}
	handler := mw.Handler(http.StripPrefix("/api", gwmux)) // incorrect

	fmt.Println(preflightGadget(handler, "/api/v1/gadgets/g1"))
	// Output:
	// 501 (no Access-Control-Allow-Origin)
}

// preflightGadget sends the preflight of a DELETE from https://app.example.com
// and returns the status and the granted origin.
func preflightGadget(h http.Handler, path string) string {
	r := httptest.NewRequest(http.MethodOptions, path, nil)
	r.Header.Set("Origin", "https://app.example.com")
	r.Header.Set("Access-Control-Request-Method", "DELETE")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	origin := w.Header().Get("Access-Control-Allow-Origin")
	if origin == "" {
		origin = "(no Access-Control-Allow-Origin)"
	}
	return fmt.Sprint(w.Code, " ", origin)
}
