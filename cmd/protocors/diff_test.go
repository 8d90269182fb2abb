package main

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/internal/surface/surfacetest"
)

// sideSetFlags turns a side's set bindings into --old-origin-set or
// --new-origin-set flags.
func sideSetFlags(flag string, sets map[string][]string) []string {
	var out []string
	for name, members := range sets {
		out = append(out, "--"+flag+"="+name+"="+strings.Join(members, ","))
	}
	slices.Sort(out)
	return out
}

func pairArgs(t *testing.T, p surfacetest.Pair) []string {
	args := []string{"diff"}
	if p.Origins != nil {
		args = append(args, "--origins", strings.Join(p.Origins, ","))
	}
	args = append(args, sideSetFlags("old-origin-set", p.OldSets)...)
	args = append(args, sideSetFlags("new-origin-set", p.NewSets)...)
	return append(args, writeSet(t, "old.binpb", p.Old.Set()), writeSet(t, "new.binpb", p.New.Set()))
}

// Every pair prints its reviewed lines and exits 1 exactly when one of them
// widens.
func TestDiffPairs(t *testing.T) {
	for _, p := range surfacetest.Pairs() {
		t.Run(p.Name, func(t *testing.T) {
			code, stdout, stderr := runCmd(pairArgs(t, p)...)
			got := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
			if stdout == "" {
				got = []string{}
			}
			if !slices.Equal(got, p.Want) {
				t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(p.Want, "\n"))
			}
			want := exitOK
			widens := 0
			for _, l := range p.Want {
				if strings.HasPrefix(l, "widens ") {
					want = exitProblems
					widens++
				}
			}
			if code != want {
				t.Errorf("exit %d, want %d; stderr: %s", code, want, stderr)
			}
			if !strings.HasPrefix(stderr, "protocors diff: "+strconv.Itoa(widens)+" widening") {
				t.Errorf("stderr %q does not count %d widenings", stderr, widens)
			}
		})
	}
}

// --json carries the same changes, each with its class, RPC, route, field,
// values and scope.
func TestDiffJSON(t *testing.T) {
	var pair surfacetest.Pair
	for _, p := range surfacetest.Pairs() {
		if p.Name == "additional binding and a binding that becomes a GET" {
			pair = p
		}
	}
	args := pairArgs(t, pair)
	code, stdout, stderr := runCmd(append([]string{"diff", "--json"}, args[1:]...)...)
	if code != exitProblems {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	var out struct {
		Changes []map[string]string `json:"changes"`
		Widens  int                 `json:"widens"`
		Narrows int                 `json:"narrows"`
		Neutral int                 `json:"neutral"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if out.Widens != 2 || out.Narrows != 1 || out.Neutral != 0 || len(out.Changes) != 3 {
		t.Fatalf("counts %d/%d/%d, %d changes:\n%s", out.Widens, out.Narrows, out.Neutral, len(out.Changes), stdout)
	}
	want := map[string]string{
		"class": "widens", "rpc": "shop.v1.Shop.DeleteItem", "route": "GET /v1/items/{id}:delete",
		"field": "route method", "old": "POST", "new": "GET", "scope": "method", "from": "shop.v1.Shop.DeleteItem",
	}
	for k, v := range want {
		if out.Changes[2][k] != v {
			t.Errorf("changes[2].%s = %q, want %q", k, out.Changes[2][k], v)
		}
	}

	// No change: an empty list, exit 0.
	same := writeSet(t, "same.binpb", pair.Old.Set())
	code, stdout, _ = runCmd("diff", "--json", same, same)
	if code != exitOK || !strings.Contains(stdout, `"changes": []`) {
		t.Errorf("exit %d, output %s", code, stdout)
	}
}

// --origin-set binds a set in both versions; --old-origin-set and
// --new-origin-set replace that binding on one side.
func TestDiffOriginSetFlags(t *testing.T) {
	f := surfacetest.File{Services: []surfacetest.Service{{Name: "Admin", Policy: &corspb.Policy{AllowOriginSets: []string{"admin"}},
		Methods: []surfacetest.Method{{Name: "Ban"}}}}}
	img := writeSet(t, "admin.binpb", f.Set())
	tests := []struct {
		name  string
		flags []string
		want  string
		code  int
	}{
		{"shared binding", []string{"--origin-set", "admin=https://a.example"}, "", exitOK},
		{"new side grows", []string{"--origin-set", "admin=https://a.example", "--new-origin-set", "admin=https://a.example,https://b.example"},
			"widens shop.v1.Admin.Ban: origin set admin: https://a.example -> https://a.example, https://b.example (origin set admin)", exitProblems},
		{"old side larger", []string{"--origin-set", "admin=https://a.example", "--old-origin-set", "admin=https://a.example,https://b.example"},
			"narrows shop.v1.Admin.Ban: origin set admin: https://a.example, https://b.example -> https://a.example (origin set admin)", exitOK},
		{"wildcard covers the new member", []string{"--old-origin-set", "admin=https://*.example", "--new-origin-set", "admin=https://a.example"},
			"narrows shop.v1.Admin.Ban: origin set admin: https://*.example -> https://a.example (origin set admin)", exitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(append(append([]string{"diff"}, tt.flags...), img, img)...)
			if code != tt.code || strings.TrimSuffix(stdout, "\n") != tt.want {
				t.Errorf("exit %d, output %q (stderr %s); want exit %d, %q", code, stdout, stderr, tt.code, tt.want)
			}
		})
	}
}

// A policy added at method scope over a service that allows the same
// origin: only the fields the method changes appear, caused by the method.
func TestDiffMethodOverride(t *testing.T) {
	svc := &corspb.Policy{AllowOrigins: []string{"https://app.example"}, MaxAgeSeconds: proto.Uint32(600)}
	old := surfacetest.File{Services: []surfacetest.Service{{Name: "Shop", Policy: svc, Methods: []surfacetest.Method{{Name: "Get"}}}}}
	new := surfacetest.File{Services: []surfacetest.Service{{Name: "Shop", Policy: svc, Methods: []surfacetest.Method{{Name: "Get",
		Policy: &corspb.Policy{AllowOrigins: []string{"https://app.example"}, MaxAgeSeconds: proto.Uint32(60)}}}}}}
	code, stdout, _ := runCmd("diff", writeSet(t, "o.binpb", old.Set()), writeSet(t, "n.binpb", new.Set()))
	want := "narrows shop.v1.Shop.Get: max_age_seconds: 600 -> 60 (method shop.v1.Shop.Get)\n"
	if code != exitOK || stdout != want {
		t.Errorf("exit %d, output %q; want 0, %q", code, stdout, want)
	}
}

func TestDiffUsage(t *testing.T) {
	img := writeSet(t, "img.binpb", testSet(true))
	for _, args := range [][]string{
		{"diff"},
		{"diff", img},
		{"diff", img, img, img},
		{"diff", img, "does-not-exist.binpb"},
		{"diff", "--old-origin-set", "Bad=https://a.example", img, img},
	} {
		if code, _, stderr := runCmd(args...); code != exitUsage || stderr == "" {
			t.Errorf("%v: exit %d, stderr %q; want %d and a message", args, code, stderr, exitUsage)
		}
	}
	code, stdout, stderr := runCmd("diff", img, img)
	if code != exitOK || stdout != "" || stderr != "protocors diff: 0 widenings, 0 narrowings, 0 neutral\n" {
		t.Errorf("same image: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if code, _, stderr := runCmd("diff", "-h"); code != exitOK || !strings.Contains(stderr, "protocors diff [flags] OLD NEW") {
		t.Errorf("diff -h: exit %d, %q", code, stderr)
	}
}
