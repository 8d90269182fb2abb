package main

import (
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/internal/surface/surfacetest"
)

// A deployment that passes WithDefaultPolicy supplies more than origins:
// removing a method's own value lets the RPC inherit the default's, which
// can widen it. Told the default with --default-policy, diff must report
// each such widening (before the flag, each pair below compared equal, or
// as a narrowing, and exited 0).
func TestDiffDefaultPolicy(t *testing.T) {
	const def = `{"allowOrigins": ["https://app.example"], "allowCredentials": true, "allowHeaders": ["X-A", "X-B"]}`
	file := func(p *corspb.Policy) surfacetest.File {
		return surfacetest.File{Services: []surfacetest.Service{{Name: "Account", Methods: []surfacetest.Method{{Name: "Delete", Policy: p}}}}}
	}
	tests := []struct {
		name     string
		old, new *corspb.Policy
		want     []string
	}{
		{
			name: "credentials false removed",
			old:  &corspb.Policy{AllowCredentials: proto.Bool(false), AllowHeaders: []string{"X-A"}},
			new:  &corspb.Policy{AllowHeaders: []string{"X-A"}},
			want: []string{"widens shop.v1.Account.Delete: allow_credentials: false -> true (runtime default)"},
		},
		{
			name: "own header list removed",
			old:  &corspb.Policy{AllowCredentials: proto.Bool(false), AllowHeaders: []string{"X-A"}},
			new:  &corspb.Policy{AllowCredentials: proto.Bool(false)},
			want: []string{"widens shop.v1.Account.Delete: allow_headers: X-A -> X-A, X-B (runtime default)"},
		},
		{
			name: "enabled false removed",
			old:  &corspb.Policy{Enabled: proto.Bool(false)},
			new:  nil,
			want: []string{"widens shop.v1.Account.Delete: cors: disabled -> enabled [origins https://app.example; credentials true; headers X-A, X-B] (method shop.v1.Account.Delete)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCmd("diff", "--default-policy", def,
				writeSet(t, "old.binpb", file(tt.old).Set()), writeSet(t, "new.binpb", file(tt.new).Set()))
			got := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
			if code != exitProblems || !slices.Equal(got, tt.want) {
				t.Errorf("exit %d, lines %q (stderr %s); want exit %d, %q", code, got, stderr, exitProblems, tt.want)
			}
		})
	}
	// The default is validated like WithDefaultPolicy's: a typo is a usage
	// error, not an empty default.
	img := writeSet(t, "img.binpb", file(nil).Set())
	for _, bad := range []string{`{"allowOrigin": ["https://app.example"]}`, `not json`, `{"allowOrigins": ["https://app.example/"]}`} {
		if code, _, stderr := runCmd("diff", "--default-policy", bad, img, img); code != exitUsage || stderr == "" {
			t.Errorf("--default-policy %s: exit %d, stderr %q; want %d and a message", bad, code, stderr, exitUsage)
		}
	}
}
