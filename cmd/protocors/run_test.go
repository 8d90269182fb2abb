package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/gateway"
	"github.com/protocors/protocors/interceptor"
	testv1 "github.com/protocors/protocors/internal/gen/protocors/test/v1"
	"github.com/protocors/protocors/internal/inspect"
	"github.com/protocors/protocors/internal/route"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// testSet is the descriptor set of the test protos, built from the
// generated Go descriptors, with or without their imports.
func testSet(withImports bool) *descriptorpb.FileDescriptorSet {
	roots := []protoreflect.FileDescriptor{testv1.File_protocors_test_v1_nopolicy_proto, testv1.File_protocors_test_v1_test_proto}
	set := &descriptorpb.FileDescriptorSet{}
	seen := map[string]bool{}
	var add func(fd protoreflect.FileDescriptor, isRoot bool)
	add = func(fd protoreflect.FileDescriptor, isRoot bool) {
		if seen[fd.Path()] || !isRoot && !withImports {
			return
		}
		seen[fd.Path()] = true
		imps := fd.Imports()
		for i := range imps.Len() {
			add(imps.Get(i).FileDescriptor, false)
		}
		set.File = append(set.File, protodesc.ToFileDescriptorProto(fd))
	}
	for _, fd := range roots {
		add(fd, true)
	}
	return set
}

func writeSet(t *testing.T, name string, set *descriptorpb.FileDescriptorSet) string {
	t.Helper()
	var b []byte
	var err error
	if strings.HasSuffix(name, ".json") {
		b, err = protojson.Marshal(set)
	} else {
		b, err = proto.Marshal(set)
	}
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func runCmd(args ...string) (code int, stdout, stderr string) {
	var out, errw bytes.Buffer
	code = run(args, &out, &errw)
	return code, out.String(), errw.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the output (go test -update rewrites it); got:\n%s", path, got)
	}
}

func TestExplainGolden(t *testing.T) {
	withImports := writeSet(t, "image.binpb", testSet(true))
	tests := []struct {
		golden string
		args   []string
	}{
		{"explain.txt", []string{"explain", withImports}},
		{"explain.json", []string{"explain", "--json", withImports}},
		{"explain-origins.txt", []string{"explain", withImports, "--origins", "https://deploy.example.com, http://localhost:*"}},
		{"explain-origins.json", []string{"explain", "--json", "--origins=https://deploy.example.com", withImports}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			code, out, errOut := runCmd(tt.args...)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			golden(t, tt.golden, out)
		})
	}
}

// The same report comes out whatever form the image takes: binary or JSON,
// with its imports (buf build) or without (protoc without --include_imports).
func TestExplainImageForms(t *testing.T) {
	_, want, _ := runCmd("explain", "--json", writeSet(t, "a.binpb", testSet(true)))
	for _, path := range []string{
		writeSet(t, "b.binpb", testSet(false)),
		writeSet(t, "c.json", testSet(true)),
		writeSet(t, "d.json", testSet(false)),
	} {
		code, got, errOut := runCmd("explain", "--json", path)
		if code != 0 || got != want {
			t.Errorf("%s: exit %d, stderr %q, same output: %t", filepath.Base(path), code, errOut, got == want)
		}
	}
}

// The JSON report carries what the issue asks for, checked structurally on
// top of the golden file.
func TestExplainJSONContent(t *testing.T) {
	code, out, _ := runCmd("explain", "--json", writeSet(t, "i.binpb", testSet(true)))
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var rep report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	byName := map[string]rpcReport{}
	for _, r := range rep.RPCs {
		byName[r.RPC] = r
	}
	if len(byName) != 8 {
		t.Errorf("%d RPCs, want 8", len(byName))
	}
	get := byName["protocors.test.v1.FlavorService.GetFlavor"]
	if !get.CORS || strings.Join(get.Connect.Methods, ",") != "GET,POST" || get.Connect.Path != "/protocors.test.v1.FlavorService/GetFlavor" {
		t.Errorf("GetFlavor: %+v", get)
	}
	if f := get.Policy.MaxAgeSeconds; f.Scope != "file" || f.From != "protocors/test/v1/test.proto" || f.Value != float64(300) {
		t.Errorf("GetFlavor max age: %+v", f)
	}
	put := byName["protocors.test.v1.FlavorService.PutFlavor"]
	if f := put.Policy.AllowCredentials; f.Value != true || f.Scope != "method" {
		t.Errorf("PutFlavor credentials: %+v", f)
	}
	if len(put.Routes) != 1 || put.Routes[0] != (route.Binding{Method: "PUT", Path: "/v1/flavors/{name}", Body: "flavor"}) {
		t.Errorf("PutFlavor routes: %+v", put.Routes)
	}
	list := byName["protocors.test.v1.FlavorService.ListFlavors"]
	if len(list.Routes) != 2 || list.Routes[1].Path != "/v1/{parent=shops/*}/flavors" {
		t.Errorf("ListFlavors routes: %+v", list.Routes)
	}
	if del := byName["protocors.test.v1.FlavorService.DeleteFlavor"]; del.CORS || del.Policy.Enabled.Scope != "method" {
		t.Errorf("DeleteFlavor: %+v", del)
	}
	if w := byName["protocors.test.v1.FlavorService.WatchFlavors"]; w.Kind != "server_streaming" || strings.Join(w.Connect.Methods, ",") != "POST" || len(w.Routes) != 0 {
		t.Errorf("WatchFlavors: %+v", w)
	}
	if ping := byName["protocors.test.v1.PingService.Ping"]; ping.CORS || ping.Policy != nil {
		t.Errorf("Ping: %+v", ping)
	}
	if r := byName["protocors.test.v1.ResourceService.GetResource"]; len(r.Routes) != 1 || r.Routes[0].Path != "/v1/{name=projects/*/resources/**}:inspect" {
		t.Errorf("GetResource: %+v", r.Routes)
	}
}

// badSet declares service bad.v1.BadService with one method, Call, carrying
// the given service and method policies (nil for none), and a
// google.api.http rule read through unknown fields.
func badSet(service, method *corspb.Policy) *descriptorpb.FileDescriptorSet {
	so := &descriptorpb.ServiceOptions{}
	if service != nil {
		proto.SetExtension(so, corspb.E_Service, service)
	}
	mo := &descriptorpb.MethodOptions{}
	if method != nil {
		proto.SetExtension(mo, corspb.E_Method, method)
	}
	proto.SetExtension(mo, annotations.E_Http, &annotations.HttpRule{Pattern: &annotations.HttpRule_Post{Post: "/v1/call"}, Body: "*"})
	fd := &descriptorpb.FileDescriptorProto{
		Name:        proto.String("bad/v1/bad.proto"),
		Package:     proto.String("bad.v1"),
		Syntax:      proto.String("proto3"),
		Dependency:  []string{"protocors/v1/cors.proto", "google/api/annotations.proto"},
		MessageType: []*descriptorpb.DescriptorProto{{Name: proto.String("Empty")}},
		Service: []*descriptorpb.ServiceDescriptorProto{{
			Name:    proto.String("BadService"),
			Options: so,
			Method: []*descriptorpb.MethodDescriptorProto{{
				Name:       proto.String("Call"),
				InputType:  proto.String(".bad.v1.Empty"),
				OutputType: proto.String(".bad.v1.Empty"),
				Options:    mo,
			}},
		}},
	}
	return &descriptorpb.FileDescriptorSet{File: []*descriptorpb.FileDescriptorProto{fd}}
}

func TestCheck(t *testing.T) {
	origins := func(o ...string) *corspb.Policy { return &corspb.Policy{AllowOrigins: o} }
	creds := &corspb.Policy{AllowCredentials: proto.Bool(true)}
	tests := []struct {
		name            string
		service, method *corspb.Policy
		flags           []string
		wantCode        int
		want            []string // one per problem line, as substrings, in output order
	}{
		{name: "valid", service: origins("https://app.example.com"), method: creds, wantCode: 0},
		{name: "trailing slash", service: origins("https://app.example.com/"), wantCode: 1,
			want: []string{`protocors: bad.v1.BadService: allow_origins[0] "https://app.example.com/": has a path or trailing slash`}},
		{name: "path", service: origins("https://app.example.com/api"), wantCode: 1,
			want: []string{`allow_origins[0] "https://app.example.com/api": has a path`}},
		{name: "query", service: origins("https://app.example.com?x=1"), wantCode: 1,
			want: []string{`allow_origins[0] "https://app.example.com?x=1": has a query`}},
		{name: "userinfo", service: origins("https://me@app.example.com"), wantCode: 1,
			want: []string{`allow_origins[0] "https://me@app.example.com": has userinfo`}},
		{name: "upper case", service: origins("https://App.example.com"), wantCode: 1,
			want: []string{`allow_origins[0] "https://App.example.com": host "App.example.com" has upper case`}},
		{name: "no scheme", service: origins("app.example.com"), wantCode: 1,
			want: []string{`allow_origins[0] "app.example.com": not an origin`}},
		{name: "empty and public suffix", method: origins("", "https://*.co.uk"), wantCode: 1,
			want: []string{
				`protocors: bad.v1.BadService.Call: allow_origins[0]: empty origin`,
				`protocors: bad.v1.BadService.Call: allow_origins[1] "https://*.co.uk": too broad: "co.uk" is a public suffix`,
			}},
		{name: "star with credentials", service: origins("*"), method: creds, wantCode: 1,
			want: []string{`protocors: bad.v1.BadService.Call: allow_origins[0] "*": "*" cannot be used with allow_credentials`}},
		{name: "star headers with credentials", service: &corspb.Policy{AllowOrigins: []string{"https://app.example.com"}, AllowHeaders: []string{"*"}, AllowCredentials: proto.Bool(true)}, wantCode: 1,
			want: []string{`protocors: bad.v1.BadService: allow_headers[0] "*": "*" cannot be used with allow_credentials`}},
		{name: "http with credentials", service: origins("http://app.example.com"), method: creds, wantCode: 1,
			want: []string{`protocors: bad.v1.BadService.Call: allow_origins[0] "http://app.example.com": plain http:// origin with allow_credentials`}},
		{name: "http with credentials allowed", service: origins("http://app.example.com"), method: creds, flags: []string{"--allow-insecure-origins"}, wantCode: 0},
		{name: "http loopback with credentials", service: origins("http://localhost:*"), method: creds, wantCode: 0},
		{name: "null", service: origins("null"), wantCode: 1,
			want: []string{`protocors: bad.v1.BadService: allow_origins[0] "null": the "null" origin is shared by every sandboxed frame`}},
		{name: "null allowed", service: origins("null"), flags: []string{"--allow-null-origin"}, wantCode: 0},
		{name: "non-token headers", service: &corspb.Policy{AllowOrigins: []string{"https://a.example.com"}, AllowHeaders: []string{"X Bad"}}, method: &corspb.Policy{ExposeHeaders: []string{"X-Ok", "X:Bad"}}, wantCode: 1,
			want: []string{
				`protocors: bad.v1.BadService.Call: expose_headers[1] "X:Bad": not a valid header name`,
				`protocors: bad.v1.BadService: allow_headers[0] "X Bad": not a valid header name`,
			}},
		{name: "enabled without origins", method: &corspb.Policy{Enabled: proto.Bool(true)}, wantCode: 1,
			want: []string{`protocors: bad.v1.BadService.Call: allow_origins: CORS is enabled but no scope lists an origin`}},
		{name: "origins given at run time", method: &corspb.Policy{Enabled: proto.Bool(true)}, flags: []string{"--origins", "https://app.example.com"}, wantCode: 0},
		{name: "bad runtime origins", method: &corspb.Policy{Enabled: proto.Bool(true)}, flags: []string{"--origins", "https://ok.example.com,https://bad.example.com/"}, wantCode: 1,
			want: []string{`protocors: runtime default: allow_origins[1] "https://bad.example.com/": has a path`}},
		{name: "disabled is not checked", method: &corspb.Policy{Enabled: proto.Bool(false), AllowOrigins: []string{"bad"}}, wantCode: 0},
		{name: "max age", service: &corspb.Policy{AllowOrigins: []string{"https://a.example.com"}, MaxAgeSeconds: proto.Uint32(86401)}, wantCode: 1,
			want: []string{`protocors: bad.v1.BadService: max_age_seconds "86401": above 86400`}},
		{name: "max age at the limit", service: &corspb.Policy{AllowOrigins: []string{"https://a.example.com"}, MaxAgeSeconds: proto.Uint32(86400)}, wantCode: 0},
		{name: "no policy", wantCode: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeSet(t, "bad.binpb", badSet(tt.service, tt.method))
			code, out, errOut := runCmd(append([]string{"check", path}, tt.flags...)...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stdout:\n%s\nstderr:\n%s", code, tt.wantCode, out, errOut)
			}
			if tt.wantCode == 0 {
				enabled := "1 with CORS"
				if tt.service == nil && tt.method == nil || tt.name == "disabled is not checked" {
					enabled = "0 with CORS"
				}
				if out != "ok: 1 RPC, "+enabled+"\n" {
					t.Errorf("stdout %q", out)
				}
				return
			}
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("%d problem lines, want %d:\n%s", len(lines), len(tt.want), out)
			}
			for i, w := range tt.want {
				if !strings.Contains(lines[i], w) {
					t.Errorf("line %d = %q\nwant it to contain %q", i, lines[i], w)
				}
			}
			if !strings.Contains(errOut, "problem") {
				t.Errorf("stderr %q does not count the problems", errOut)
			}
		})
	}
}

// explain shows the problems check reports, next to the RPC they break.
func TestExplainShowsProblems(t *testing.T) {
	path := writeSet(t, "bad.binpb", badSet(&corspb.Policy{AllowOrigins: []string{"https://*.com"}}, nil))
	code, out, _ := runCmd("explain", path)
	if code != 0 || !strings.Contains(out, `problem: protocors: bad.v1.BadService: allow_origins[0] "https://*.com": too broad`) {
		t.Errorf("exit %d:\n%s", code, out)
	}
	if !strings.Contains(out, "gateway: POST /v1/call (body *)") {
		t.Errorf("the google.api.http rule is missing:\n%s", out)
	}
}

// A mistake in a --origin-set binding shows on the RPCs that name the set.
func TestExplainShowsSetProblems(t *testing.T) {
	path := writeSet(t, "bad.binpb", badSet(nil, &corspb.Policy{AllowOriginSets: []string{"admin"}}))
	code, out, _ := runCmd("explain", path, "--origin-set", "admin=https://admin.example.com/")
	if code != 0 || !strings.Contains(out, `problem: protocors: protocors.WithOriginSet("admin"): origins[0] "https://admin.example.com/": has a path`) {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestUsage(t *testing.T) {
	good := writeSet(t, "good.binpb", testSet(true))
	garbage := filepath.Join(t.TempDir(), "garbage.binpb")
	if err := os.WriteFile(garbage, []byte("not a descriptor set\xff"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args       []string
		code       int
		wantStderr string
	}{
		{nil, 2, "Usage:"},
		{[]string{"frobnicate", good}, 2, `unknown command "frobnicate"`},
		{[]string{"check"}, 2, "want exactly one IMAGE, got 0"},
		{[]string{"explain", good, good}, 2, "want exactly one IMAGE, got 2"},
		{[]string{"check", "--json", good}, 2, "--json applies to explain only"},
		{[]string{"check", "--no-such-flag", good}, 2, "flag provided but not defined"},
		{[]string{"check", "--origins", " , ", good}, 2, "no origin given"},
		{[]string{"check", filepath.Join(t.TempDir(), "missing.binpb")}, 2, "no such file"},
		{[]string{"check", garbage}, 2, "not a FileDescriptorSet"},
		{[]string{"explain", writeSet(t, "empty.binpb", &descriptorpb.FileDescriptorSet{})}, 2, "holds no files"},
		{[]string{"check", "-h"}, 0, "Usage:"},
	}
	for _, tt := range tests {
		code, _, errOut := runCmd(tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.wantStderr) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d and %q", tt.args, code, errOut, tt.code, tt.wantStderr)
		}
	}
	if code, out, _ := runCmd("help"); code != 0 || !strings.Contains(out, "protocors explain [flags] IMAGE") {
		t.Errorf("help: exit %d, %q", code, out)
	}
}

// A set whose import cannot be found anywhere is refused with advice.
func TestMissingImport(t *testing.T) {
	set := badSet(nil, nil)
	set.File[0].Dependency = append(set.File[0].Dependency, "acme/v1/missing.proto")
	code, _, errOut := runCmd("check", writeSet(t, "m.binpb", set))
	if code != 2 || !strings.Contains(errOut, "imports acme/v1/missing.proto, which the descriptor set lacks") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// TestCheckReportsWhatNewReports feeds one broken image to check,
// interceptor.New and gateway.New: check must print every problem either
// New reports (a google.api.http template error only the gateway sees, a
// policy error both see), and nothing else.
func TestCheckReportsWhatNewReports(t *testing.T) {
	set := badSet(&corspb.Policy{AllowOrigins: []string{"https://*.amazonaws.com", "null"}}, &corspb.Policy{AllowHeaders: []string{"bad header"}})
	// A second binding whose template does not parse.
	mo := set.File[0].Service[0].Method[0].Options
	proto.SetExtension(mo, annotations.E_Http, &annotations.HttpRule{
		Pattern: &annotations.HttpRule_Post{Post: "/v1/call"}, Body: "*",
		AdditionalBindings: []*annotations.HttpRule{{Pattern: &annotations.HttpRule_Get{Get: "/v1/{unterminated"}}},
	})
	path := writeSet(t, "broken.binpb", set)
	img, err := inspect.ReadImage(mustRead(t, path), false)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	_, errConnect := interceptor.New(protocors.WithFiles(img.Files))
	_, errGateway := gateway.New(protocors.WithFiles(img.Files))
	for _, err := range []error{errConnect, errGateway} {
		var cfg *protocors.Error
		if !errors.As(err, &cfg) {
			t.Fatalf("New: %v, want a *protocors.Error", err)
		}
		for _, p := range cfg.Problems {
			want[p.Error()] = true
		}
	}
	if !want[`protocors: bad.v1.BadService.Call: google.api.http "/v1/{unterminated": invalid path template "/v1/{unterminated": unterminated variable segment: unterminated`] {
		t.Errorf("gateway.New does not report the template: %v", errGateway)
	}
	code, stdout, _ := runCmd("check", path)
	got := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		got[line] = true
	}
	if code != 1 || len(got) != len(want) {
		t.Errorf("check exit %d, %d lines, want 1 and %d:\n%s", code, len(got), len(want), stdout)
	}
	for p := range want {
		if !got[p] {
			t.Errorf("check does not print %q", p)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// setsSet declares sets/v1/sets.proto, whose policies name origin sets at
// every scope:
//
//   - the file: allow_origin_sets ["web"], max age 60;
//   - AdminService: allow_origin_sets ["admin"] with credentials; its
//     methods ListUsers (inherits the service's set), BanUser (its own
//     literal origin and the sets admin and partner), Status (a literal
//     origin that replaces the service's set: one group) and Legacy
//     (disabled, naming the set legacy);
//   - PublicService.Get: no option of its own, the file's set.
func setsSet() *descriptorpb.FileDescriptorSet {
	method := func(name string, p *corspb.Policy) *descriptorpb.MethodDescriptorProto {
		mo := &descriptorpb.MethodOptions{}
		if p != nil {
			proto.SetExtension(mo, corspb.E_Method, p)
		}
		return &descriptorpb.MethodDescriptorProto{Name: proto.String(name), InputType: proto.String(".sets.v1.Empty"), OutputType: proto.String(".sets.v1.Empty"), Options: mo}
	}
	fo := &descriptorpb.FileOptions{}
	proto.SetExtension(fo, corspb.E_File, &corspb.Policy{AllowOriginSets: []string{"web"}, MaxAgeSeconds: proto.Uint32(60)})
	so := &descriptorpb.ServiceOptions{}
	proto.SetExtension(so, corspb.E_Service, &corspb.Policy{AllowOriginSets: []string{"admin"}, AllowCredentials: proto.Bool(true)})
	fd := &descriptorpb.FileDescriptorProto{
		Name:        proto.String("sets/v1/sets.proto"),
		Package:     proto.String("sets.v1"),
		Syntax:      proto.String("proto3"),
		Dependency:  []string{"protocors/v1/cors.proto"},
		Options:     fo,
		MessageType: []*descriptorpb.DescriptorProto{{Name: proto.String("Empty")}},
		Service: []*descriptorpb.ServiceDescriptorProto{{
			Name:    proto.String("AdminService"),
			Options: so,
			Method: []*descriptorpb.MethodDescriptorProto{
				method("ListUsers", nil),
				method("BanUser", &corspb.Policy{AllowOrigins: []string{"https://ops.example.com"}, AllowOriginSets: []string{"admin", "partner"}}),
				method("Status", &corspb.Policy{AllowOrigins: []string{"https://status.example.com"}}),
				method("Legacy", &corspb.Policy{Enabled: proto.Bool(false), AllowOriginSets: []string{"legacy"}}),
			},
		}, {
			Name:   proto.String("PublicService"),
			Method: []*descriptorpb.MethodDescriptorProto{method("Get", nil)},
		}},
	}
	return &descriptorpb.FileDescriptorSet{File: []*descriptorpb.FileDescriptorProto{fd}}
}

// setFlags bind admin (with two flags that add up) and web; partner stays
// unbound, so BanUser is refused.
var setFlags = []string{
	"--origin-set", "admin=https://admin.example.com",
	"--origin-set=web=https://www.example.com, https://app.example.com",
	"--origin-set", "admin=https://admin.example.net",
}

func TestExplainSetsGolden(t *testing.T) {
	path := writeSet(t, "sets.binpb", setsSet())
	tests := []struct {
		golden string
		args   []string
	}{
		{"explain-sets.txt", append([]string{"explain", path}, setFlags...)},
		{"explain-sets.json", append([]string{"explain", "--json", path}, setFlags...)},
		// Without any binding, every set shows as not bound.
		{"explain-sets-unbound.txt", []string{"explain", path}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			code, out, errOut := runCmd(tt.args...)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			golden(t, tt.golden, out)
		})
	}
}

// explain --json says, per RPC, which set each effective origin came from
// and which scope named it, and shows unbound sets as such.
func TestExplainSetsProvenance(t *testing.T) {
	path := writeSet(t, "sets.binpb", setsSet())
	code, out, errOut := runCmd(append([]string{"explain", "--json", path}, setFlags...)...)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var rep report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rep.OriginSets["admin"], ","); got != "https://admin.example.com,https://admin.example.net" {
		t.Errorf("origin_sets admin = %s: two flags for one name must add up", got)
	}
	byName := map[string]rpcReport{}
	for _, r := range rep.RPCs {
		byName[strings.TrimPrefix(r.RPC, "sets.v1.")] = r
	}
	type o = originReport
	admin := func(scope, from string) []o {
		return []o{{"https://admin.example.com", "admin", scope, from}, {"https://admin.example.net", "admin", scope, from}}
	}
	tests := []struct {
		rpc      string
		origins  []o
		sets     []setReport
		problems []string
	}{
		// The service's set, inherited.
		{"AdminService.ListUsers", admin("service", "sets.v1.AdminService"),
			[]setReport{{"admin", true, []string{"https://admin.example.com", "https://admin.example.net"}}}, nil},
		// The method's literal origin and sets replace the service's group.
		{"AdminService.BanUser", append([]o{{"https://ops.example.com", "", "method", "sets.v1.AdminService.BanUser"}}, admin("method", "sets.v1.AdminService.BanUser")...),
			[]setReport{{"admin", true, []string{"https://admin.example.com", "https://admin.example.net"}}, {"partner", false, []string{}}},
			[]string{`protocors: sets.v1.AdminService.BanUser: allow_origin_sets[1] "partner": origin set "partner" (named by sets.v1.AdminService.BanUser) is not bound`}},
		// A literal origin at the method replaces the service's set.
		{"AdminService.Status", []o{{"https://status.example.com", "", "method", "sets.v1.AdminService.Status"}}, []setReport{}, nil},
		// Disabled: its unbound set is shown, and is no problem.
		{"AdminService.Legacy", []o{}, []setReport{{"legacy", false, []string{}}}, nil},
		// The file's set.
		{"PublicService.Get", []o{{"https://www.example.com", "web", "file", "sets/v1/sets.proto"}, {"https://app.example.com", "web", "file", "sets/v1/sets.proto"}},
			[]setReport{{"web", true, []string{"https://www.example.com", "https://app.example.com"}}}, nil},
	}
	for _, tt := range tests {
		r, ok := byName[tt.rpc]
		if !ok || r.Policy == nil {
			t.Errorf("%s: missing, or no policy", tt.rpc)
			continue
		}
		if got, _ := json.Marshal(r.Policy.Origins); string(got) != string(mustJSON(t, tt.origins)) {
			t.Errorf("%s origins:\n got %s\nwant %s", tt.rpc, got, mustJSON(t, tt.origins))
		}
		if got, _ := json.Marshal(r.Policy.OriginSets); string(got) != string(mustJSON(t, tt.sets)) {
			t.Errorf("%s origin_sets:\n got %s\nwant %s", tt.rpc, got, mustJSON(t, tt.sets))
		}
		if len(r.Problems) != len(tt.problems) {
			t.Errorf("%s problems %q, want %q", tt.rpc, r.Problems, tt.problems)
			continue
		}
		for i, p := range tt.problems {
			if !strings.HasPrefix(r.Problems[i], p) {
				t.Errorf("%s problem %q, want prefix %q", tt.rpc, r.Problems[i], p)
			}
		}
	}
	// The group's source is the one of allow_origins.
	if f := byName["AdminService.ListUsers"].Policy.AllowOriginSets; f.Scope != "service" || fmt.Sprint(f.Value) != "[admin]" {
		t.Errorf("ListUsers allow_origin_sets: %+v", f)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// check passes --origin-set to New as WithOriginSet; without the flag, an
// enabled RPC that names a set is refused, as New refuses it.
func TestCheckOriginSets(t *testing.T) {
	sets := func(s ...string) *corspb.Policy { return &corspb.Policy{AllowOriginSets: s} }
	tests := []struct {
		name            string
		service, method *corspb.Policy
		flags           []string
		wantCode        int
		want            []string
	}{
		{name: "unbound without any flag", method: sets("admin"), wantCode: 1,
			want: []string{`protocors: bad.v1.BadService.Call: allow_origin_sets[0] "admin": origin set "admin" (named by bad.v1.BadService.Call) is not bound: give its origins at run time with protocors.WithOriginSet("admin", origins...)`}},
		{name: "unbound at service scope", service: sets("admin"), flags: []string{"--origin-set", "partner=https://p.example.com"}, wantCode: 1,
			want: []string{`protocors: bad.v1.BadService.Call: allow_origin_sets[0] "admin": origin set "admin" (named by bad.v1.BadService) is not bound`}},
		{name: "bound", method: sets("admin"), flags: []string{"--origin-set", "admin=https://admin.example.com"}, wantCode: 0},
		{name: "bound at service scope", service: sets("admin"), flags: []string{"--origin-set=admin=https://admin.example.com"}, wantCode: 0},
		{name: "bound to no origins", method: sets("admin"), flags: []string{"--origin-set", "admin="}, wantCode: 0},
		{name: "method's literal origins replace the service's set", service: sets("admin"), method: &corspb.Policy{AllowOrigins: []string{"https://app.example.com"}}, wantCode: 0},
		{name: "disabled is not checked", method: &corspb.Policy{Enabled: proto.Bool(false), AllowOriginSets: []string{"admin"}}, wantCode: 0},
		{name: "bad set name", method: sets("Admin"), wantCode: 1,
			want: []string{`protocors: bad.v1.BadService.Call: allow_origin_sets[0] "Admin": not an origin set name`}},
		{name: "bad member", method: sets("admin"), flags: []string{"--origin-set", "admin=https://ok.example.com,https://admin.example.com/"}, wantCode: 1,
			want: []string{`protocors: protocors.WithOriginSet("admin"): origins[1] "https://admin.example.com/": has a path`}},
		{name: "member with credentials", method: &corspb.Policy{AllowOriginSets: []string{"admin"}, AllowCredentials: proto.Bool(true)}, flags: []string{"--origin-set", "admin=http://admin.example.com"}, wantCode: 1,
			want: []string{`protocors: bad.v1.BadService.Call: allow_origin_sets[0] "http://admin.example.com": plain http:// origin with allow_credentials`}},
		{name: "member with credentials allowed", method: &corspb.Policy{AllowOriginSets: []string{"admin"}, AllowCredentials: proto.Bool(true)}, flags: []string{"--origin-set", "admin=http://admin.example.com", "--allow-insecure-origins"}, wantCode: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeSet(t, "bad.binpb", badSet(tt.service, tt.method))
			code, out, errOut := runCmd(append([]string{"check", path}, tt.flags...)...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stdout:\n%s\nstderr:\n%s", code, tt.wantCode, out, errOut)
			}
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if tt.wantCode == 0 {
				if !strings.HasPrefix(out, "ok: 1 RPC") {
					t.Errorf("stdout %q", out)
				}
				return
			}
			if len(lines) != len(tt.want) {
				t.Fatalf("%d problem lines, want %d:\n%s", len(lines), len(tt.want), out)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("line %d = %q\nwant it to start with %q", i, lines[i], w)
				}
			}
		})
	}
}

// check without --origin-set prints exactly what New without WithOriginSet
// reports for an RPC naming a set: sets are always checked there.
func TestCheckUnboundSetIsWhatNewReports(t *testing.T) {
	path := writeSet(t, "u.binpb", badSet(nil, &corspb.Policy{AllowOriginSets: []string{"admin"}}))
	img, err := inspect.ReadImage(mustRead(t, path), false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = interceptor.New(protocors.WithFiles(img.Files))
	var cfg *protocors.Error
	if !errors.As(err, &cfg) || len(cfg.Problems) != 1 {
		t.Fatalf("interceptor.New: %v, want one problem", err)
	}
	code, out, _ := runCmd("check", path)
	if code != 1 || out != cfg.Problems[0].Error()+"\n" {
		t.Errorf("check: exit %d, stdout %q; want 1 and %q", code, out, cfg.Problems[0].Error())
	}
}

func TestOriginSetFlagUsage(t *testing.T) {
	good := writeSet(t, "good.binpb", testSet(true))
	for _, v := range []string{"admin", "=https://a.example.com", " =x", "Admin=https://a.example.com", "admin set=https://a.example.com"} {
		for _, cmd := range []string{"check", "explain"} {
			code, _, errOut := runCmd(cmd, good, "--origin-set", v)
			if code != 2 || !strings.Contains(errOut, `invalid value "`+v+`" for flag -origin-set`) || !strings.Contains(errOut, "want NAME=ORIGIN,ORIGIN,...") {
				t.Errorf("%s --origin-set %q: exit %d, stderr %q; want exit 2 and the form", cmd, v, code, errOut)
			}
		}
	}
	if code, out, _ := runCmd("help"); code != 0 || !strings.Contains(out, "-origin-set NAME=ORIGIN,ORIGIN,...") {
		t.Errorf("help does not show --origin-set:\n%s", out)
	}
}
