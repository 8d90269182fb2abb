package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/internal/inspect"
)

const schemaUsage = `Usage:
  protocors schema [-o DIR] [-f]

Writes the options schema of this protocors version (protocors/v1/cors.proto,
the file that declares the protocors.v1 options) into a proto tree, so that
.proto files can import "protocors/v1/cors.proto".

  -o DIR  write DIR/protocors/v1/cors.proto, creating the directories. DIR is
          the root of your proto tree (the directory of your buf module, or a
          protoc -I path). Without -o, or with -o -, print the schema on
          standard output.
  -f      replace an existing DIR/protocors/v1/cors.proto that differs (one
          identical to the schema is left as it is).

Generate no code for this file: its go_package is
github.com/protocors/protocors/corspb, which your program imports through the
middlewares (see the README's Install section for the buf configuration).

Exit status: 0 written or already identical, 1 an existing file differs and
-f was not given, 2 usage error or the file could not be written.
`

// runSchema is `protocors schema`.
func runSchema(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("protocors schema", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.Usage = func() { fmt.Fprint(flags.Output(), schemaUsage) }
	dir := flags.String("o", "-", "")
	force := flags.Bool("f", false, "")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if flags.NArg() != 0 {
		fmt.Fprintf(stderr, "protocors schema: unexpected argument %q (the directory goes after -o)\n", flags.Arg(0))
		return exitUsage
	}
	schema := protocors.Schema()
	if *dir == "-" {
		if _, err := stdout.Write(schema); err != nil {
			fmt.Fprintf(stderr, "protocors schema: %v\n", err)
			return exitUsage
		}
		return exitOK
	}
	path := filepath.Join(*dir, filepath.FromSlash(protocors.SchemaPath))
	old, err := os.ReadFile(path)
	switch {
	case err == nil && bytes.Equal(old, schema):
		fmt.Fprintf(stdout, "%s is up to date\n", path)
		return exitOK
	case err == nil && !*force:
		fmt.Fprintf(stderr, "protocors schema: %s exists and differs from the schema of this protocors version%s; -f replaces it\n", path, versionSuffix())
		return exitProblems
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		fmt.Fprintf(stderr, "protocors schema: %v\n", err)
		return exitUsage
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		fmt.Fprintf(stderr, "protocors schema: %v\n", err)
		return exitUsage
	}
	if err := os.WriteFile(path, schema, 0o644); err != nil {
		fmt.Fprintf(stderr, "protocors schema: %v\n", err)
		return exitUsage
	}
	fmt.Fprintf(stdout, "wrote %s\n", path)
	return exitOK
}

// libraryVersion is the version of github.com/protocors/protocors this
// program was built from, or "" when the build does not say (a build inside
// the repository, a replace directive).
func libraryVersion() string {
	const mod = "github.com/protocors/protocors"
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	v := ""
	if bi.Main.Path == mod {
		v = bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == mod && d.Replace == nil {
			v = d.Version
		}
	}
	if v == "(devel)" || strings.HasPrefix(v, "v0.0.0-00010101000000") {
		return ""
	}
	return v
}

func versionSuffix() string {
	if v := libraryVersion(); v != "" {
		return " (" + v + ")"
	}
	return ""
}

// schemaDrift compares the image's own copy of protocors/v1/cors.proto, if
// the image holds one, with the schema this program was built with, and
// names what differs ("message protocors.v1.Policy", "file options", ...);
// nil when they agree or the image holds no copy (then the program's own
// schema stands in for it, so nothing can differ).
//
// The comparison is of descriptors, not text: the image's
// FileDescriptorProto against the one the generated corspb package
// registers (built from the same file that Schema embeds), both normalized
// first, so that what does not change the compiled schema does not warn:
// comments, blank lines, layout and option spelling live only in
// source_code_info, which is dropped, and json_name is dropped where it is
// the default the compiler derives from the field name (protoc and buf
// write it, protoc-gen-go's embedded descriptor may not) and on extensions,
// where it means nothing.
func schemaDrift(img *inspect.Image) []string {
	path := protocors.SchemaPath
	if !slices.Contains(img.Paths, path) {
		return nil
	}
	fd, err := img.Files.FindFileByPath(path)
	if err != nil {
		return nil
	}
	return diffFiles(
		normalizeFile(protodesc.ToFileDescriptorProto(fd)),
		normalizeFile(protodesc.ToFileDescriptorProto(corspb.File_protocors_v1_cors_proto)),
	)
}

// diffFiles names the top-level parts of two normalized files that differ,
// in the order of want's declarations.
func diffFiles(got, want *descriptorpb.FileDescriptorProto) []string {
	if proto.Equal(got, want) {
		return nil
	}
	type part struct {
		name string
		msg  proto.Message
	}
	parts := func(f *descriptorpb.FileDescriptorProto) []part {
		ps := []part{
			{"syntax", &descriptorpb.FileDescriptorProto{Syntax: f.Syntax, Edition: f.Edition}},
			{"package", &descriptorpb.FileDescriptorProto{Package: f.Package}},
			{"imports", &descriptorpb.FileDescriptorProto{Dependency: f.Dependency, PublicDependency: f.PublicDependency, WeakDependency: f.WeakDependency}},
			{"file options", &descriptorpb.FileDescriptorProto{Options: f.Options}},
		}
		prefix := f.GetPackage() + "."
		for _, m := range f.MessageType {
			ps = append(ps, part{"message " + prefix + m.GetName(), m})
		}
		for _, e := range f.EnumType {
			ps = append(ps, part{"enum " + prefix + e.GetName(), e})
		}
		for _, x := range f.Extension {
			ps = append(ps, part{"extension " + prefix + x.GetName(), x})
		}
		for _, s := range f.Service {
			ps = append(ps, part{"service " + prefix + s.GetName(), s})
		}
		return ps
	}
	gotParts := parts(got)
	find := func(name string) proto.Message {
		for _, p := range gotParts {
			if p.name == name {
				return p.msg
			}
		}
		return nil
	}
	var diff []string
	wantNames := map[string]bool{}
	for _, p := range parts(want) {
		wantNames[p.name] = true
		switch g := find(p.name); {
		case g == nil:
			diff = append(diff, p.name+" (missing)")
		case !proto.Equal(g, p.msg):
			diff = append(diff, p.name)
		}
	}
	for _, p := range gotParts {
		if !wantNames[p.name] {
			diff = append(diff, p.name+" (not in the schema)")
		}
	}
	if len(diff) == 0 {
		// Same parts, different order of declarations.
		diff = append(diff, "the order of declarations")
	}
	return diff
}

// normalizeFile drops from f what does not change the compiled schema: see
// schemaDrift.
func normalizeFile(f *descriptorpb.FileDescriptorProto) *descriptorpb.FileDescriptorProto {
	f.SourceCodeInfo = nil
	for _, x := range f.Extension {
		x.JsonName = nil
	}
	for _, m := range f.MessageType {
		normalizeMessage(m)
	}
	return f
}

func normalizeMessage(m *descriptorpb.DescriptorProto) {
	for _, fld := range m.Field {
		if fld.GetJsonName() == jsonCamelCase(fld.GetName()) {
			fld.JsonName = nil
		}
	}
	for _, x := range m.Extension {
		x.JsonName = nil
	}
	for _, n := range m.NestedType {
		normalizeMessage(n)
	}
}

// jsonCamelCase is the JSON name protobuf compilers derive from a field
// name: each '_' dropped and the ASCII lower-case letter after it upper-cased.
func jsonCamelCase(s string) string {
	var b strings.Builder
	after := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' {
			after = true
			continue
		}
		if after && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		after = false
		b.WriteByte(c)
	}
	return b.String()
}

// warnSchemaDrift writes check's warning about an image whose copy of the
// schema is not this program's.
func warnSchemaDrift(img *inspect.Image, stderr io.Writer) {
	diff := schemaDrift(img)
	if diff == nil {
		return
	}
	fmt.Fprintf(stderr, "protocors check: warning: the image's %s differs from the schema of this protocors version%s in: %s. The middlewares read the options with their own schema, so what they do may not be what this copy says; replace it with `protocors schema -o DIR -f` (DIR: your proto root) and rebuild the image.\n",
		protocors.SchemaPath, versionSuffix(), strings.Join(diff, ", "))
}
