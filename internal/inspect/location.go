package inspect

import (
	"strconv"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/internal/core"
)

// Field numbers in descriptor.proto, for source paths.
const (
	fileServiceField    = 6 // FileDescriptorProto.service
	fileOptionsField    = 8 // FileDescriptorProto.options
	serviceMethodField  = 2 // ServiceDescriptorProto.method
	serviceOptionsField = 3 // ServiceDescriptorProto.options
	methodOptionsField  = 4 // MethodDescriptorProto.options
)

// policyFields maps corspb.Policy field names to numbers.
var policyFields = map[string]int32{
	"enabled":           core.FieldEnabled,
	"allow_origins":     core.FieldAllowOrigins,
	"allow_headers":     core.FieldAllowHeaders,
	"expose_headers":    core.FieldExposeHeaders,
	"allow_credentials": core.FieldAllowCredentials,
	"max_age_seconds":   core.FieldMaxAgeSeconds,
}

// DescriptorPath returns the source path of a file (empty), service or
// method descriptor within its file.
func DescriptorPath(d protoreflect.Descriptor) protoreflect.SourcePath {
	switch d := d.(type) {
	case protoreflect.ServiceDescriptor:
		return protoreflect.SourcePath{fileServiceField, int32(d.Index())}
	case protoreflect.MethodDescriptor:
		return protoreflect.SourcePath{fileServiceField, int32(d.Parent().Index()), serviceMethodField, int32(d.Index())}
	}
	return protoreflect.SourcePath{}
}

// PolicyPath returns the source path of the protocors policy option of d
// (a file, service or method), extended by a Policy field as core.Problem
// names it ("allow_origins[1]", "max_age_seconds"); field "" stops at the
// option. It returns nil when d cannot carry a policy.
func PolicyPath(d protoreflect.Descriptor, field string) protoreflect.SourcePath {
	var path protoreflect.SourcePath
	switch d.(type) {
	case protoreflect.FileDescriptor:
		path = protoreflect.SourcePath{fileOptionsField, int32(corspb.E_File.TypeDescriptor().Number())}
	case protoreflect.ServiceDescriptor:
		path = append(DescriptorPath(d), serviceOptionsField, int32(corspb.E_Service.TypeDescriptor().Number()))
	case protoreflect.MethodDescriptor:
		path = append(DescriptorPath(d), methodOptionsField, int32(corspb.E_Method.TypeDescriptor().Number()))
	default:
		return nil
	}
	if field == "" {
		return path
	}
	name, index, hasIndex := strings.Cut(field, "[")
	num, ok := policyFields[name]
	if !ok {
		return path
	}
	path = append(path, num)
	if hasIndex {
		if i, err := strconv.Atoi(strings.TrimSuffix(index, "]")); err == nil {
			path = append(path, int32(i))
		}
	}
	return path
}

// Locate returns the source location in fd recorded for path or, when the
// compiler recorded none for it, for its longest prefix that has one (a
// compiler may record an option as a whole but not the fields of its
// message literal). The returned path is the one found; ok is false when
// fd has no location for any prefix of path.
func Locate(fd protoreflect.FileDescriptor, path protoreflect.SourcePath) (protoreflect.SourceLocation, protoreflect.SourcePath, bool) {
	locs := fd.SourceLocations()
	for n := len(path); n > 0; n-- {
		loc := locs.ByPath(path[:n])
		if loc.Path != nil || loc.StartLine != 0 || loc.EndLine != 0 || loc.StartColumn != 0 || loc.EndColumn != 0 {
			return loc, path[:n], true
		}
	}
	return protoreflect.SourceLocation{}, nil, false
}
