package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"buf.build/go/bufplugin/check/checktest"
)

// The sample module: testdata/sample/shop/v1/shop.proto, importing
// protocors/v1/cors.proto from the repository's proto directory.
var sampleFiles = &checktest.ProtoFileSpec{
	DirPaths:  []string{"../../proto", "testdata/sample"},
	FilePaths: []string{"shop/v1/shop.proto"},
}

func TestSpec(t *testing.T) {
	checktest.SpecTest(t, spec)
}

// loc builds an expected location; lines and columns are zero-based, as
// bufplugin reports them.
func loc(startLine, startCol, endLine, endCol int) *checktest.ExpectedFileLocation {
	return &checktest.ExpectedFileLocation{FileName: "shop/v1/shop.proto", StartLine: startLine, StartColumn: startCol, EndLine: endLine, EndColumn: endCol}
}

// Every mistake in the sample, at its option's position. checktest compiles
// with protocompile v0.14.1, which records each list element; buf 1.75
// records a list literal as a whole, which TestBufLint sees.
var (
	maxAge = checktest.ExpectedAnnotation{RuleID: policyValidRuleID, FileLocation: loc(8, 30, 8, 52),
		Message: `shop/v1/shop.proto: max_age_seconds "90000": above 86400 (one day); browsers cap it anyway (Chromium at 7200)`}
	publicSuffix = checktest.ExpectedAnnotation{RuleID: policyValidRuleID, FileLocation: loc(18, 6, 18, 21),
		Message: `shop.v1.ShopService: allow_origins[1] "https://*.com": too broad: "com" is a public suffix, so the pattern would allow sites of anyone who registers a name under it`}
	badHeader = checktest.ExpectedAnnotation{RuleID: policyValidRuleID, FileLocation: loc(20, 21, 20, 30),
		Message: `shop.v1.ShopService: expose_headers[0] "X Total": not a valid header name (RFC 9110 token)`}
	nullOrigin = checktest.ExpectedAnnotation{RuleID: policyValidRuleID, FileLocation: loc(31, 22, 31, 28),
		Message: `shop.v1.ShopService.DeleteItem: allow_origins[0] "null": the "null" origin is shared by every sandboxed frame and local file, so allowing it allows them all; give the option that allows it if that is intended`}
	starHeader = checktest.ExpectedAnnotation{RuleID: policyValidRuleID, FileLocation: loc(32, 22, 32, 25),
		Message: `shop.v1.ShopService.DeleteItem: allow_headers[0] "*": "*" cannot be used with allow_credentials: browsers take it as a literal name then; list the headers [with allow_credentials (set by shop.v1.ShopService.DeleteItem)]`}
	// The service allows "*", the method adds credentials: reported at the
	// method's option, where the unsafe combination was made.
	starCreds = checktest.ExpectedAnnotation{RuleID: policyValidRuleID, FileLocation: loc(42, 4, 42, 61),
		Message: `shop.v1.OpenService.Peek: allow_origins[0] "*": "*" cannot be used with allow_credentials: browsers refuse it; list the origins [with allow_credentials (set by shop.v1.OpenService.Peek)]`}
	// A set name that is not one, at its position; the unbound set "admin"
	// is not reported: bindings are deployment configuration.
	badSetName = checktest.ExpectedAnnotation{RuleID: policyValidRuleID, FileLocation: loc(60, 35, 60, 45),
		Message: `shop.v1.AdminService.Ban: allow_origin_sets[1] "Partners": not an origin set name: 1 to 64 characters, lower-case letters, digits, '_' and '-', starting with a letter`}
	noOrigins = checktest.ExpectedAnnotation{RuleID: originsSetRuleID, FileLocation: loc(47, 2, 49, 3),
		Message: "shop.v1.BareService.Enable: allow_origins: CORS is enabled but no scope lists an origin: set allow_origins in the proto options, or pass the deployment's origins with WithOrigins"}
)

func TestRules(t *testing.T) {
	tests := []struct {
		name    string
		ruleIDs []string
		options map[string]any
		want    []checktest.ExpectedAnnotation
	}{
		{"default rules", nil, nil,
			[]checktest.ExpectedAnnotation{maxAge, publicSuffix, badHeader, nullOrigin, starHeader, starCreds, badSetName}},
		{"origins required", []string{originsSetRuleID}, nil,
			[]checktest.ExpectedAnnotation{noOrigins}},
		{"both rules", []string{policyValidRuleID, originsSetRuleID}, nil,
			[]checktest.ExpectedAnnotation{noOrigins, maxAge, publicSuffix, badHeader, nullOrigin, starHeader, starCreds, badSetName}},
		{"null origin allowed", []string{policyValidRuleID}, map[string]any{allowNullOption: true},
			[]checktest.ExpectedAnnotation{maxAge, publicSuffix, badHeader, starHeader, starCreds, badSetName}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checktest.CheckTest{
				Request:             &checktest.RequestSpec{Files: sampleFiles, RuleIDs: tt.ruleIDs, Options: tt.options},
				Spec:                spec,
				ExpectedAnnotations: tt.want,
			}.Run(t)
		})
	}
}

// A module whose policies are all valid lints clean.
func TestRulesValid(t *testing.T) {
	if _, err := os.Stat("../../third_party/googleapis/google/api/annotations.proto"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("google/api protos are missing (run tools/generate.sh): %v", err)
		}
		t.Skip("third_party/googleapis is not filled in (tools/generate.sh does it)")
	}
	checktest.CheckTest{
		Request: &checktest.RequestSpec{
			Files: &checktest.ProtoFileSpec{
				DirPaths:  []string{"../../proto", "../../internal/proto", "../../third_party/googleapis"},
				FilePaths: []string{"protocors/test/v1/test.proto"},
			},
			RuleIDs: []string{policyValidRuleID, originsSetRuleID},
		},
		Spec: spec,
	}.Run(t)
}

// TestBufLint runs the real buf with the plugin declared in buf.yaml, as a
// user would, and checks that buf lint names file:line:column and the
// problem.
func TestBufLint(t *testing.T) {
	// buf, and the plugin on PATH under the name buf.yaml declares.
	buf, binDir := bufAndPlugin(t)

	// The workspace: testdata's buf.yaml and sample module, plus the
	// protocors options schema.
	ws := t.TempDir()
	copyFile(t, "testdata/buf.yaml", filepath.Join(ws, "buf.yaml"))
	copyFile(t, "testdata/sample/shop/v1/shop.proto", filepath.Join(ws, "sample/shop/v1/shop.proto"))
	copyFile(t, "../../proto/protocors/v1/cors.proto", filepath.Join(ws, "deps/protocors/v1/cors.proto"))

	lint := func(format string) (string, int) {
		cmd := exec.Command(buf, "lint", "--error-format="+format)
		cmd.Dir = ws
		cmd.Env = append(os.Environ(), "PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"), "BUF_CACHE_DIR="+filepath.Join(ws, ".cache"))
		out, err := cmd.Output()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			if len(exit.Stderr) > 0 {
				t.Logf("buf stderr: %s", exit.Stderr)
			}
			return string(out), exit.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return string(out), 0
	}

	out, code := lint("text")
	if code != 100 { // buf lint's exit code for findings
		t.Fatalf("buf lint exit %d, want 100; output:\n%s", code, out)
	}
	wantLines := []string{
		`sample/shop/v1/shop.proto:9:31:shop/v1/shop.proto: max_age_seconds "90000": above 86400`,
		`sample/shop/v1/shop.proto:17:5:shop.v1.ShopService: allow_origins[1] "https://*.com": too broad: "com" is a public suffix`,
		`sample/shop/v1/shop.proto:21:5:shop.v1.ShopService: expose_headers[0] "X Total": not a valid header name`,
		`sample/shop/v1/shop.proto:32:7:shop.v1.ShopService.DeleteItem: allow_origins[0] "null": the "null" origin is shared`,
		`sample/shop/v1/shop.proto:33:7:shop.v1.ShopService.DeleteItem: allow_headers[0] "*": "*" cannot be used with allow_credentials`,
		`sample/shop/v1/shop.proto:43:12:shop.v1.OpenService.Peek: allow_origins[0] "*": "*" cannot be used with allow_credentials`,
		`sample/shop/v1/shop.proto:48:3:shop.v1.BareService.Enable: allow_origins: CORS is enabled but no scope lists an origin`,
		`sample/shop/v1/shop.proto:61:7:shop.v1.AdminService.Ban: allow_origin_sets[1] "Partners": not an origin set name`,
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(wantLines) {
		t.Fatalf("%d findings, want %d:\n%s", len(lines), len(wantLines), out)
	}
	for i, w := range wantLines {
		if !strings.HasPrefix(lines[i], w) || !strings.HasSuffix(lines[i], "(buf-plugin-protocors)") {
			t.Errorf("finding %d:\n got %s\nwant %s... (buf-plugin-protocors)", i, lines[i], w)
		}
	}

	// The JSON form names the rule of each finding.
	out, _ = lint("json")
	var rules []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var f struct {
			Path string `json:"path"`
			Type string `json:"type"`
		}
		if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
			t.Fatalf("%v: %s", err, sc.Bytes())
		}
		rules = append(rules, f.Type)
	}
	want := strings.Repeat(policyValidRuleID+",", 6) + originsSetRuleID + "," + policyValidRuleID
	if strings.Join(rules, ",") != want {
		t.Errorf("rules %v, want %s", rules, want)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// bufAndPlugin returns the pinned buf (tools/node_modules) and a directory
// holding the plugin, built from this module under the name buf.yaml
// declares. It skips the test where either cannot be had, except in CI,
// which installs buf and must not pass quietly without it.
func bufAndPlugin(t *testing.T) (buf, binDir string) {
	t.Helper()
	buf, err := filepath.Abs("../../tools/node_modules/.bin/buf")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(buf); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("buf is missing (run: cd tools && npm ci): %v", err)
		}
		t.Skip("buf is not installed (cd tools && npm ci)")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the plugin")
	}
	binDir = t.TempDir()
	build := exec.Command(goBin, "build", "-o", filepath.Join(binDir, "buf-plugin-protocors"), ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return buf, binDir
}
