// Package surfacetest builds pairs of descriptor sets, an API before and
// after a change, for the tests of `protocors diff` and of the buf plugin's
// breaking rule, which must report the same changes.
package surfacetest

import (
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/protocors/protocors/corspb"
)

// FilePath is the path of the file File builds.
const FilePath = "shop/v1/shop.proto"

// File is one .proto file of package shop.v1: its file-level policy and
// its services.
type File struct {
	Policy   *corspb.Policy
	Services []Service
}

// Service is a service and its policy.
type Service struct {
	Name    string
	Policy  *corspb.Policy
	Methods []Method
}

// Method is a unary RPC taking shop.v1.Req and returning shop.v1.Res.
type Method struct {
	Name   string
	Policy *corspb.Policy
	// HTTP is its google.api.http rule; nil for none.
	HTTP *annotations.HttpRule
	// NoSideEffects declares idempotency_level = NO_SIDE_EFFECTS (Connect GET).
	NoSideEffects bool
}

// Imports are the files File's file imports, dependencies first.
func Imports() []*descriptorpb.FileDescriptorProto {
	var out []*descriptorpb.FileDescriptorProto
	seen := map[string]bool{}
	var add func(fd protoreflect.FileDescriptor)
	add = func(fd protoreflect.FileDescriptor) {
		if seen[fd.Path()] {
			return
		}
		seen[fd.Path()] = true
		imps := fd.Imports()
		for i := range imps.Len() {
			add(imps.Get(i).FileDescriptor)
		}
		out = append(out, protodesc.ToFileDescriptorProto(fd))
	}
	for _, p := range []string{"google/api/annotations.proto", "protocors/v1/cors.proto"} {
		fd, err := protoregistry.GlobalFiles.FindFileByPath(p)
		if err != nil {
			panic(err) // the imports of this package register both
		}
		add(fd)
	}
	return out
}

// Proto returns the file's descriptor.
func (f File) Proto() *descriptorpb.FileDescriptorProto {
	fdp := &descriptorpb.FileDescriptorProto{
		Name:       proto.String(FilePath),
		Package:    proto.String("shop.v1"),
		Syntax:     proto.String("proto3"),
		Dependency: []string{"google/api/annotations.proto", "protocors/v1/cors.proto"},
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("Req")}, {Name: proto.String("Res")},
		},
	}
	if f.Policy != nil {
		fdp.Options = &descriptorpb.FileOptions{}
		proto.SetExtension(fdp.Options, corspb.E_File, f.Policy)
	}
	for _, s := range f.Services {
		sdp := &descriptorpb.ServiceDescriptorProto{Name: proto.String(s.Name)}
		if s.Policy != nil {
			sdp.Options = &descriptorpb.ServiceOptions{}
			proto.SetExtension(sdp.Options, corspb.E_Service, s.Policy)
		}
		for _, m := range s.Methods {
			mdp := &descriptorpb.MethodDescriptorProto{
				Name:       proto.String(m.Name),
				InputType:  proto.String(".shop.v1.Req"),
				OutputType: proto.String(".shop.v1.Res"),
			}
			if m.Policy != nil || m.HTTP != nil || m.NoSideEffects {
				mdp.Options = &descriptorpb.MethodOptions{}
			}
			if m.Policy != nil {
				proto.SetExtension(mdp.Options, corspb.E_Method, m.Policy)
			}
			if m.HTTP != nil {
				proto.SetExtension(mdp.Options, annotations.E_Http, m.HTTP)
			}
			if m.NoSideEffects {
				mdp.Options.IdempotencyLevel = descriptorpb.MethodOptions_NO_SIDE_EFFECTS.Enum()
			}
			sdp.Method = append(sdp.Method, mdp)
		}
		fdp.Service = append(fdp.Service, sdp)
	}
	return fdp
}

// Set returns the descriptor set of the file with its imports, as
// `buf build` writes it.
func (f File) Set() *descriptorpb.FileDescriptorSet {
	return &descriptorpb.FileDescriptorSet{File: append(Imports(), f.Proto())}
}

// Get is a GET binding; Post, Put and Delete likewise (Post and Put with
// body "*").
func Get(path string, more ...*annotations.HttpRule) *annotations.HttpRule {
	return &annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: path}, AdditionalBindings: more}
}

// Post is a POST binding with body "*".
func Post(path string, more ...*annotations.HttpRule) *annotations.HttpRule {
	return &annotations.HttpRule{Pattern: &annotations.HttpRule_Post{Post: path}, Body: "*", AdditionalBindings: more}
}

// Delete is a DELETE binding.
func Delete(path string, more ...*annotations.HttpRule) *annotations.HttpRule {
	return &annotations.HttpRule{Pattern: &annotations.HttpRule_Delete{Delete: path}, AdditionalBindings: more}
}
