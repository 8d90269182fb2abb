package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	descriptorv1 "buf.build/gen/go/bufbuild/bufplugin/protocolbuffers/go/buf/plugin/descriptor/v1"
	"buf.build/go/bufplugin/check"
	"buf.build/go/bufplugin/check/checktest"
	"buf.build/go/bufplugin/descriptor"
	"buf.build/go/bufplugin/option"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/protocors/protocors/internal/surface/surfacetest"
)

// files turns a test file and its imports into the plugin's descriptors.
func files(t *testing.T, f surfacetest.File) []descriptor.FileDescriptor {
	t.Helper()
	var protos []*descriptorv1.FileDescriptor
	add := func(fdp *descriptorpb.FileDescriptorProto, isImport bool) {
		protos = append(protos, descriptorv1.FileDescriptor_builder{FileDescriptorProto: fdp, IsImport: isImport}.Build())
	}
	for _, fdp := range surfacetest.Imports() {
		add(fdp, true)
	}
	add(f.Proto(), false)
	fds, err := descriptor.FileDescriptorsForProtoFileDescriptors(protos)
	if err != nil {
		t.Fatal(err)
	}
	return fds
}

// The pairs protocors diff is tested with, through the breaking rule: it
// reports exactly their widenings, with the same text. Pairs whose change is
// an origin set's binding are left out: the plugin binds no set (members
// are deployment configuration), so it names sets without members.
func TestSurfaceWidenedPairs(t *testing.T) {
	client, err := check.NewClientForSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range surfacetest.Pairs() {
		if p.OldSets != nil || p.NewSets != nil {
			continue
		}
		t.Run(p.Name, func(t *testing.T) {
			opts := map[string]any{}
			if p.Origins != nil {
				opts[originsOption] = p.Origins
			}
			o, err := option.NewOptions(opts)
			if err != nil {
				t.Fatal(err)
			}
			req, err := check.NewRequest(files(t, p.New),
				check.WithAgainstFileDescriptors(files(t, p.Old)),
				check.WithRuleIDs(surfaceWidenedRuleID),
				check.WithOptions(o))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := client.Check(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			var got, want []string
			for _, a := range resp.Annotations() {
				if a.RuleID() != surfaceWidenedRuleID {
					t.Errorf("rule %s", a.RuleID())
				}
				if a.FileLocation() == nil || a.FileLocation().FileDescriptor().ProtoreflectFileDescriptor().Path() != surfacetest.FilePath {
					t.Errorf("%s: not located in %s", a.Message(), surfacetest.FilePath)
				}
				got = append(got, a.Message())
			}
			for _, l := range p.Want {
				if d, ok := strings.CutPrefix(l, "widens "); ok {
					want = append(want, d)
				}
			}
			// The response sorts annotations by location.
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("annotations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// Compiled from .proto files, the widenings point at the option that causes
// each: the service's allow_credentials, the method's allow_origin_sets, the
// file option that enables a new RPC, the idempotency_level that makes a
// Connect GET.
func TestSurfaceWidenedPositions(t *testing.T) {
	at := func(startLine, startCol, endLine, endCol int) *checktest.ExpectedFileLocation {
		return &checktest.ExpectedFileLocation{FileName: "shop/v1/shop.proto", StartLine: startLine, StartColumn: startCol, EndLine: endLine, EndColumn: endCol}
	}
	ann := func(msg string, loc *checktest.ExpectedFileLocation) checktest.ExpectedAnnotation {
		return checktest.ExpectedAnnotation{RuleID: surfaceWidenedRuleID, Message: msg, FileLocation: loc}
	}
	checktest.CheckTest{
		Request: &checktest.RequestSpec{
			Files:        &checktest.ProtoFileSpec{DirPaths: []string{"../../proto", "testdata/breaking/new"}, FilePaths: []string{"shop/v1/shop.proto"}},
			AgainstFiles: &checktest.ProtoFileSpec{DirPaths: []string{"../../proto", "testdata/breaking/old"}, FilePaths: []string{"shop/v1/shop.proto"}},
			RuleIDs:      []string{surfaceWidenedRuleID},
		},
		Spec: spec,
		ExpectedAnnotations: []checktest.ExpectedAnnotation{
			// Line 8: option (protocors.v1.file) = {allow_origins: [...]}.
			ann("shop.v1.Catalog.ListItems: cors: absent -> enabled [origins https://app.example; credentials false] (file shop/v1/shop.proto)", at(7, 0, 7, 70)),
			// Line 11: the service option's allow_credentials: true.
			ann("shop.v1.Shop.DeleteItem: allow_credentials: false -> true (service shop.v1.Shop)", at(10, 35, 10, 58)),
			ann("shop.v1.Shop.GetItem: allow_credentials: false -> true (service shop.v1.Shop)", at(10, 35, 10, 58)),
			// Line 14: option idempotency_level = NO_SIDE_EFFECTS.
			ann("shop.v1.Shop.GetItem: connect methods: POST -> GET, POST (method shop.v1.Shop.GetItem)", at(13, 4, 13, 47)),
			// Line 17: the method option naming the set.
			ann("shop.v1.Shop.DeleteItem: allow_origin_sets: - -> admin (not bound) (method shop.v1.Shop.DeleteItem)", at(16, 4, 16, 66)),
		},
	}.Run(t)
}

// Without an against image (a lint run), the breaking rule reports nothing.
func TestSurfaceWidenedNeedsAgainst(t *testing.T) {
	checktest.CheckTest{
		Request: &checktest.RequestSpec{Files: sampleFiles, RuleIDs: []string{surfaceWidenedRuleID}},
		Spec:    spec,
	}.Run(t)
}

// TestBufBreaking runs the real buf breaking --against with the plugin
// declared in buf.yaml, as a CI job would, and checks that it fails naming
// file:line:column and each widening.
func TestBufBreaking(t *testing.T) {
	buf, binDir := bufAndPlugin(t)
	ws := t.TempDir()
	for _, side := range []string{"old", "new"} {
		copyFile(t, "testdata/breaking/buf.yaml", filepath.Join(ws, side, "buf.yaml"))
		copyFile(t, "testdata/breaking/"+side+"/shop/v1/shop.proto", filepath.Join(ws, side, "sample/shop/v1/shop.proto"))
		copyFile(t, "../../proto/protocors/v1/cors.proto", filepath.Join(ws, side, "deps/protocors/v1/cors.proto"))
	}
	cmd := exec.Command(buf, "breaking", "--against", "../old", "--error-format=text")
	cmd.Dir = filepath.Join(ws, "new")
	cmd.Env = append(os.Environ(), "PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"), "BUF_CACHE_DIR="+filepath.Join(ws, ".cache"))
	out, err := cmd.Output()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 100 { // buf's exit code for findings
		t.Fatalf("buf breaking: %v, want exit 100; output:\n%s", err, out)
	}
	// buf's compiler records positions a little differently from
	// checktest's (a list literal as a whole, an option from its name).
	want := []string{
		`sample/shop/v1/shop.proto:8:8:shop.v1.Catalog.ListItems: cors: absent -> enabled [origins https://app.example; credentials false] (file shop/v1/shop.proto) (buf-plugin-protocors)`,
		`sample/shop/v1/shop.proto:11:36:shop.v1.Shop.DeleteItem: allow_credentials: false -> true (service shop.v1.Shop) (buf-plugin-protocors)`,
		`sample/shop/v1/shop.proto:11:36:shop.v1.Shop.GetItem: allow_credentials: false -> true (service shop.v1.Shop) (buf-plugin-protocors)`,
		`sample/shop/v1/shop.proto:14:5:shop.v1.Shop.GetItem: connect methods: POST -> GET, POST (method shop.v1.Shop.GetItem) (buf-plugin-protocors)`,
		// buf's own FILE rule sees the same option change.
		`sample/shop/v1/shop.proto:14:5:RPC "GetItem" on service "Shop" changed option "idempotency_level" from "IDEMPOTENCY_UNKNOWN" to "NO_SIDE_EFFECTS".`,
		`sample/shop/v1/shop.proto:17:12:shop.v1.Shop.DeleteItem: allow_origin_sets: - -> admin (not bound) (method shop.v1.Shop.DeleteItem) (buf-plugin-protocors)`,
	}
	if got := strings.Split(strings.TrimSpace(string(out)), "\n"); !slices.Equal(got, want) {
		t.Errorf("buf breaking:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
