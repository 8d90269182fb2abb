package interceptor_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/interceptor"
	"github.com/protocors/protocors/internal/gen/protocors/test/v1/testv1connect"
)

func ExampleNew() {
	// Origins are the deployment's part of the policy; New checks every
	// policy it will serve, including these.
	_, err := interceptor.New(protocors.WithOrigins("https://app.example.com/"))
	fmt.Println(err)
	// Output:
	// protocors: runtime default: allow_origins[0] "https://app.example.com/": has a path or trailing slash: an origin is scheme://host[:port] only (drop "/")
}

func ExampleMiddleware_Wrap() {
	mw, err := interceptor.New()
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle(mw.Wrap(testv1connect.NewFlavorServiceHandler(flavors{})))

	// A browser's preflight for Connect GET of a NO_SIDE_EFFECTS method.
	r := httptest.NewRequest(http.MethodOptions, "https://api.example.com/protocors.test.v1.FlavorService/GetFlavor", nil)
	r.Header.Set("Origin", "https://app.example.com")
	r.Header.Set("Access-Control-Request-Method", "GET")
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	fmt.Println(w.Code)
	for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Max-Age"} {
		fmt.Printf("%s: %s\n", k, w.Header().Get(k))
	}
	// Output:
	// 204
	// Access-Control-Allow-Origin: https://app.example.com
	// Access-Control-Allow-Methods: GET, POST
	// Access-Control-Max-Age: 300
}

func ExampleMiddleware_Handler() {
	// Annotated services follow their options; WithOrigins gives the
	// others (here PingService) a policy too.
	mw, err := interceptor.New(protocors.WithOrigins("https://app.example.com"))
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle(testv1connect.NewFlavorServiceHandler(flavors{}))
	mux.Handle(testv1connect.NewPingServiceHandler(ping{}))
	handler := mw.Handler(mux)

	for _, procedure := range []string{"/protocors.test.v1.FlavorService/GetFlavor", "/protocors.test.v1.PingService/Ping"} {
		r := httptest.NewRequest(http.MethodPost, "https://api.example.com"+procedure, strings.NewReader(`{"name":"mint"}`))
		r.Header.Set("Origin", "https://app.example.com")
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		fmt.Println(procedure, w.Code)
		fmt.Println("  Access-Control-Allow-Origin:", w.Header().Get("Access-Control-Allow-Origin"))
		if v := w.Header().Get("Access-Control-Expose-Headers"); v != "" {
			fmt.Println("  Access-Control-Expose-Headers:", v)
		}
	}
	// Output:
	// /protocors.test.v1.FlavorService/GetFlavor 200
	//   Access-Control-Allow-Origin: https://app.example.com
	//   Access-Control-Expose-Headers: X-Trace-Id,Trailer-X-Trace-Id
	// /protocors.test.v1.PingService/Ping 200
	//   Access-Control-Allow-Origin: https://app.example.com
}

// Under a path prefix, put the middleware inside http.StripPrefix: it
// matches the procedure path the Connect handler sees, so it must see the
// same one.
func ExampleMiddleware_Handler_stripPrefix() {
	mw, err := interceptor.New()
	if err != nil {
		panic(err)
	}
	path, connectHandler := testv1connect.NewFlavorServiceHandler(flavors{})
	mux := http.NewServeMux()
	mux.Handle(path, connectHandler)
	handler := http.StripPrefix("/api", mw.Handler(mux)) // correct

	fmt.Println(preflightFlavor(handler, "/api/protocors.test.v1.FlavorService/GetFlavor"))
	// Output:
	// 204 https://app.example.com
}

// The placement that bites: with http.StripPrefix inside the middleware,
// the middleware sees "/api/protocors.test.v1.FlavorService/GetFlavor",
// which is no procedure. The preflight passes through to the Connect
// handler, which answers OPTIONS with 405, and the browser gets no CORS
// headers.
func ExampleMiddleware_Handler_stripPrefixIncorrect() {
	mw, err := interceptor.New()
	if err != nil {
		panic(err)
	}
	path, connectHandler := testv1connect.NewFlavorServiceHandler(flavors{})
	mux := http.NewServeMux()
	mux.Handle(path, connectHandler)
	handler := mw.Handler(http.StripPrefix("/api", mux)) // incorrect

	fmt.Println(preflightFlavor(handler, "/api/protocors.test.v1.FlavorService/GetFlavor"))
	// Output:
	// 405 (no Access-Control-Allow-Origin)
}

// preflightFlavor sends the preflight of a Connect POST from
// https://app.example.com and returns the status and the granted origin.
func preflightFlavor(h http.Handler, path string) string {
	r := httptest.NewRequest(http.MethodOptions, "https://api.example.com"+path, nil)
	r.Header.Set("Origin", "https://app.example.com")
	r.Header.Set("Access-Control-Request-Method", "POST")
	r.Header.Set("Access-Control-Request-Headers", "content-type")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	origin := w.Header().Get("Access-Control-Allow-Origin")
	if origin == "" {
		origin = "(no Access-Control-Allow-Origin)"
	}
	return fmt.Sprint(w.Code, " ", origin)
}
