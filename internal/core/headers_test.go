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
	for _, s := range []string{"x-a,x-b", " X-A ,, x-b\t", "", ",,,,", "authorization", "x-a,x-a", "x a", "x-a\x00", "x-é", "content-type,x-a,x-c", "x-c,x-a", "x-a,x-b,x-b", "x-a,x-c,x-request-id,"} {
		f.Add(s, "x-c")
		f.Add(s, "")
		f.Add(s+" ", "")
	}
	star := mustCompile(f, core.Config{Origins: []string{appOrigin}, AllowHeaders: []string{"*"}, MaxAge: -1})
	listed := []string{"x-a", "X-B", "content-type", "x-request-id", "x-c"}
	list := mustCompile(f, core.Config{Origins: []string{appOrigin}, AllowHeaders: listed[:3], ProtocolHeaders: listed[3:], MaxAge: -1})
	f.Fuzz(func(t *testing.T, line1, line2 string) {
		lines := []string{line1, line2}
		if line2 == "" { // exercise the single-line (canonical) path too
			lines = lines[:1]
		}
		r := request(http.MethodOptions, "Origin", appOrigin, "Access-Control-Request-Method", "PUT")
		r.Header["Access-Control-Request-Headers"] = lines
		p, isStar := star, true
		if len(line1)%2 == 1 {
			p, isStar = list, false
		}
		w := httptest.NewRecorder()
		p.Preflight(w, readReq(r), core.Answer{Methods: "PUT"})
		names, ok := referenceParse(lines)
		for _, n := range names {
			if isStar && n == "authorization" || !isStar && !slices.ContainsFunc(listed, func(l string) bool { return strings.EqualFold(l, n) }) {
				ok = false
			}
		}
		count, empties := 0, 0
		for _, line := range lines {
			for _, el := range strings.Split(line, ",") {
				if strings.Trim(el, " \t") != "" {
					count++
				} else {
					empties++
				}
			}
		}
		if count > 100 || empties > 16 { // our documented bounds
			ok = false
		}
		if ok != (w.Code == http.StatusNoContent) {
			t.Fatalf("%q: status %d, reference ok=%t", lines, w.Code, ok)
		}
		if !ok {
			return
		}
		got := w.Header().Get("Access-Control-Allow-Headers")
		if want := strings.Join(names, ","); got != want {
			t.Fatalf("%q: Allow-Headers %q, want %q", lines, got, want)
		}
	})
}
