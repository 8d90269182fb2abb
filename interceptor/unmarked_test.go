package interceptor_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/interceptor"
)

// TestUnmarkedRequests: a POST no browser marked (no Origin, no
// Sec-Fetch-Site) reaches the handler untouched, without Vary; one that
// Sec-Fetch-Site marks cross-site is still refused; and once a "*" policy
// is in the descriptor source, every request finds its procedure again,
// so that policy's Access-Control-Allow-Origin: * is on every response.
func TestUnmarkedRequests(t *testing.T) {
	noStar := setsFiles(t, nil, lits(publicOrigin), lits(adminOrigin), nil)
	star := setsFiles(t, nil, lits(publicOrigin), lits("*"), nil)
	for _, tc := range []struct {
		name          string
		star          bool
		procedure     string
		headers       []string
		status        int
		ran           bool
		vary, allowed string
	}{
		{"without Origin: untouched", false, "/sets.v1.A/Call", nil, 200, true, "", ""},
		{"marked cross-site without Origin: refused", false, "/sets.v1.A/Call", []string{"Sec-Fetch-Site", "cross-site"}, 403, false, "", ""},
		{"from an allowed origin: granted", false, "/sets.v1.A/Call", []string{"Origin", publicOrigin}, 200, true, "Origin", publicOrigin},
		{"a * policy in the source: without Origin, Vary", true, "/sets.v1.A/Call", nil, 200, true, "Origin", ""},
		{"a * policy in the source: its procedure answers *", true, "/sets.v1.B/Call", nil, 200, true, "", "*"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := noStar
			if tc.star {
				files = star
			}
			mw, err := interceptor.New(protocors.WithFiles(files))
			if err != nil {
				t.Fatal(err)
			}
			ran := false
			h := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				ran = true
				w.WriteHeader(http.StatusOK)
			}))
			r := httptest.NewRequest(http.MethodPost, "https://api.example.com"+tc.procedure, nil)
			r.Header.Set("Content-Type", "application/json")
			for i := 0; i+1 < len(tc.headers); i += 2 {
				r.Header.Set(tc.headers[i], tc.headers[i+1])
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.status || ran != tc.ran {
				t.Errorf("status %d, handler ran %v; want %d, %v", w.Code, ran, tc.status, tc.ran)
			}
			if got := w.Header().Get("Vary"); got != tc.vary {
				t.Errorf("Vary %q, want %q", got, tc.vary)
			}
			if got := w.Header().Get("Access-Control-Allow-Origin"); got != tc.allowed {
				t.Errorf("Access-Control-Allow-Origin %q, want %q", got, tc.allowed)
			}
		})
	}
}
