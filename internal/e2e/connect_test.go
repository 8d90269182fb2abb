package e2e_test

import (
	"net/url"
	"testing"
)

const service = "/icecream.v1.IceCreamService/"

// connectJSON is a Connect unary call with the JSON codec made with plain
// fetch: POST, application/json and Connect-Protocol-Version (preflighted).
func connectJSON(api, method, body string, extra map[string]string) fetchSpec {
	h := map[string]string{"Content-Type": "application/json", "Connect-Protocol-Version": "1"}
	for k, v := range extra {
		h[k] = v
	}
	return fetchSpec{URL: api + service + method, Method: "POST", Headers: h, Body: body}
}

// connectGET is a Connect GET made with plain fetch: a simple request.
func connectGET(api, method, message string) fetchSpec {
	q := url.Values{"connect": {"v1"}, "encoding": {"json"}, "message": {message}}
	return fetchSpec{URL: api + service + method + "?" + q.Encode(), Method: "GET"}
}

// TestConnectFetch calls the Connect handlers with plain fetch from the
// authorized page.
func TestConnectFetch(t *testing.T) {
	inEachEngine(t, func(t *testing.T, s *suite) {
		p := s.tab(t, s.page)

		tests := []struct {
			name string
			spec fetchSpec
			want want
		}{{
			name: "Connect JSON POST inherits the service policy",
			spec: connectJSON(s.api, "GetIceCream", `{"flavor":"vanilla"}`, nil),
			want: want{outcome: "allowed", status: 200, fields: map[string]any{"iceCream.flavor": "vanilla"}, exposed: true},
		}, {
			name: "Connect GET on a NO_SIDE_EFFECTS method",
			spec: connectGET(s.api, "GetIceCream", `{"flavor":"chocolate"}`),
			want: want{outcome: "allowed", status: 200, fields: map[string]any{"iceCream.flavor": "chocolate"}, exposed: true},
		}, {
			name: "Connect JSON POST to the list method",
			spec: connectJSON(s.api, "ListIceCreams", `{}`, nil),
			want: want{outcome: "allowed", status: 200, fields: map[string]any{"iceCreams.0.flavor": "chocolate"}, exposed: true},
		}, {
			name: "error responses are readable too",
			spec: connectJSON(s.api, "GetIceCream", `{"flavor":"no-such-flavor"}`, nil),
			want: want{outcome: "allowed", status: 404, fields: map[string]any{"code": "not_found"}},
		}, {
			name: "application header the method allows",
			spec: connectJSON(s.api, "PutIceCream", `{"flavor":"fetch-mango","scoops":3}`, map[string]string{"X-My-Header": "hello"}),
			want: want{outcome: "allowed", status: 200, fields: map[string]any{"myHeader": "hello", "iceCream.scoops": 3}, exposed: true},
		}, {
			name: "application header allowed on another method only",
			spec: connectJSON(s.api, "GetIceCream", `{"flavor":"vanilla"}`, map[string]string{"X-My-Header": "hello"}),
			want: want{outcome: "blocked"},
		}, {
			name: "method whose origins exclude this page",
			spec: connectJSON(s.api, "RestockIceCream", `{"flavor":"fetch-restock","scoops":1}`, nil),
			want: want{outcome: "blocked", notReached: "RestockIceCream"},
		}, {
			name: "method with CORS disabled",
			spec: connectJSON(s.api, "DeleteIceCream", `{"flavor":"pistachio"}`, nil),
			want: want{outcome: "blocked", notReached: "DeleteIceCream"},
		}}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				tt.want.check(t, s, eval(t, p, "fetch", tt.spec))
			})
		}
		// The refused calls never ran: the page still sees pistachio, and no
		// fetch-restock flavor.
		o := eval(t, p, "fetch", connectJSON(s.api, "GetIceCream", `{"flavor":"pistachio"}`, nil))
		want{outcome: "allowed", status: 200, fields: map[string]any{"iceCream.flavor": "pistachio"}}.check(t, s, o)
		o = eval(t, p, "fetch", connectJSON(s.api, "GetIceCream", `{"flavor":"fetch-restock"}`, nil))
		want{outcome: "allowed", status: 404}.check(t, s, o)
	})
}

// TestConnectWeb calls the Connect handlers with the official Connect web
// client (@connectrpc/connect-web) over each browser protocol.
func TestConnectWeb(t *testing.T) {
	inEachEngine(t, func(t *testing.T, s *suite) {
		p := s.tab(t, s.page)

		for _, kind := range []string{"connect-json", "connect-binary", "grpc-web", "connect-get"} {
			t.Run(kind, func(t *testing.T) {
				tests := []struct {
					name string
					call callSpec
					want want
				}{{
					name: "unary call",
					call: callSpec{Method: "getIceCream", Request: map[string]any{"flavor": "vanilla"}},
					want: want{outcome: "allowed", fields: map[string]any{"iceCream.flavor": "vanilla"}, exposed: true},
				}, {
					name: "error the server sent reaches the page with its code",
					call: callSpec{Method: "getIceCream", Request: map[string]any{"flavor": "no-such-flavor"}},
					want: want{outcome: "error", code: "NotFound"},
				}, {
					name: "application header the method allows",
					call: callSpec{Method: "putIceCream", Request: map[string]any{"flavor": "web-" + kind, "scoops": 2}, Headers: map[string]string{"X-My-Header": "from " + kind}},
					want: want{outcome: "allowed", fields: map[string]any{"myHeader": "from " + kind, "iceCream.scoops": 2}, exposed: true},
				}, {
					name: "application header allowed on another method only",
					call: callSpec{Method: "listIceCreams", Request: map[string]any{}, Headers: map[string]string{"X-My-Header": "hello"}},
					want: want{outcome: "blocked"},
				}, {
					name: "method whose origins exclude this page",
					call: callSpec{Method: "restockIceCream", Request: map[string]any{"flavor": "vanilla", "scoops": 1}},
					want: want{outcome: "blocked"},
				}, {
					name: "method with CORS disabled",
					call: callSpec{Method: "deleteIceCream", Request: map[string]any{"flavor": "pistachio"}},
					want: want{outcome: "blocked", notReached: "DeleteIceCream"},
				}}
				for _, tt := range tests {
					t.Run(tt.name, func(t *testing.T) {
						tt.call.API, tt.call.Kind = s.api, kind
						tt.want.check(t, s, eval(t, p, "call", tt.call))
					})
				}
			})
		}
		// The Connect GET client really used GET for the NO_SIDE_EFFECTS method.
		if !s.seen.reached("GET", service+"GetIceCream?") {
			t.Error("no Connect GET request reached the API")
		}
	})
}

// TestConnectWebStream calls the server-streaming method with the Connect
// web client.
func TestConnectWebStream(t *testing.T) {
	inEachEngine(t, func(t *testing.T, s *suite) {
		p := s.tab(t, s.page)
		for _, kind := range []string{"connect-json", "connect-binary", "grpc-web"} {
			t.Run(kind, func(t *testing.T) {
				o := eval(t, p, "watch", s.api, kind, 4)
				want{outcome: "allowed", fields: map[string]any{"length": 4}, exposed: true}.check(t, s, o)
			})
		}
	})
}
