package conformance

import (
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/protocors/protocors/corspb"
)

// Paths of the routes in the generated descriptor, per side.
const (
	ConnectRPC      = "/conformance.v1.CaseService/Rpc"
	ConnectNoPolicy = "/conformance.v1.OtherService/Plain"
	ConnectUnknown  = "/conformance.v1.Nope/Nope"
	GatewayRPC      = "/v1/things/1"
	GatewayNoPolicy = "/v1/plain/1"
	GatewayUnknown  = "/v1/nothing/here"
)

// Files builds the registry a user's generated code would give for the case:
// conformance.v1.CaseService carries the policy (on the service, or on each
// method), with an RPC "Rpc" for Connect (NO_SIDE_EFFECTS when the case
// binds GET) and one RPC per bound method with a google.api.http rule on
// /v1/things/{id}; conformance.v1.OtherService has no policy. When
// unknownFields is set, the options are re-parsed without the protocors
// extension known, as happens with descriptors loaded at run time.
func Files(tb testing.TB, c *Case, methodScope, unknownFields bool) *protoregistry.Files {
	tb.Helper()
	pol := &corspb.Policy{
		AllowOrigins:  c.Policy.Origins,
		AllowHeaders:  c.Policy.AllowHeaders,
		ExposeHeaders: c.Policy.ExposeHeaders,
		MaxAgeSeconds: c.Policy.MaxAge,
	}
	if c.Policy.Credentials {
		pol.AllowCredentials = proto.Bool(true)
	}
	opt := func(m proto.Message, xt protoreflect.ExtensionType, p *corspb.Policy) {
		proto.SetExtension(m, xt, p)
		if !unknownFields {
			return
		}
		b, err := proto.Marshal(m)
		if err != nil {
			tb.Fatal(err)
		}
		proto.Reset(m)
		// Only google.api.http stays known: the protocors extension becomes unknown fields.
		types := new(protoregistry.Types)
		_ = types.RegisterExtension(annotations.E_Http)
		if err := (proto.UnmarshalOptions{Resolver: types}).Unmarshal(b, m); err != nil {
			tb.Fatal(err)
		}
	}
	method := func(name string, nse bool, rule *annotations.HttpRule, p *corspb.Policy) *descriptorpb.MethodDescriptorProto {
		o := &descriptorpb.MethodOptions{}
		if nse {
			o.IdempotencyLevel = descriptorpb.MethodOptions_NO_SIDE_EFFECTS.Enum()
		}
		if rule != nil {
			proto.SetExtension(o, annotations.E_Http, rule)
		}
		if p != nil {
			opt(o, corspb.E_Method, p)
		}
		return &descriptorpb.MethodDescriptorProto{
			Name: proto.String(name), InputType: proto.String(".conformance.v1.Msg"), OutputType: proto.String(".conformance.v1.Msg"), Options: o,
		}
	}
	var methodPolicy *corspb.Policy
	caseSvc := &descriptorpb.ServiceDescriptorProto{Name: proto.String("CaseService"), Options: &descriptorpb.ServiceOptions{}}
	if methodScope {
		methodPolicy = pol
	} else {
		opt(caseSvc.Options, corspb.E_Service, pol)
	}
	hasGET := false
	for _, m := range c.Policy.Methods {
		hasGET = hasGET || m == "GET"
	}
	caseSvc.Method = append(caseSvc.Method, method("Rpc", hasGET, nil, methodPolicy))
	for _, m := range c.Policy.Methods {
		caseSvc.Method = append(caseSvc.Method, method("Rpc"+strings.ToUpper(m[:1])+strings.ToLower(m[1:]), false, rule(m, "/v1/things/{id}"), methodPolicy))
	}
	otherSvc := &descriptorpb.ServiceDescriptorProto{Name: proto.String("OtherService")}
	otherSvc.Method = append(otherSvc.Method, method("Plain", hasGET, nil, nil))
	for _, m := range c.Policy.Methods {
		otherSvc.Method = append(otherSvc.Method, method("Plain"+strings.ToUpper(m[:1])+strings.ToLower(m[1:]), false, rule(m, "/v1/plain/{id}"), nil))
	}
	if c.Request.PathKind == "rpc_shared_path" {
		otherSvc.Method = append(otherSvc.Method, method("DeleteThing", false, rule("DELETE", "/v1/things/{id}"), nil))
	}
	fdp := &descriptorpb.FileDescriptorProto{
		Name:        proto.String("conformance/v1/case.proto"),
		Package:     proto.String("conformance.v1"),
		Syntax:      proto.String("proto3"),
		Dependency:  []string{"google/api/annotations.proto", "protocors/v1/cors.proto"},
		MessageType: []*descriptorpb.DescriptorProto{{Name: proto.String("Msg")}},
		Service:     []*descriptorpb.ServiceDescriptorProto{caseSvc, otherSvc},
	}
	files := new(protoregistry.Files)
	for _, fd := range []protoreflect.FileDescriptor{
		descriptorpb.File_google_protobuf_descriptor_proto,
		annotations.File_google_api_http_proto,
		annotations.File_google_api_annotations_proto,
		corspb.File_protocors_v1_cors_proto,
	} {
		if err := files.RegisterFile(fd); err != nil {
			tb.Fatal(err)
		}
	}
	fd, err := protodesc.NewFile(fdp, files)
	if err != nil {
		tb.Fatal(err)
	}
	if err := files.RegisterFile(fd); err != nil {
		tb.Fatal(err)
	}
	return files
}

func rule(method, path string) *annotations.HttpRule {
	r := &annotations.HttpRule{}
	switch method {
	case "GET":
		r.Pattern = &annotations.HttpRule_Get{Get: path}
	case "PUT":
		r.Pattern = &annotations.HttpRule_Put{Put: path}
		r.Body = "*"
	case "POST":
		r.Pattern = &annotations.HttpRule_Post{Post: path}
		r.Body = "*"
	case "DELETE":
		r.Pattern = &annotations.HttpRule_Delete{Delete: path}
	case "PATCH":
		r.Pattern = &annotations.HttpRule_Patch{Patch: path}
		r.Body = "*"
	default:
		r.Pattern = &annotations.HttpRule_Custom{Custom: &annotations.CustomHttpPattern{Kind: method, Path: path}}
	}
	return r
}
