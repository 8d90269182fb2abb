package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/protocorstest"

	greetv1 "example.com/usermodule/gen/greet/v1"
)

const origin = "https://app.example"

// The schema is registered once, by corspb, and the user's file depends on
// that very descriptor: no second copy was generated (which would have
// panicked before this test ran).
func TestSchemaRegisteredOnce(t *testing.T) {
	fd, err := protoregistry.GlobalFiles.FindFileByPath("protocors/v1/cors.proto")
	if err != nil {
		t.Fatal(err)
	}
	if fd != corspb.File_protocors_v1_cors_proto {
		t.Fatal("protocors/v1/cors.proto is registered by another package than corspb")
	}
	imports := greetv1.File_greet_v1_greet_proto.Imports()
	for i := range imports.Len() {
		if imp := imports.Get(i); imp.Path() == "protocors/v1/cors.proto" {
			if imp.FileDescriptor != corspb.File_protocors_v1_cors_proto {
				t.Fatal("greet/v1/greet.proto imports another protocors/v1/cors.proto than corspb's")
			}
			return
		}
	}
	t.Fatal("greet/v1/greet.proto does not import protocors/v1/cors.proto")
}

func do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

func request(t *testing.T, method, url, body string, header map[string]string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return req
}

// Both middlewares are mounted in front of every RPC they know.
func TestWiring(t *testing.T) {
	h, connectCORS, gatewayCORS, err := newHandler(origin)
	if err != nil {
		t.Fatal(err)
	}
	if err := protocorstest.Verify(h, connectCORS, gatewayCORS); err != nil {
		t.Error(err)
	}
}

// One allowed cross-origin call on each server, as a browser makes it: the
// preflight, then the actual request.
func TestCrossOriginCall(t *testing.T) {
	h, _, _, err := newHandler(origin)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	t.Run("connect", func(t *testing.T) {
		url := srv.URL + "/greet.v1.GreetService/Greet"
		res, body := do(t, request(t, http.MethodOptions, url, "", map[string]string{
			"Origin":                         origin,
			"Access-Control-Request-Method":  "POST",
			"Access-Control-Request-Headers": "content-type,connect-protocol-version,x-request-id",
		}))
		if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != origin ||
			!strings.Contains(strings.ToLower(res.Header.Get("Access-Control-Allow-Headers")), "x-request-id") ||
			res.Header.Get("Access-Control-Max-Age") != "600" {
			t.Fatalf("preflight: %s %v %q", res.Status, res.Header, body)
		}
		res, body = do(t, request(t, http.MethodPost, url, `{"name":"Ada"}`, map[string]string{
			"Origin":                   origin,
			"Content-Type":             "application/json",
			"Connect-Protocol-Version": "1",
			"X-Request-Id":             "1",
		}))
		if res.StatusCode != http.StatusOK || res.Header.Get("Access-Control-Allow-Origin") != origin ||
			!strings.Contains(res.Header.Get("Access-Control-Expose-Headers"), "X-Greeter") ||
			!strings.Contains(body, `"Hello, Ada!"`) {
			t.Fatalf("call: %s %v %q", res.Status, res.Header, body)
		}
	})

	t.Run("gateway", func(t *testing.T) {
		url := srv.URL + "/v1/greet/Ada"
		res, body := do(t, request(t, http.MethodOptions, url, "", map[string]string{
			"Origin":                         origin,
			"Access-Control-Request-Method":  "GET",
			"Access-Control-Request-Headers": "x-request-id",
		}))
		if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != origin {
			t.Fatalf("preflight: %s %v %q", res.Status, res.Header, body)
		}
		res, body = do(t, request(t, http.MethodGet, url, "", map[string]string{"Origin": origin, "X-Request-Id": "1"}))
		if res.StatusCode != http.StatusOK || res.Header.Get("Access-Control-Allow-Origin") != origin ||
			!strings.Contains(body, `"Hello, Ada!"`) {
			t.Fatalf("call: %s %v %q", res.Status, res.Header, body)
		}
	})

	t.Run("other origin refused", func(t *testing.T) {
		res, body := do(t, request(t, http.MethodOptions, srv.URL+"/v1/greet/Ada", "", map[string]string{
			"Origin":                        "https://evil.example",
			"Access-Control-Request-Method": "GET",
		}))
		if res.StatusCode != http.StatusForbidden || res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("preflight: %s %v %q", res.Status, res.Header, body)
		}
	})
}
