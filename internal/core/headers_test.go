package core_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/protocors/protocors/internal/core"
)

func TestHeaderList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   [][]string
		want string
	}{
		{nil, ""},
		{[][]string{{"X-Trace-Id"}, {"Grpc-Status", "x-trace-id"}}, "X-Trace-Id,Grpc-Status"},
		{[][]string{{"X-A"}, {"*"}}, "*"},
	}
	for _, tt := range tests {
		if got := core.HeaderList(tt.in...); got != tt.want {
			t.Errorf("HeaderList(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// referenceParse is a slow, obviously correct reading of RFC 9110's
// #field-name list: split every line on ",", trim OWS, drop empty elements.
func referenceParse(lines []string) (names []string, ok bool) {
	for _, line := range lines {
		for _, el := range strings.Split(line, ",") {
			el = strings.Trim(el, " \t")
			if el == "" {
				continue
			}
			if !core.IsToken(el) || len(el) > 256 { // our documented bound on one name
				return nil, false
			}
			el = strings.ToLower(el)
			if !slices.Contains(names, el) {
				names = append(names, el)
			}
		}
	}
	return names, true
}

// FuzzRequestHeaders compares the allocation-free scanner with the
// reference reading, under a "*" policy (every token but authorization).
func FuzzRequestHeaders(f *testing.F) {
	for _, s := range []string{"x-a,x-b", " X-A ,, x-b\t", "", ",,,,", "authorization", "x-a,x-a", "x a", "x-a\x00", "x-é"} {
		f.Add(s, "x-c")
	}
	p := mustCompile(f, core.Config{Origins: []string{appOrigin}, AllowHeaders: []string{"*"}, MaxAge: -1})
	f.Fuzz(func(t *testing.T, line1, line2 string) {
		r := request(http.MethodOptions, "Origin", appOrigin, "Access-Control-Request-Method", "PUT")
		r.Header["Access-Control-Request-Headers"] = []string{line1, line2}
		w := httptest.NewRecorder()
		p.Preflight(w, r, "PUT")
		names, ok := referenceParse([]string{line1, line2})
		if ok && slices.Contains(names, "authorization") {
			ok = false
		}
		count := 0
		for _, line := range []string{line1, line2} {
			for _, el := range strings.Split(line, ",") {
				if strings.Trim(el, " \t") != "" {
					count++
				}
			}
		}
		if count > 100 {
			ok = false
		}
		if ok != (w.Code == http.StatusNoContent) {
			t.Fatalf("%q %q: status %d, reference ok=%t", line1, line2, w.Code, ok)
		}
		if !ok {
			return
		}
		got := w.Header().Get("Access-Control-Allow-Headers")
		if want := strings.Join(names, ","); got != want {
			t.Fatalf("%q %q: Allow-Headers %q, want %q", line1, line2, got, want)
		}
	})
}
