package inspect_test

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/protocors/protocors/internal/core"
	"github.com/protocors/protocors/internal/inspect"
)

func TestPolicyPath(t *testing.T) {
	set := &descriptorpb.FileDescriptorSet{File: []*descriptorpb.FileDescriptorProto{{
		Name:        proto.String("a/v1/a.proto"),
		Package:     proto.String("a.v1"),
		Syntax:      proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{{Name: proto.String("M")}},
		Service: []*descriptorpb.ServiceDescriptorProto{{Name: proto.String("S0")}, {
			Name: proto.String("S1"),
			Method: []*descriptorpb.MethodDescriptorProto{
				{Name: proto.String("A"), InputType: proto.String(".a.v1.M"), OutputType: proto.String(".a.v1.M")},
				{Name: proto.String("B"), InputType: proto.String(".a.v1.M"), OutputType: proto.String(".a.v1.M"), ClientStreaming: proto.Bool(true)},
			},
		}},
	}}}
	img, err := inspect.NewImage(set)
	if err != nil {
		t.Fatal(err)
	}
	fd, _ := img.Files.FindFileByPath("a/v1/a.proto")
	md := fd.Services().Get(1).Methods().Get(1)
	tests := []struct {
		d     protoreflect.Descriptor
		field string
		want  protoreflect.SourcePath
	}{
		{fd, "max_age_seconds", protoreflect.SourcePath{8, 57380, 6}},
		{fd.Services().Get(1), "allow_origins[3]", protoreflect.SourcePath{6, 1, 3, 57381, 2, 3}},
		{md, "expose_headers[0]", protoreflect.SourcePath{6, 1, 2, 1, 4, 57382, 4, 0}},
		{md, "allow_origin_sets[1]", protoreflect.SourcePath{6, 1, 2, 1, 4, 57382, 7, 1}},
		{md, "", protoreflect.SourcePath{6, 1, 2, 1, 4, 57382}},
	}
	for _, tt := range tests {
		if got := inspect.PolicyPath(tt.d, tt.field); !slices.Equal(got, tt.want) {
			t.Errorf("PolicyPath(%s, %q) = %v, want %v", tt.d.FullName(), tt.field, got, tt.want)
		}
	}
	if got := inspect.Kind(md); got != "client_streaming" {
		t.Errorf("Kind = %s", got)
	}
	if got := core.Procedure(md); got != "/a.v1.S1/B" {
		t.Errorf("Procedure = %s", got)
	}
	if got := core.ConnectMethods(md); !slices.Equal(got, []string{"POST"}) {
		t.Errorf("ConnectMethods = %v", got)
	}
	if ms := img.Methods(); len(ms) != 2 || ms[0].Name() != "A" {
		t.Errorf("Methods = %v", ms)
	}
}
