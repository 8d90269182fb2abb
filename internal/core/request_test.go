package core_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/protocors/protocors/internal/core"
)

func TestIsPreflight(t *testing.T) {
	t.Parallel()
	tests := []struct {
		method  string
		headers []string
		want    bool
	}{
		{"OPTIONS", []string{"Origin", appOrigin, "Access-Control-Request-Method", "PUT"}, true},
		{"OPTIONS", []string{"Origin", appOrigin, "Access-Control-Request-Method", ""}, true},
		{"OPTIONS", []string{"Origin", appOrigin}, false},
		{"OPTIONS", []string{"Access-Control-Request-Method", "PUT"}, false},
		{"OPTIONS", nil, false},
		{"POST", []string{"Origin", appOrigin, "Access-Control-Request-Method", "POST"}, false},
	}
	for _, tt := range tests {
		if q := core.ReadRequest(request(tt.method, tt.headers...)); q.IsPreflight() != tt.want {
			got := q.IsPreflight()
			t.Errorf("IsPreflight(%s %v) = %t, want %t", tt.method, tt.headers, got, tt.want)
		}
	}
}

func TestRequestsHeader(t *testing.T) {
	for _, tt := range []struct {
		lines []string
		want  bool
	}{
		{[]string{"x-http-method-override"}, true},
		{[]string{"content-type, X-HTTP-Method-Override "}, true},
		{[]string{"content-type", "x-http-method-override"}, true},
		{[]string{"content-type,x-other"}, false},
		{[]string{""}, false},
		{[]string{strings.Repeat(",", 1024) + "x-http-method-override"}, false}, // past the bound: the engine refuses the list anyway
	} {
		r := httptest.NewRequest("OPTIONS", "/", nil)
		r.Header.Set("Origin", "https://a.example")
		r.Header.Set("Access-Control-Request-Method", "POST")
		r.Header["Access-Control-Request-Headers"] = tt.lines
		q := core.ReadRequest(r)
		if got := q.RequestsHeader("x-http-method-override"); got != tt.want {
			t.Errorf("RequestsHeader in %q = %t, want %t", tt.lines, got, tt.want)
		}
	}
}
