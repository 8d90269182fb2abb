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
	"allow_origin_sets": core.FieldAllowOriginSets,
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
// compiler recorded none for it, the nearest one it did record: for a list
// element, the list (buf's compiler records a whole list literal under
// index 0); then the longest prefix of path that has one (protoc records
// an option as a whole, not the fields of its message literal). The
// returned path is the one found; ok is false when fd has no location for
// any of them.
func Locate(fd protoreflect.FileDescriptor, path protoreflect.SourcePath) (protoreflect.SourceLocation, protoreflect.SourcePath, bool) {
	locs := fd.SourceLocations()
	found := func(p protoreflect.SourcePath) (protoreflect.SourceLocation, bool) {
		loc := locs.ByPath(p)
		return loc, loc.Path != nil
	}
	if loc, ok := found(path); ok {
		return loc, path, true
	}
	if n := len(path); n >= 2 && path[n-1] > 0 && isPolicyListPath(path) {
		first := append(protoreflect.SourcePath(nil), path...)
		first[n-1] = 0
		if loc, ok := found(first); ok {
			return loc, first, true
		}
	}
	for n := len(path) - 1; n > 0; n-- {
		if loc, ok := found(path[:n]); ok {
			return loc, path[:n], true
		}
	}
	return protoreflect.SourceLocation{}, nil, false
}

// isPolicyListPath reports whether path ends in an element of a repeated
// Policy field inside a protocors option.
func isPolicyListPath(path protoreflect.SourcePath) bool {
	n := len(path)
	if n < 3 {
		return false
	}
	switch path[n-2] {
	case core.FieldAllowOrigins, core.FieldAllowHeaders, core.FieldExposeHeaders, core.FieldAllowOriginSets:
	default:
		return false
	}
	switch protoreflect.FieldNumber(path[n-3]) {
	case corspb.E_File.TypeDescriptor().Number(), corspb.E_Service.TypeDescriptor().Number(), corspb.E_Method.TypeDescriptor().Number():
		return true
	}
	return false
}
