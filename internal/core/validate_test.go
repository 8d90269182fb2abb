package core_test

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/internal/core"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	creds := proto.Bool(true)
	tests := []struct {
		name    string
		service *corspb.Policy
		method  *corspb.Policy
		opts    core.OriginOptions
		want    []string // each a full error line; empty: valid
	}{
		{name: "valid", service: &corspb.Policy{AllowOrigins: []string{"https://app.example.com"}, AllowCredentials: creds, AllowHeaders: []string{"X-A"}, MaxAgeSeconds: proto.Uint32(86400)}},
		{name: "origin with trailing slash", service: &corspb.Policy{AllowOrigins: []string{"https://app.example.com", "https://app.example.com/"}},
			want: []string{`protocors: test.v1.Svc: allow_origins[1] "https://app.example.com/": has a path or trailing slash: an origin is scheme://host[:port] only (drop "/")`}},
		{name: "public suffix wildcard named at the method", method: &corspb.Policy{AllowOrigins: []string{"https://*.com"}},
			want: []string{`protocors: test.v1.Svc.M: allow_origins[0] "https://*.com": too broad: "com" is a public suffix`}},
		{name: "wildcard over a longer public suffix", service: &corspb.Policy{AllowOrigins: []string{"https://*.example.com", "https://*.amazonaws.com", "https://*.kawasaki.jp"}},
			want: []string{
				`protocors: test.v1.Svc: allow_origins[1] "https://*.amazonaws.com": the wildcard covers hosts under the public suffix "s3.amazonaws.com", where anyone can register a site; list the origins you own`,
				`protocors: test.v1.Svc: allow_origins[2] "https://*.kawasaki.jp": the wildcard covers hosts under the public suffixes "*.kawasaki.jp", where anyone can register a site; list the origins you own`,
			}},
		{name: "upper case", service: &corspb.Policy{AllowOrigins: []string{"https://App.example.com"}},
			want: []string{`allow_origins[0] "https://App.example.com": host "App.example.com" has upper case`}},
		{name: "userinfo", service: &corspb.Policy{AllowOrigins: []string{"https://u@app.example.com"}}, want: []string{"has userinfo"}},
		{name: "query", service: &corspb.Policy{AllowOrigins: []string{"https://app.example.com?a"}}, want: []string{"has a query"}},
		{name: "empty", service: &corspb.Policy{AllowOrigins: []string{""}}, want: []string{`allow_origins[0]: empty origin`}},
		{name: "star with credentials set elsewhere", service: &corspb.Policy{AllowOrigins: []string{"*"}}, method: &corspb.Policy{AllowCredentials: creds},
			want: []string{`protocors: test.v1.Svc.M: allow_origins[0] "*": "*" cannot be used with allow_credentials: browsers refuse it; list the origins [with allow_credentials (set by test.v1.Svc.M)]`}},
		{name: "star headers with credentials", service: &corspb.Policy{AllowOrigins: []string{"https://a.example"}, AllowHeaders: []string{"*"}, AllowCredentials: creds},
			want: []string{`protocors: test.v1.Svc: allow_headers[0] "*": "*" cannot be used with allow_credentials`}},
		{name: "star expose with credentials", service: &corspb.Policy{AllowOrigins: []string{"https://a.example"}, ExposeHeaders: []string{"*"}, AllowCredentials: creds},
			want: []string{`expose_headers[0] "*": "*" cannot be used with allow_credentials`}},
		{name: "insecure origin with credentials", service: &corspb.Policy{AllowOrigins: []string{"http://app.example.com", "http://localhost:3000", "http://127.0.0.1:*"}, AllowCredentials: creds},
			want: []string{`allow_origins[0] "http://app.example.com": plain http:// origin with allow_credentials`}},
		{name: "insecure origin allowed by option", opts: core.OriginOptions{AllowInsecure: true}, service: &corspb.Policy{AllowOrigins: []string{"http://app.example.com"}, AllowCredentials: creds}},
		{name: "null origin", service: &corspb.Policy{AllowOrigins: []string{"null"}}, want: []string{`allow_origins[0] "null": the "null" origin is shared by every sandboxed frame`}},
		{name: "null origin allowed by option", opts: core.OriginOptions{AllowNull: true}, service: &corspb.Policy{AllowOrigins: []string{"null"}}},
		{name: "header not a token", service: &corspb.Policy{AllowOrigins: []string{"https://a.example"}, AllowHeaders: []string{"X-Ok", "X Bad"}, ExposeHeaders: []string{"X:Bad"}},
			want: []string{`allow_headers[1] "X Bad": not a valid header name (RFC 9110 token)`, `expose_headers[0] "X:Bad": not a valid header name`}},
		{name: "set-cookie exposed", service: &corspb.Policy{AllowOrigins: []string{"https://a.example"}, ExposeHeaders: []string{"Set-Cookie"}},
			want: []string{`expose_headers[0] "Set-Cookie": browsers never let a page read Set-Cookie`}},
		{name: "no origin at any scope", service: &corspb.Policy{MaxAgeSeconds: proto.Uint32(10)},
			want: []string{`protocors: test.v1.Svc.M: allow_origins: CORS is enabled but no scope lists an origin`}},
		{name: "max age above a day", service: &corspb.Policy{AllowOrigins: []string{"https://a.example"}, MaxAgeSeconds: proto.Uint32(86401)},
			want: []string{`protocors: test.v1.Svc: max_age_seconds "86401": above 86400`}},
		{name: "disabled methods are not validated", service: &corspb.Policy{AllowOrigins: []string{"bad"}, Enabled: proto.Bool(false)}},
		{name: "several problems in one error", service: &corspb.Policy{AllowOrigins: []string{"https://*.co.uk", "https://a.example:443"}, MaxAgeSeconds: proto.Uint32(100000)},
			want: []string{`allow_origins[0] "https://*.co.uk": too broad`, `allow_origins[1] "https://a.example:443": port 443 is the default for https`, `max_age_seconds "100000"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			md := buildMethods(t, typed, nil, tt.service, map[string]*corspb.Policy{"M": tt.method})
			e := (&core.Resolver{}).Resolve(md["M"])
			err := core.Validate(&e, tt.opts).Err()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error:\n%v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Errorf("got %d problems, want %d:\n%v", len(lines), len(tt.want), err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
			var p *core.Problem
			if !errors.As(err, &p) || p.Field == "" {
				t.Errorf("errors.As(*Problem) failed for %v", err)
			}
		})
	}
}

func TestProblemsDeduplicated(t *testing.T) {
	t.Parallel()
	md := buildMethods(t, typed, nil, &corspb.Policy{AllowOrigins: []string{"https://*.com"}}, map[string]*corspb.Policy{"A": nil, "B": nil})
	r := &core.Resolver{}
	var ps core.Problems
	for _, m := range md {
		e := r.Resolve(m)
		ps = append(ps, core.Validate(&e, core.OriginOptions{})...)
	}
	if got := strings.Count(ps.Err().Error(), "\n"); got != 0 {
		t.Errorf("a service-level mistake is reported %d times:\n%v", got+1, ps.Err())
	}
}
