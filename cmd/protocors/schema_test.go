package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/protocors/protocors/corspb"
)

// repoSchema is the schema as the repository holds it.
func repoSchema(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../proto/protocors/v1/cors.proto")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSchemaStdout(t *testing.T) {
	want := repoSchema(t)
	for _, args := range [][]string{{"schema"}, {"schema", "-o", "-"}} {
		code, out, errOut := runCmd(args...)
		if code != 0 || out != want || errOut != "" {
			t.Errorf("%q: exit %d, stderr %q, stdout identical to proto/protocors/v1/cors.proto: %v", args, code, errOut, out == want)
		}
	}
}

func TestSchemaWrite(t *testing.T) {
	want := repoSchema(t)
	dir := filepath.Join(t.TempDir(), "proto") // does not exist yet
	path := filepath.Join(dir, "protocors", "v1", "cors.proto")
	read := func() string {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	if code, out, errOut := runCmd("schema", "-o", dir); code != 0 || out != "wrote "+path+"\n" || errOut != "" {
		t.Fatalf("first write: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if read() != want {
		t.Fatal("the written file differs from proto/protocors/v1/cors.proto")
	}
	if code, out, _ := runCmd("schema", "-o", dir); code != 0 || !strings.Contains(out, "up to date") {
		t.Errorf("second write: exit %d, stdout %q; want 0 and up to date", code, out)
	}

	// A different file is kept without -f and replaced with it.
	old := strings.Replace(want, "method = 57382", "method = 50001", 1)
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCmd("schema", "-o", dir); code != 1 || !strings.Contains(errOut, "exists and differs") || !strings.Contains(errOut, "-f replaces it") {
		t.Errorf("different file without -f: exit %d, stderr %q", code, errOut)
	}
	if read() != old {
		t.Error("schema without -f replaced a different file")
	}
	if code, out, errOut := runCmd("schema", "-f", "-o", dir); code != 0 || !strings.HasPrefix(out, "wrote ") {
		t.Errorf("-f: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if read() != want {
		t.Error("schema -f did not replace a different file")
	}
}

func TestSchemaUsage(t *testing.T) {
	tests := []struct {
		args       []string
		code       int
		wantStderr string
	}{
		{[]string{"schema", "proto"}, 2, `unexpected argument "proto" (the directory goes after -o)`},
		{[]string{"schema", "-x"}, 2, "flag provided but not defined"},
		{[]string{"schema", "-h"}, 0, "protocors schema [-o DIR] [-f]"},
		// A file where a directory must go.
		{[]string{"schema", "-o", "schema_test.go"}, 2, "protocors schema:"},
	}
	for _, tt := range tests {
		code, _, errOut := runCmd(tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.wantStderr) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d and %q", tt.args, code, errOut, tt.code, tt.wantStderr)
		}
	}
	if code, out, _ := runCmd("help"); code != 0 || !strings.Contains(out, "protocors schema  [-o DIR] [-f]") {
		t.Errorf("help: exit %d, %q", code, out)
	}
}

// schemaImage is the test set with its imports, whose copy of
// protocors/v1/cors.proto is changed by edit.
func schemaImage(t *testing.T, edit func(*descriptorpb.FileDescriptorProto)) string {
	t.Helper()
	set := testSet(true)
	found := false
	for _, f := range set.File {
		if f.GetName() == "protocors/v1/cors.proto" {
			edit(f)
			found = true
		}
	}
	if !found {
		t.Fatal("the test set does not hold protocors/v1/cors.proto")
	}
	return writeSet(t, "image.binpb", set)
}

// TestCheckSchemaDrift: check warns, without failing, when the image's copy
// of the schema differs from the program's as a descriptor, and only then.
func TestCheckSchemaDrift(t *testing.T) {
	policy := func(f *descriptorpb.FileDescriptorProto) *descriptorpb.DescriptorProto { return f.MessageType[0] }
	tests := []struct {
		name string
		edit func(*descriptorpb.FileDescriptorProto)
		want string // "" for no warning
	}{
		{"same", func(*descriptorpb.FileDescriptorProto) {}, ""},
		{"formatting and comments (source info), compiler-written json_name", func(f *descriptorpb.FileDescriptorProto) {
			// What protoc and buf write for a copy laid out differently:
			// other spans and comments, and json_name on every field.
			f.SourceCodeInfo = &descriptorpb.SourceCodeInfo{Location: []*descriptorpb.SourceCodeInfo_Location{
				{Path: []int32{4, 0}, Span: []int32{3, 0, 40, 1}, LeadingComments: proto.String(" reformatted\n")},
			}}
			for _, fld := range policy(f).Field {
				fld.JsonName = proto.String(jsonCamelCase(fld.GetName()))
			}
			for _, x := range f.Extension {
				x.JsonName = proto.String(x.GetName())
			}
		}, ""},
		{"field number", func(f *descriptorpb.FileDescriptorProto) {
			policy(f).Field[1].Number = proto.Int32(20)
		}, "in: message protocors.v1.Policy."},
		{"custom json_name", func(f *descriptorpb.FileDescriptorProto) {
			policy(f).Field[1].JsonName = proto.String("origins")
		}, "in: message protocors.v1.Policy."},
		{"extension number", func(f *descriptorpb.FileDescriptorProto) {
			for _, x := range f.Extension {
				if x.GetName() == "method" {
					x.Number = proto.Int32(50001)
				}
			}
		}, "in: extension protocors.v1.method."},
		{"go_package and a missing extension", func(f *descriptorpb.FileDescriptorProto) {
			f.Options.GoPackage = proto.String("example.com/gen/protocors/v1")
			f.Extension = f.Extension[:2]
		}, "in: file options, extension protocors.v1.method (missing)."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCmd("check", schemaImage(t, tt.edit))
			if code != 0 || !strings.HasPrefix(out, "ok: ") {
				t.Errorf("exit %d, stdout %q; want 0 and ok (the warning is no problem)", code, out)
			}
			if tt.want == "" {
				if strings.Contains(errOut, "differs from the schema") {
					t.Errorf("stderr %q; want no schema warning", errOut)
				}
				return
			}
			if !strings.Contains(errOut, "protocors check: warning: the image's protocors/v1/cors.proto differs from the schema of this protocors version") ||
				!strings.Contains(errOut, tt.want) || !strings.Contains(errOut, "protocors schema -o DIR -f") {
				t.Errorf("stderr %q; want the warning with %q", errOut, tt.want)
			}
		})
	}
}

// An image without its own copy (protoc without --include_imports) is
// checked with the program's schema: nothing to compare, no warning.
func TestCheckSchemaAbsent(t *testing.T) {
	if code, _, errOut := runCmd("check", writeSet(t, "noimports.binpb", testSet(false))); code != 0 || strings.Contains(errOut, "differs from the schema") {
		t.Errorf("exit %d, stderr %q; want 0 and no warning", code, errOut)
	}
	// The comparison's reference is the generated descriptor, which holds
	// no source info: normalizing it changes nothing else.
	want := protodesc.ToFileDescriptorProto(corspb.File_protocors_v1_cors_proto)
	if d := diffFiles(normalizeFile(proto.Clone(want).(*descriptorpb.FileDescriptorProto)), normalizeFile(want)); d != nil {
		t.Errorf("the schema differs from itself: %v", d)
	}
}

func TestJSONCamelCase(t *testing.T) {
	for in, want := range map[string]string{
		"allow_origins": "allowOrigins", "max_age_seconds": "maxAgeSeconds", "enabled": "enabled",
		"a__b": "aB", "x_1": "x1", "_a": "A", "a_": "a",
	} {
		if got := jsonCamelCase(in); got != want {
			t.Errorf("jsonCamelCase(%q) = %q, want %q", in, got, want)
		}
	}
}
