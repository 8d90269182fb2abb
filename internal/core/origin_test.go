package core_test

import (
	"strings"
	"testing"

	"github.com/protocors/protocors/internal/core"
)

func TestParseOrigin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		opts    core.OriginOptions
		wantErr string // "" means valid
	}{
		{in: "https://app.example.com"},
		{in: "https://app.example.com:8443"},
		{in: "http://localhost:3000"},
		{in: "http://localhost:*"},
		{in: "http://127.0.0.1:8080"},
		{in: "http://[::1]:8080"},
		{in: "https://*.example.com"},
		{in: "https://*.example.com:*"},
		{in: "https://xn--bcher-kva.example"},
		{in: "chrome-extension://abcdefghijklmnop"},
		{in: "*"},
		{in: "null", opts: core.OriginOptions{AllowNull: true}},
		{in: "", wantErr: "empty origin"},
		{in: "null", wantErr: `"null" origin is shared`},
		{in: "app.example.com", wantErr: "want scheme://host[:port]"},
		{in: "https://app.example.com/", wantErr: "has a path or trailing slash"},
		{in: "https://app.example.com/path", wantErr: "has a path or trailing slash"},
		{in: "https://app.example.com?x=1", wantErr: "has a query"},
		{in: "https://app.example.com#top", wantErr: "has a fragment"},
		{in: "https://user@app.example.com", wantErr: "has userinfo"},
		{in: "https://App.Example.com", wantErr: "has upper case"},
		{in: "HTTPS://app.example.com", wantErr: "not a lower-case URL scheme"},
		{in: "https://app.example.com:", wantErr: "empty port"},
		{in: "https://app.example.com:443", wantErr: "default for https"},
		{in: "http://app.example.com:80", wantErr: "default for http"},
		{in: "https://app.example.com:08443", wantErr: "no leading zero"},
		{in: "https://app.example.com:70000", wantErr: "1 to 65535"},
		{in: "https://*.com", wantErr: "too broad"},
		{in: "https://*.co.uk", wantErr: "too broad"},
		{in: "https://*.github.io", wantErr: "too broad"},
		{in: "https://*.example.co.uk"},
		{in: "https://*.app.example.com"},
		{in: "https://*.app.localhost"},
		{in: "https://*.city.kawasaki.jp"},
		{in: "https://*.localhost", wantErr: `"localhost" is a public suffix`},
		{in: "https://*", wantErr: "first label"},
		{in: "https://app.*.com", wantErr: "first label"},
		{in: "https://*app.example.com", wantErr: "first label"},
		{in: "https://*.*.example.com", wantErr: "first label"},
		{in: "https://*.127.0.0.1", wantErr: "not an IP address"},
		{in: "http://[::1", wantErr: "unterminated"},
		{in: "http://[0:0:0:0:0:0:0:1]:8080", wantErr: "write [::1]"},
		{in: "http://127.1", wantErr: "IPv4"},
		{in: "https://app..example.com", wantErr: "empty label"},
		{in: "https://app example.com", wantErr: "never sends"},
		{in: "https://" + strings.Repeat("a", 600) + ".com", wantErr: "longer than"},
	}
	for _, tt := range tests {
		_, err := core.ParseOrigin(tt.in, tt.opts)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("ParseOrigin(%q) = %v, want ok", tt.in, err)
		case tt.wantErr != "" && err == nil:
			t.Errorf("ParseOrigin(%q) ok, want error containing %q", tt.in, tt.wantErr)
		case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
			t.Errorf("ParseOrigin(%q) = %q, want it to contain %q", tt.in, err, tt.wantErr)
		}
	}
}

// TestParseOriginLongerPublicSuffix checks the exact message for wildcards
// whose base is not a public suffix but has one below it.
func TestParseOriginLongerPublicSuffix(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"https://*.amazonaws.com", `the wildcard covers hosts under the public suffix "s3.amazonaws.com", where anyone can register a site; list the origins you own`},
		{"https://*.compute.amazonaws.com:*", `the wildcard covers hosts under the public suffixes "*.compute.amazonaws.com", where anyone can register a site; list the origins you own`},
		{"https://*.kawasaki.jp", `the wildcard covers hosts under the public suffixes "*.kawasaki.jp", where anyone can register a site; list the origins you own`},
		{"https://*.com", `too broad: "com" is a public suffix, so the pattern would allow sites of anyone who registers a name under it`},
		{"https://*.co.uk", `too broad: "co.uk" is a public suffix, so the pattern would allow sites of anyone who registers a name under it`},
		{"https://*.github.io", `too broad: "github.io" is a public suffix, so the pattern would allow sites of anyone who registers a name under it`},
		{"https://*.foo.kawasaki.jp", `too broad: "foo.kawasaki.jp" is a public suffix, so the pattern would allow sites of anyone who registers a name under it`},
		{"https://*.example.com", ""},
		{"https://*.example.co.uk", ""},
		{"https://*.app.example.com", ""},
	}
	for _, tt := range tests {
		_, err := core.ParseOrigin(tt.in, core.OriginOptions{})
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("ParseOrigin(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestOriginMatching(t *testing.T) {
	t.Parallel()
	tests := []struct {
		allowed []string
		origin  string
		want    bool
	}{
		{[]string{"https://example.com"}, "https://example.com", true},
		{[]string{"https://example.com"}, "https://example.com.evil.net", false},
		{[]string{"https://example.com"}, "https://xample.com", false},
		{[]string{"https://example.com"}, "https://example.com:8443", false},
		{[]string{"https://example.com"}, "https://sub.example.com", false},
		{[]string{"https://example.com"}, "http://example.com", false},
		{[]string{"https://example.com"}, "https://EXAMPLE.com", false},
		{[]string{"https://example.com"}, "https://example.com/", false},
		{[]string{"https://example.com"}, "https://example.com:", false},
		{[]string{"https://example.com"}, "https://example.com\r\nX-Injected: 1", false},
		{[]string{"https://example.com"}, "null", false},
		{[]string{"https://foo.com", "https://bar.com"}, "https://barfoo.com", false},
		{[]string{"http://localhost:3000"}, "http://127.0.0.1:3000", false},
		{[]string{"https://*.example.com"}, "https://a.example.com", true},
		{[]string{"https://*.example.com"}, "https://a.b.example.com", true},
		{[]string{"https://*.example.com"}, "https://example.com", false},
		{[]string{"https://*.example.com"}, "https://.example.com", false},
		{[]string{"https://*.example.com"}, "https://a..example.com", false},
		{[]string{"https://*.example.com"}, "https://evilexample.com", false},
		{[]string{"https://*.example.com"}, "https://a.example.com:8443", false},
		{[]string{"https://*.example.com"}, "http://a.example.com", false},
		{[]string{"https://*.example.com"}, "https://A.example.com", false},
		{[]string{"https://*.example.com"}, "https://a.example.com.evil.net", false},
		{[]string{"https://*.example.com"}, "https://a/b.example.com", false},
		{[]string{"https://*.example.com:*"}, "https://a.example.com:8443", true},
		{[]string{"https://*.example.com:*"}, "https://a.example.com", true},
		{[]string{"http://localhost:*"}, "http://localhost:3000", true},
		{[]string{"http://localhost:*"}, "http://localhost", true},
		{[]string{"http://localhost:*"}, "http://localhost:80", false},
		{[]string{"http://localhost:*"}, "http://localhost:03000", false},
		{[]string{"http://localhost:*"}, "http://localhost:65536", false},
		{[]string{"http://localhost:*"}, "http://localhost:", false},
		{[]string{"http://localhost:*"}, "http://localhost.evil.net:3000", false},
		{[]string{"http://[::1]:*"}, "http://[::1]:9090", true},
		{[]string{"http://[::1]:8080"}, "http://[::1]:9090", false},
		{[]string{"*"}, "https://anything.example", true},
		{[]string{"*"}, "", false},
		{[]string{"https://app.example.com"}, "https://" + strings.Repeat("a", 8192) + ".app.example.com", false},
	}
	for _, tt := range tests {
		p := mustCompile(t, core.Config{Origins: tt.allowed, MaxAge: -1})
		if got := p.AllowsOrigin(tt.origin); got != tt.want {
			t.Errorf("%q allows %q = %t, want %t", tt.allowed, tt.origin, got, tt.want)
		}
	}
}

// FuzzOrigin checks that matching never panics, never grants a value that is
// not byte-equal to an exact entry or a valid subdomain of a pattern, and
// that every entry ParseOrigin accepts matches itself when it is exact.
func FuzzOrigin(f *testing.F) {
	for _, s := range []string{"https://app.example.com", "https://a.example.com", "http://localhost:3000",
		"https://a.example.com:8443", "http://[::1]:8080", "null", "", "https://*.example.com", "https://x..example.com"} {
		f.Add(s)
	}
	allowed := []string{"https://app.example.com", "https://*.example.com", "http://localhost:*", "http://[::1]:8080"}
	p := mustCompile(f, core.Config{Origins: allowed, MaxAge: -1})
	f.Fuzz(func(t *testing.T, origin string) {
		if p.AllowsOrigin(origin) {
			ok := origin == "https://app.example.com" || origin == "http://[::1]:8080" ||
				strings.HasPrefix(origin, "https://") && strings.HasSuffix(origin, ".example.com") && !strings.ContainsAny(origin[8:], "/:?#@ \r\n\tABCDEFGHIJKLMNOPQRSTUVWXYZ") ||
				strings.HasPrefix(origin, "http://localhost") && !strings.ContainsAny(origin[16:], "/?#@ .")
			if !ok {
				t.Fatalf("granted %q", origin)
			}
		}
		if _, err := core.ParseOrigin(origin, core.OriginOptions{}); err == nil && origin != "*" && !strings.Contains(origin, "*") {
			q := mustCompile(t, core.Config{Origins: []string{origin}, MaxAge: -1})
			if !q.AllowsOrigin(origin) {
				t.Fatalf("accepted entry %q does not match itself", origin)
			}
		}
	})
}

// TestParseOriginWhitespace: WithOrigins(strings.Split("a, b", ",")...)
// gives " b"; the error says what is wrong instead of blaming the scheme.
func TestParseOriginWhitespace(t *testing.T) {
	for _, o := range []string{" https://b.example.com", "https://b.example.com ", "\thttps://b.example.com"} {
		_, err := core.ParseOrigin(o, core.OriginOptions{})
		if err == nil || !strings.Contains(err.Error(), "leading or trailing whitespace") || !strings.Contains(err.Error(), `"https://b.example.com"`) {
			t.Errorf("ParseOrigin(%q) = %v", o, err)
		}
	}
}

// TestParseOriginTypos checks the exact fix proposed for the mistakes the
// URL grammar accepts or misreads: a scheme one or two edits from http or
// https, a comma-joined list, a mangled "://". Other schemes stay accepted.
func TestParseOriginTypos(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string // the error, or enough of it to name the fix; "": valid
	}{
		{"htps://shop.example.com", `scheme "htps" is not http or https, but a typo away from https: did you mean "https://shop.example.com"? (the origin would never match a page served over http or https)`},
		{"htp://localhost:3000", `scheme "htp" is not http or https, but a typo away from http: did you mean "http://localhost:3000"?`},
		{"hhtp://a.example.com", `did you mean "http://a.example.com"?`},
		{"htttps://a.example.com", `did you mean "https://a.example.com"?`},
		{"htpts://a.example.com", `did you mean "https://a.example.com"?`},
		{"https:://a.example.com", `scheme "https:" is not http or https, but a typo away from https: did you mean "https://a.example.com"?`},
		{"http:://a.example.com", `did you mean "http://a.example.com"?`},
		{"Htps://a.example.com", `did you mean "https://a.example.com"?`},
		{"https:/a.example.com", `not an origin: want scheme://host[:port]; did you mean "https://a.example.com"?`},
		{"https//a.example.com", `did you mean "https://a.example.com"?`},
		{"htps:/a.example.com", `did you mean "https://a.example.com"?`},
		{"https://a.example.com,https://b.example.com", `holds a comma: it looks like several origins joined into one string; give each origin as its own entry (from Go, split the list first, e.g. strings.Split(os.Getenv("ORIGINS"), ","), and trim each part)`},
		{"https://a.example.com, https://b.example.com", `holds a comma: it looks like several origins joined`},
		{"HTTPS://a.example.com", `not a lower-case URL scheme`},
		{"chrome-extension://abcdefghijklmnop", ""},
		{"moz-extension://0b3e1e9c-5a2c-4a0e-9d51-3c6f3ea1c0f2", ""},
		{"capacitor://localhost", ""},
		{"app://localhost", ""},
		{"tauri://localhost", ""},
		{"ws://localhost:8080", ""},
		{"wss://a.example.com", ""},
		{"ftp://a.example.com", ""},
		{"http://a.example.com", ""},
	}
	for _, tt := range tests {
		_, err := core.ParseOrigin(tt.in, core.OriginOptions{})
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("ParseOrigin(%q) = %v, want ok", tt.in, err)
		case tt.want != "" && err == nil:
			t.Errorf("ParseOrigin(%q) ok, want %q", tt.in, tt.want)
		case tt.want != "" && !strings.Contains(err.Error(), tt.want):
			t.Errorf("ParseOrigin(%q) =\n%s\nwant it to contain\n%s", tt.in, err, tt.want)
		}
	}
}
