package core_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/protocors/protocors/internal/core"
)

func readReq(r *http.Request) *core.Request {
	q := core.ReadRequest(r)
	return &q
}

func mustCompile(t testing.TB, c core.Config) *core.Engine {
	t.Helper()
	p, err := core.Compile(c)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func request(method string, headers ...string) *http.Request {
	r := httptest.NewRequest(method, "https://api.example.com/v1/x", nil)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	return r
}

var (
	appOrigin   = "https://app.example.com"
	baseConfig  = core.Config{Origins: []string{appOrigin}, AllowHeaders: []string{"X-Request-Id"}, MaxAge: 600}
	credsConfig = core.Config{Origins: []string{appOrigin, "https://*.example.org"}, Credentials: true, AllowHeaders: []string{"Authorization", "X-Request-Id"}, ProtocolHeaders: []string{"Content-Type"}, MaxAge: -1}
	anyConfig   = core.Config{Origins: []string{"*"}, AllowHeaders: []string{"*"}, MaxAge: -1}
)

func TestPreflight(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		config       core.Config
		allowMethods string
		headers      []string
		debug        bool
		wantStatus   int
		wantReason   core.Reason
		wantValue    string
		want         map[string]string // "" value: must be absent
	}{
		{
			name: "allowed origin and method", config: baseConfig, allowMethods: "PUT",
			headers:    []string{"Origin", appOrigin, "Access-Control-Request-Method", "PUT"},
			wantStatus: 204,
			want: map[string]string{
				"Access-Control-Allow-Origin": appOrigin, "Access-Control-Allow-Methods": "PUT",
				"Access-Control-Max-Age": "600", "Access-Control-Allow-Credentials": "", "Access-Control-Allow-Headers": "",
				"Vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
			},
		},
		{
			name: "origin not allowed", config: baseConfig, allowMethods: "PUT",
			headers:    []string{"Origin", "https://evil.example.net", "Access-Control-Request-Method", "PUT"},
			wantStatus: 403, wantReason: core.OriginNotAllowed, wantValue: "https://evil.example.net",
			want: map[string]string{"Access-Control-Allow-Origin": "", "Access-Control-Allow-Methods": "", "Vary": ""},
		},
		{
			name: "method not bound", config: baseConfig, allowMethods: "",
			headers:    []string{"Origin", appOrigin, "Access-Control-Request-Method", "DELETE"},
			wantStatus: 403, wantReason: core.MethodNotAllowed, wantValue: "DELETE",
			want: map[string]string{"Access-Control-Allow-Origin": "", "Access-Control-Allow-Methods": ""},
		},
		{
			name: "requested headers echoed as sent by browsers", config: credsConfig, allowMethods: "PUT",
			headers:    []string{"Origin", appOrigin, "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "authorization,content-type,x-request-id"},
			wantStatus: 204,
			want: map[string]string{
				"Access-Control-Allow-Origin": appOrigin, "Access-Control-Allow-Credentials": "true",
				"Access-Control-Allow-Headers": "authorization,content-type,x-request-id", "Access-Control-Max-Age": "",
			},
		},
		{
			name: "OWS, case, empty elements and several lines are normalized", config: credsConfig, allowMethods: "PUT",
			headers: []string{"Origin", appOrigin, "Access-Control-Request-Method", "PUT",
				"Access-Control-Request-Headers", " Content-Type ,, X-REQUEST-ID\t", "Access-Control-Request-Headers", "x-request-id,"},
			wantStatus: 204,
			want:       map[string]string{"Access-Control-Allow-Headers": "content-type,x-request-id"},
		},
		{
			name: "header not allowed", config: baseConfig, allowMethods: "PUT",
			headers:    []string{"Origin", appOrigin, "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "x-request-id,x-other"},
			wantStatus: 403, wantReason: core.HeaderNotAllowed, wantValue: "x-other",
			want: map[string]string{"Access-Control-Allow-Origin": ""},
		},
		{
			name: "star headers never cover authorization", config: anyConfig, allowMethods: "PUT",
			headers:    []string{"Origin", appOrigin, "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "authorization,x-foo"},
			wantStatus: 403, wantReason: core.HeaderNotAllowed, wantValue: "authorization",
		},
		{
			name: "star headers echo the request", config: anyConfig, allowMethods: "PUT",
			headers:    []string{"Origin", appOrigin, "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "x-bar,x-foo"},
			wantStatus: 204,
			want:       map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "x-bar,x-foo"},
		},
		{
			name: "present but empty request headers", config: baseConfig, allowMethods: "PUT",
			headers:    []string{"Origin", appOrigin, "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", ""},
			wantStatus: 204,
			want:       map[string]string{"Access-Control-Allow-Headers": ""},
		},
		{
			name: "non-token element", config: anyConfig, allowMethods: "PUT",
			headers:    []string{"Origin", appOrigin, "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "x-a,x b"},
			wantStatus: 403, wantReason: core.MalformedRequest,
		},
		{
			name: "too many names", config: anyConfig, allowMethods: "PUT",
			headers:    []string{"Origin", appOrigin, "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", manyNames(101)},
			wantStatus: 403, wantReason: core.MalformedRequest,
		},
		{
			name: "two origin lines", config: baseConfig, allowMethods: "PUT",
			headers:    []string{"Origin", "https://evil.example.net", "Origin", appOrigin, "Access-Control-Request-Method", "PUT"},
			wantStatus: 403, wantReason: core.OriginNotAllowed,
		},
		{
			name: "subdomain pattern echoes the origin, never the pattern", config: credsConfig, allowMethods: "GET",
			headers:    []string{"Origin", "https://a.b.example.org", "Access-Control-Request-Method", "GET"},
			wantStatus: 204,
			want:       map[string]string{"Access-Control-Allow-Origin": "https://a.b.example.org"},
		},
		{
			name: "debug names the missing method to the browser", config: baseConfig, allowMethods: "", debug: true,
			headers:    []string{"Origin", appOrigin, "Access-Control-Request-Method", "DELETE"},
			wantStatus: 204, wantReason: core.MethodNotAllowed, wantValue: "DELETE",
			want: map[string]string{"Access-Control-Allow-Origin": appOrigin, "Access-Control-Allow-Methods": ""},
		},
		{
			name: "debug still hides everything from a refused origin", config: baseConfig, allowMethods: "PUT", debug: true,
			headers:    []string{"Origin", "https://evil.example.net", "Access-Control-Request-Method", "PUT"},
			wantStatus: 403, wantReason: core.OriginNotAllowed,
			want: map[string]string{"Access-Control-Allow-Origin": ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := tt.config
			c.Debug = tt.debug
			p := mustCompile(t, c)
			r := request(http.MethodOptions, tt.headers...)
			if q := core.ReadRequest(r); !q.IsPreflight() {
				t.Fatal("IsPreflight = false")
			}
			w := httptest.NewRecorder()
			out := p.Preflight(w, readReq(r), core.Answer{Methods: tt.allowMethods})
			if w.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", w.Code, tt.wantStatus)
			}
			if out.Reason != tt.wantReason || (tt.wantValue != "" && out.Value != tt.wantValue) {
				t.Errorf("outcome = %v %q, want %v %q", out.Reason, out.Value, tt.wantReason, tt.wantValue)
			}
			checkHeaders(t, w.Header(), tt.want)
			if w.Code == 403 && countCORS(w.Header()) != 0 {
				t.Errorf("refused preflight carries CORS headers: %v", w.Header())
			}
		})
	}
}

func manyNames(n int) string {
	names := make([]string, n)
	for i := range names {
		names[i] = "x-h" + strings.Repeat("a", i%5) + string(rune('a'+i%26))
	}
	return strings.Join(names, ",")
}

func checkHeaders(t *testing.T, h http.Header, want map[string]string) {
	t.Helper()
	for k, v := range want {
		got := h.Values(k)
		if v == "" {
			if len(got) != 0 {
				t.Errorf("%s = %q, want absent", k, got)
			}
			continue
		}
		if len(got) != 1 || got[0] != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

func countCORS(h http.Header) int {
	n := 0
	for k := range h {
		if strings.HasPrefix(k, "Access-Control-") {
			n++
		}
	}
	return n
}

func TestActual(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		config   core.Config
		expose   string
		headers  []string
		prevVary []string
		granted  bool
		want     map[string]string
		wantVary []string
	}{
		{
			name: "allowed origin", config: baseConfig, expose: "X-Trace-Id",
			headers: []string{"Origin", appOrigin}, granted: true,
			want:     map[string]string{"Access-Control-Allow-Origin": appOrigin, "Access-Control-Expose-Headers": "X-Trace-Id", "Access-Control-Allow-Credentials": "", "Access-Control-Allow-Methods": "", "Access-Control-Max-Age": ""},
			wantVary: []string{"Origin"},
		},
		{
			name: "credentials", config: credsConfig, headers: []string{"Origin", appOrigin}, granted: true,
			want:     map[string]string{"Access-Control-Allow-Origin": appOrigin, "Access-Control-Allow-Credentials": "true", "Access-Control-Expose-Headers": ""},
			wantVary: []string{"Origin"},
		},
		{
			name: "disallowed origin gets only Vary", config: credsConfig, expose: "X-Trace-Id", headers: []string{"Origin", "https://evil.example.net"},
			want:     map[string]string{"Access-Control-Allow-Origin": "", "Access-Control-Allow-Credentials": "", "Access-Control-Expose-Headers": ""},
			wantVary: []string{"Origin"},
		},
		{
			name: "no origin varies", config: baseConfig, want: map[string]string{"Access-Control-Allow-Origin": ""}, wantVary: []string{"Origin"},
		},
		{
			name: "any origin without Origin", config: anyConfig, expose: "X-Trace-Id", granted: true,
			want: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "X-Trace-Id"},
		},
		{
			name: "any origin with Origin answers star", config: anyConfig, headers: []string{"Origin", "https://whoever.example"}, granted: true,
			want: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": ""},
		},
		{
			name: "vary is added to, not overwritten", config: baseConfig, headers: []string{"Origin", appOrigin}, prevVary: []string{"Accept-Encoding"}, granted: true,
			want: map[string]string{"Access-Control-Allow-Origin": appOrigin}, wantVary: []string{"Accept-Encoding", "Origin"},
		},
		{
			name: "vary origin not repeated", config: baseConfig, headers: []string{"Origin", appOrigin}, prevVary: []string{"accept-encoding, origin"}, granted: true,
			wantVary: []string{"accept-encoding, origin"},
		},
		{
			name: "two origin lines are refused", config: credsConfig, headers: []string{"Origin", "https://evil.example.net", "Origin", appOrigin},
			want: map[string]string{"Access-Control-Allow-Origin": ""}, wantVary: []string{"Origin"},
		},
		{
			name: "upper-case host is not normalized into a match", config: baseConfig, headers: []string{"Origin", "https://APP.EXAMPLE.COM"},
			want: map[string]string{"Access-Control-Allow-Origin": ""}, wantVary: []string{"Origin"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := mustCompile(t, tt.config)
			h := http.Header{}
			if tt.prevVary != nil {
				h["Vary"] = append([]string(nil), tt.prevVary...)
			}
			r := request(http.MethodGet, tt.headers...)
			if got := p.Actual(h, readReq(r), tt.expose); got != tt.granted {
				t.Errorf("granted = %t, want %t", got, tt.granted)
			}
			checkHeaders(t, h, tt.want)
			if tt.wantVary != nil && strings.Join(h["Vary"], "|") != strings.Join(tt.wantVary, "|") {
				t.Errorf("Vary = %q, want %q", h["Vary"], tt.wantVary)
			}
			if tt.wantVary == nil && len(h["Vary"]) != 0 {
				t.Errorf("Vary = %q, want none", h["Vary"])
			}
		})
	}
}

// A wrapping middleware may mutate the value slices we set; the next
// response must not see the change, and neighbours must not be clobbered by
// appends.
func TestValuesNotShared(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, credsConfig)
	for i := 0; i < 2; i++ {
		h := http.Header{}
		p.Actual(h, readReq(request("GET", "Origin", appOrigin)), "X-Trace-Id")
		for k, v := range h {
			if v[0] == "mutated" {
				t.Fatalf("response %d: %s carries a previous response's mutation", i, k)
			}
			h[k] = append(v, "appended")
		}
		if got := h["Access-Control-Allow-Origin"]; len(got) != 2 || got[0] != appOrigin {
			t.Fatalf("append clobbered a neighbour: %q", got)
		}
		for k := range h {
			h[k][0] = "mutated"
		}
		w := httptest.NewRecorder()
		p.Preflight(w, readReq(request("OPTIONS", "Origin", appOrigin, "Access-Control-Request-Method", "PUT")), core.Answer{Methods: "PUT"})
		for k, v := range w.Header() {
			if v[0] == "mutated" {
				t.Fatalf("preflight %s carries a mutation", k)
			}
			w.Header()[k][0] = "mutated"
		}
	}
}
