package e2e_test

import "testing"

// TestGateway calls the grpc-gateway routes with plain fetch. GET, PUT and
// DELETE share /v1/icecream/{flavor} with three different policies.
func TestGateway(t *testing.T) {
	inEachEngine(t, func(t *testing.T, s *suite) {
		p := s.tab(t, s.page)
		jsonBody := map[string]string{"Content-Type": "application/json"}

		tests := []struct {
			name string
			spec fetchSpec
			want want
		}{{
			name: "GET inherits the service policy",
			spec: fetchSpec{URL: s.api + "/v1/icecream/vanilla"},
			want: want{outcome: "allowed", status: 200, fields: map[string]any{"iceCream.flavor": "vanilla"}, exposed: true},
		}, {
			name: "PUT on the same URL allows X-My-Header",
			spec: fetchSpec{URL: s.api + "/v1/icecream/gw-mango", Method: "PUT", Body: `{"scoops":4}`,
				Headers: map[string]string{"Content-Type": "application/json", "X-My-Header": "gateway"}},
			want: want{outcome: "allowed", status: 200, fields: map[string]any{"iceCream.flavor": "gw-mango", "iceCream.scoops": 4, "myHeader": "gateway"}, exposed: true},
		}, {
			name: "GET on the same URL does not allow X-My-Header",
			spec: fetchSpec{URL: s.api + "/v1/icecream/vanilla", Headers: map[string]string{"X-My-Header": "gateway"}},
			want: want{outcome: "blocked"},
		}, {
			name: "DELETE on the same URL has CORS disabled",
			spec: fetchSpec{URL: s.api + "/v1/icecream/pistachio", Method: "DELETE"},
			want: want{outcome: "blocked", notReached: "/v1/icecream/pistachio"},
		}, {
			name: "list route",
			spec: fetchSpec{URL: s.api + "/v1/icecream"},
			want: want{outcome: "allowed", status: 200, fields: map[string]any{"iceCreams.0.flavor": "chocolate"}, exposed: true},
		}, {
			name: "custom method whose origins exclude this page",
			spec: fetchSpec{URL: s.api + "/v1/icecream/vanilla:restock", Method: "POST", Body: `{"scoops":1}`, Headers: jsonBody},
			want: want{outcome: "blocked", notReached: ":restock"},
		}, {
			name: "error responses are readable too",
			spec: fetchSpec{URL: s.api + "/v1/icecream/no-such-flavor"},
			want: want{outcome: "allowed", status: 404},
		}}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				tt.want.check(t, s, eval(t, p, "fetch", tt.spec))
			})
		}
		// The page sees that the refused DELETE never ran.
		o := eval(t, p, "fetch", fetchSpec{URL: s.api + "/v1/icecream/pistachio"})
		want{outcome: "allowed", status: 200, fields: map[string]any{"iceCream.flavor": "pistachio"}}.check(t, s, o)
	})
}
