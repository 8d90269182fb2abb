package protoext_test

import (
	"testing"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/protocors/protocors/internal/protoext"
)

// Read finds google.api.http, a message other than our own, however the options arrived: typed,
// as unknown fields (parsed without the extension registered), or as a
// dynamic message.
func TestRead(t *testing.T) {
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
		got := protoext.Read[*annotations.HttpRule](opts, annotations.E_Http)
		if !proto.Equal(got, rule) {
			t.Errorf("%s: got %v, want %v", name, got, rule)
		}
	}
	if got := protoext.Read[*annotations.HttpRule](&descriptorpb.MethodOptions{}, annotations.E_Http); got != nil {
		t.Errorf("absent: got %v", got)
	}
	if got := protoext.Read[*annotations.HttpRule](nil, annotations.E_Http); got != nil {
		t.Errorf("nil options: got %v", got)
	}
}
