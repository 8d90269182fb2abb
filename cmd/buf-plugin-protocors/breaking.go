package main

import (
	"context"
	"slices"
	"strings"

	"buf.build/go/bufplugin/check"
	"buf.build/go/bufplugin/descriptor"
	"buf.build/go/bufplugin/option"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/protocors/protocors/internal/inspect"
	"github.com/protocors/protocors/internal/surface"
)

const (
	surfaceWidenedRuleID = "PROTOCORS_SURFACE_WIDENED"
	surfaceCategoryID    = "PROTOCORS_SURFACE"

	// originsOption is the deployment's WithOrigins, the runtime default
	// policy of both versions.
	originsOption = "origins"
)

// surfaceWidened reports each widening of the cross-origin surface between
// the against image and this one, computed by internal/surface exactly as
// `protocors diff` computes it (with no origin set bound: set members are
// deployment configuration), at the option that causes it.
func surfaceWidened(_ context.Context, w check.ResponseWriter, req check.Request) error {
	against := req.AgainstFileDescriptors()
	if len(against) == 0 {
		return nil // not a breaking check
	}
	origins, err := option.GetStringSliceValue(req.Options(), originsOption)
	if err != nil {
		return err
	}
	dep := surface.Deployment{Origins: origins}
	current := req.FileDescriptors()
	oldMethods, _ := ownMethods(against)
	newMethods, own := ownMethods(current)
	byName := make(map[string]protoreflect.MethodDescriptor, len(newMethods))
	for _, md := range newMethods {
		byName[string(md.FullName())] = md
	}
	for _, c := range surface.Compare(surface.New(oldMethods, dep), surface.New(newMethods, dep)) {
		if c.Class != surface.Widens {
			continue
		}
		opts := []check.AddAnnotationOption{check.WithMessage(c.Detail())}
		d, path := c.Descriptor, c.Path
		if c.Against || d == nil || !own[d.ParentFile().Path()] {
			// The cause is gone from this version (an inner option that
			// narrowed was removed) or lies in a file not under review:
			// point at the RPC.
			md := byName[c.RPC]
			if md == nil { // a widening always has its RPC in this version
				w.AddAnnotation(opts...)
				continue
			}
			d, path = md, inspect.DescriptorPath(md)
		}
		fd := d.ParentFile()
		if _, found, ok := inspect.Locate(fd, path); ok {
			opts = append(opts, check.WithFileNameAndSourcePath(fd.Path(), found))
		} else {
			opts = append(opts, check.WithFileName(fd.Path()))
		}
		w.AddAnnotation(opts...)
	}
	return nil
}

// ownMethods returns the methods of the files that are not imports, file
// by file in path order as protocors diff lists them, and those files'
// paths.
func ownMethods(files []descriptor.FileDescriptor) ([]protoreflect.MethodDescriptor, map[string]bool) {
	var fds []protoreflect.FileDescriptor
	own := map[string]bool{}
	for _, f := range files {
		if !f.IsImport() {
			fds = append(fds, f.ProtoreflectFileDescriptor())
			own[f.ProtoreflectFileDescriptor().Path()] = true
		}
	}
	slices.SortFunc(fds, func(a, b protoreflect.FileDescriptor) int { return strings.Compare(a.Path(), b.Path()) })
	var out []protoreflect.MethodDescriptor
	for _, fd := range fds {
		out = append(out, inspect.FileMethods(fd)...)
	}
	return out, own
}
