package e2e_test

import "testing"

// grpcWebSpec is a unary call made by the page with Google's official
// gRPC-Web client (src/grpcweb.ts).
type grpcWebSpec struct {
	API      string            `json:"api"`
	Method   string            `json:"method"`
	Request  map[string]any    `json:"request"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// xhrBlocked is the official gRPC-Web client's message for a response the
// browser blocked, in every engine: it uses XMLHttpRequest, which reports
// status 0 and no text of the engine's.
const xhrBlocked = "Http response at 400 or 500 level, http status code: 0"

// TestGrpcWebClient calls the example's Connect handler (IceCreamService
// behind the interceptor middleware) cross-origin with the official
// gRPC-Web client (npm grpc-web, GrpcWebClientBase, format binary): what
// users of that client see, in each engine.
func TestGrpcWebClient(t *testing.T) {
	inEachEngine(t, func(t *testing.T, s *suite) {
		p := s.tab(t, s.page)
		call := func(spec grpcWebSpec) observation {
			t.Helper()
			spec.API = s.api
			return eval(t, p, "grpcWebCall", spec)
		}

		t.Run("unary call", func(t *testing.T) {
			o := call(grpcWebSpec{Method: "getIceCream", Request: map[string]any{"flavor": "vanilla"}})
			want{outcome: "allowed", fields: map[string]any{"iceCream.flavor": "vanilla"}, exposed: true}.check(t, s, o)
		})
		t.Run("metadata the method allows", func(t *testing.T) {
			o := call(grpcWebSpec{Method: "putIceCream", Request: map[string]any{"flavor": "grpc-web-mango", "scoops": 5},
				Metadata: map[string]string{"x-my-header": "from grpc-web"}})
			want{outcome: "allowed", fields: map[string]any{"myHeader": "from grpc-web", "iceCream.scoops": 5}, exposed: true}.check(t, s, o)
		})
		t.Run("error code the server sent", func(t *testing.T) {
			o := call(grpcWebSpec{Method: "getIceCream", Request: map[string]any{"flavor": "no-such-flavor"}})
			want{outcome: "error", code: "NOT_FOUND"}.check(t, s, o)
			if o.Error != "no such flavor" {
				t.Errorf("page saw message %q, want the server's grpc-message %q", o.Error, "no such flavor")
			}
		})
		t.Run("metadata allowed on another method only", func(t *testing.T) {
			o := call(grpcWebSpec{Method: "listIceCreams", Request: map[string]any{},
				Metadata: map[string]string{"x-my-header": "hello"}})
			want{outcome: "blocked", code: "UNKNOWN", blockedError: xhrBlocked}.check(t, s, o)
		})
		t.Run("method whose origins exclude this page", func(t *testing.T) {
			o := call(grpcWebSpec{Method: "restockIceCream", Request: map[string]any{"flavor": "vanilla", "scoops": 1}})
			want{outcome: "blocked", code: "UNKNOWN", blockedError: xhrBlocked, notReached: "RestockIceCream"}.check(t, s, o)
		})
		t.Run("server streaming", func(t *testing.T) {
			o := eval(t, p, "grpcWebWatch", s.api, 3)
			want{outcome: "allowed", fields: map[string]any{"length": 3}, exposed: true}.check(t, s, o)
		})
		// The PUT changed the store: a later call sees it.
		o := call(grpcWebSpec{Method: "getIceCream", Request: map[string]any{"flavor": "grpc-web-mango"}})
		want{outcome: "allowed", fields: map[string]any{"iceCream.scoops": 5}}.check(t, s, o)
	})
}
