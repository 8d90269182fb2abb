package inspect_test

import (
	"slices"
	"testing"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/protocors/protocors/internal/inspect"
)

// ReadExtension finds google.api.http however the options arrived: typed,
// as unknown fields (parsed without the extension registered), or as a
// dynamic message.
func TestReadExtension(t *testing.T) {
	rule := &annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: "/v1/x/{id}"}}
	typed := &descriptorpb.MethodOptions{}
	proto.SetExtension(typed, annotations.E_Http, rule)
	b, err := proto.Marshal(typed)
	if err != nil {
		t.Fatal(err)
	}
	unknown := &descriptorpb.MethodOptions{}
	if err := (proto.UnmarshalOptions{Resolver: new(protoregistry.Types)}).Unmarshal(b, unknown); err != nil {
		t.Fatal(err)
	}
	if len(unknown.ProtoReflect().GetUnknown()) == 0 {
		t.Fatal("the extension did not land in unknown fields")
	}
	dynamic := dynamicpb.NewMessage((&descriptorpb.MethodOptions{}).ProtoReflect().Descriptor())
	if err := (proto.UnmarshalOptions{Resolver: new(protoregistry.Types)}).Unmarshal(b, dynamic); err != nil {
		t.Fatal(err)
	}
	for name, opts := range map[string]proto.Message{"typed": typed, "unknown": unknown, "dynamic": dynamic} {
		got := inspect.ReadExtension[*annotations.HttpRule](opts, annotations.E_Http)
		if !proto.Equal(got, rule) {
			t.Errorf("%s: got %v, want %v", name, got, rule)
		}
	}
	if got := inspect.ReadExtension[*annotations.HttpRule](&descriptorpb.MethodOptions{}, annotations.E_Http); got != nil {
		t.Errorf("absent: got %v", got)
	}
	if got := inspect.ReadExtension[*annotations.HttpRule](nil, annotations.E_Http); got != nil {
		t.Errorf("nil options: got %v", got)
	}
}

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
	if got := inspect.ConnectPath(md); got != "/a.v1.S1/B" {
		t.Errorf("ConnectPath = %s", got)
	}
	if ms := img.Methods(); len(ms) != 2 || ms[0].Name() != "A" {
		t.Errorf("Methods = %v", ms)
	}
}
