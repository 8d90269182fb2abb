// Package inspect walks protobuf descriptors the way protocors' tools need:
// it loads descriptor sets written by buf or protoc, lists the RPCs they
// declare, derives the HTTP methods and paths each RPC answers on (Connect
// and google.api.http), and reads extensions however they arrived (typed,
// dynamic or as unknown fields).
//
// It serves cmd/protocors and the buf check plugin; the middlewares keep
// their own, per-request-optimized tables.
package inspect

import (
	"errors"
	"fmt"
	"slices"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// Image is a loaded descriptor set.
type Image struct {
	// Files holds every file of the set, plus the dependencies it lacked
	// that this program links in (descriptor.proto, google/api/*.proto,
	// protocors/v1/cors.proto), as protoc writes sets without imports by
	// default.
	Files *protoregistry.Files
	// Paths lists the files the set itself contains, sorted.
	Paths []string
}

// ReadImage parses a FileDescriptorSet, as written by `buf build -o x.binpb`
// or `protoc --descriptor_set_out`, in the binary wire format, or in the
// protobuf JSON format when isJSON is set (`buf build -o x.json`).
func ReadImage(data []byte, isJSON bool) (*Image, error) {
	set := &descriptorpb.FileDescriptorSet{}
	var err error
	if isJSON {
		err = protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(data, set)
	} else {
		err = proto.Unmarshal(data, set)
	}
	if err != nil {
		return nil, fmt.Errorf("not a FileDescriptorSet: %w", err)
	}
	if len(set.File) == 0 {
		return nil, errors.New("the descriptor set holds no files")
	}
	return NewImage(set)
}

// NewImage builds an Image from a FileDescriptorSet, filling in missing
// dependencies from protoregistry.GlobalFiles.
func NewImage(set *descriptorpb.FileDescriptorSet) (*Image, error) {
	have := make(map[string]bool, len(set.File))
	var paths []string
	for _, f := range set.File {
		if have[f.GetName()] {
			return nil, fmt.Errorf("file %q appears twice in the descriptor set", f.GetName())
		}
		have[f.GetName()] = true
		paths = append(paths, f.GetName())
	}
	files := slices.Clone(set.File)
	for i := 0; i < len(files); i++ {
		for _, dep := range files[i].GetDependency() {
			if have[dep] {
				continue
			}
			fd, err := protoregistry.GlobalFiles.FindFileByPath(dep)
			if err != nil {
				return nil, fmt.Errorf("%s imports %s, which the descriptor set lacks: build it with its imports (buf build includes them; protoc needs --include_imports)", files[i].GetName(), dep)
			}
			have[dep] = true
			files = append(files, protodesc.ToFileDescriptorProto(fd))
		}
	}
	reg, err := protodesc.NewFiles(&descriptorpb.FileDescriptorSet{File: files})
	if err != nil {
		return nil, err
	}
	slices.Sort(paths)
	return &Image{Files: reg, Paths: paths}, nil
}

// Methods returns the methods declared in the image's own files, file by
// file in path order, then in declaration order.
func (img *Image) Methods() []protoreflect.MethodDescriptor {
	var out []protoreflect.MethodDescriptor
	for _, p := range img.Paths {
		fd, err := img.Files.FindFileByPath(p)
		if err != nil {
			continue
		}
		out = append(out, FileMethods(fd)...)
	}
	return out
}

// FileMethods returns the methods of fd in declaration order.
func FileMethods(fd protoreflect.FileDescriptor) []protoreflect.MethodDescriptor {
	var out []protoreflect.MethodDescriptor
	svcs := fd.Services()
	for i := range svcs.Len() {
		ms := svcs.Get(i).Methods()
		for j := range ms.Len() {
			out = append(out, ms.Get(j))
		}
	}
	return out
}

// Kind names the streaming shape of md: "unary", "client_streaming",
// "server_streaming" or "bidi_streaming".
func Kind(md protoreflect.MethodDescriptor) string {
	switch {
	case md.IsStreamingClient() && md.IsStreamingServer():
		return "bidi_streaming"
	case md.IsStreamingClient():
		return "client_streaming"
	case md.IsStreamingServer():
		return "server_streaming"
	}
	return "unary"
}
