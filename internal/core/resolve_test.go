package core_test

import (
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/internal/core"
)

// encoding says how the extensions reach the descriptor, as they do in the
// field: typed (generated code registered corspb), unknown fields (options
// parsed without corspb known), or dynamic messages (a resolver built at run
// time from descriptors).
type encoding int

const (
	typed encoding = iota
	unknown
	dynamic
)

func (e encoding) String() string { return [...]string{"typed", "unknown", "dynamic"}[e] }

// setOption stores p under xt in opts, then re-encodes opts as enc asks.
func setOption[M proto.Message](t testing.TB, opts M, xt protoreflect.ExtensionType, p *corspb.Policy, enc encoding) M {
	t.Helper()
	if p == nil {
		return opts
	}
	proto.SetExtension(opts, xt, p)
	if enc == typed {
		return opts
	}
	b, err := proto.Marshal(opts)
	if err != nil {
		t.Fatal(err)
	}
	out := opts.ProtoReflect().New().Interface().(M)
	var resolver interface {
		protoregistry.ExtensionTypeResolver
		protoregistry.MessageTypeResolver
	} = new(protoregistry.Types)
	if enc == dynamic {
		files := new(protoregistry.Files)
		for _, fd := range []protoreflect.FileDescriptor{descriptorpb.File_google_protobuf_descriptor_proto, corspb.File_protocors_v1_cors_proto} {
			// Rebuild the file from its proto form so nothing generated is reused.
			fdp := protodesc.ToFileDescriptorProto(fd)
			d, err := protodesc.NewFile(fdp, files)
			if err != nil {
				t.Fatal(err)
			}
			if err := files.RegisterFile(d); err != nil {
				t.Fatal(err)
			}
		}
		resolver = dynamicpb.NewTypes(files)
	}
	if err := (proto.UnmarshalOptions{Resolver: resolver}).Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// buildMethods returns the methods of a service "test.v1.Svc" in file
// "test/v1/svc.proto", with the given policies on each scope. Method names
// are the keys of methods.
func buildMethods(t testing.TB, enc encoding, file, service *corspb.Policy, methods map[string]*corspb.Policy) map[string]protoreflect.MethodDescriptor {
	t.Helper()
	fdp := &descriptorpb.FileDescriptorProto{
		Name:        proto.String("test/v1/svc.proto"),
		Package:     proto.String("test.v1"),
		Syntax:      proto.String("proto3"),
		Options:     setOption(t, &descriptorpb.FileOptions{}, corspb.E_File, file, enc),
		MessageType: []*descriptorpb.DescriptorProto{{Name: proto.String("Msg")}},
	}
	sdp := &descriptorpb.ServiceDescriptorProto{
		Name:    proto.String("Svc"),
		Options: setOption(t, &descriptorpb.ServiceOptions{}, corspb.E_Service, service, enc),
	}
	for name, p := range methods {
		sdp.Method = append(sdp.Method, &descriptorpb.MethodDescriptorProto{
			Name:       proto.String(name),
			InputType:  proto.String(".test.v1.Msg"),
			OutputType: proto.String(".test.v1.Msg"),
			Options:    setOption(t, &descriptorpb.MethodOptions{}, corspb.E_Method, p, enc),
		})
	}
	fdp.Service = []*descriptorpb.ServiceDescriptorProto{sdp}
	fd, err := protodesc.NewFile(fdp, protoregistry.GlobalFiles)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]protoreflect.MethodDescriptor)
	ms := fd.Services().Get(0).Methods()
	for i := 0; i < ms.Len(); i++ {
		out[string(ms.Get(i).Name())] = ms.Get(i)
	}
	return out
}

func TestResolve(t *testing.T) {
	t.Parallel()
	for _, enc := range []encoding{typed, unknown, dynamic} {
		t.Run(enc.String(), func(t *testing.T) {
			t.Parallel()
			md := buildMethods(t, enc,
				&corspb.Policy{MaxAgeSeconds: proto.Uint32(300), AllowOrigins: []string{"https://file.example"}},
				&corspb.Policy{AllowOrigins: []string{"https://app.example.com"}, ExposeHeaders: []string{"X-Trace-Id"}},
				map[string]*corspb.Policy{
					"Inherit": nil,
					"Narrow":  {AllowOrigins: []string{"https://admin.example.com"}, AllowCredentials: proto.Bool(true)},
					"Off":     {Enabled: proto.Bool(false)},
					"MaxAge0": {MaxAgeSeconds: proto.Uint32(0)},
				})
			r := &core.Resolver{Default: &corspb.Policy{AllowOrigins: []string{"https://default.example"}, AllowHeaders: []string{"X-Default"}}}

			e := r.Resolve(md["Inherit"])
			if !e.Enabled || e.Policy.GetAllowOrigins()[0] != "https://app.example.com" || e.Policy.GetMaxAgeSeconds() != 300 || e.Policy.GetAllowHeaders()[0] != "X-Default" {
				t.Errorf("Inherit = %v", e.Policy)
			}
			wantSources := map[int]core.Scope{core.FieldAllowOrigins: core.ScopeService, core.FieldMaxAgeSeconds: core.ScopeFile,
				core.FieldAllowHeaders: core.ScopeDefault, core.FieldExposeHeaders: core.ScopeService, core.FieldAllowCredentials: core.ScopeNone}
			for f, s := range wantSources {
				if got := e.Source(f); got != s {
					t.Errorf("Inherit: field %d from %v, want %v", f, got, s)
				}
			}
			if got := e.SourceName(core.FieldAllowOrigins); got != "test.v1.Svc" {
				t.Errorf("SourceName(origins) = %q", got)
			}
			if got := e.SourceName(core.FieldMaxAgeSeconds); got != "test/v1/svc.proto" {
				t.Errorf("SourceName(max age) = %q", got)
			}

			e = r.Resolve(md["Narrow"])
			if o := e.Policy.GetAllowOrigins(); len(o) != 1 || o[0] != "https://admin.example.com" || !e.Policy.GetAllowCredentials() || e.Source(core.FieldAllowOrigins) != core.ScopeMethod {
				t.Errorf("Narrow = %v", e.Policy)
			}
			if e = r.Resolve(md["Off"]); e.Enabled {
				t.Error("Off is enabled")
			}
			if e = r.Resolve(md["MaxAge0"]); e.Policy.MaxAgeSeconds == nil || e.Policy.GetMaxAgeSeconds() != 0 || e.Source(core.FieldMaxAgeSeconds) != core.ScopeMethod {
				t.Errorf("MaxAge0 = %v", e.Policy)
			}
		})
	}
}

func TestResolveNoPolicy(t *testing.T) {
	t.Parallel()
	md := buildMethods(t, typed, nil, nil, map[string]*corspb.Policy{"M": nil})
	e := (&core.Resolver{}).Resolve(md["M"])
	if e.Policy != nil || e.Enabled {
		t.Errorf("no policy anywhere: got %v enabled=%t", e.Policy, e.Enabled)
	}
	e = (&core.Resolver{Default: &corspb.Policy{AllowOrigins: []string{"https://a.example"}}}).Resolve(md["M"])
	if !e.Enabled {
		t.Error("a runtime default policy enables every method")
	}
	// Re-enabling below a disabled scope.
	md = buildMethods(t, unknown, nil, &corspb.Policy{Enabled: proto.Bool(false), AllowOrigins: []string{"https://a.example"}},
		map[string]*corspb.Policy{"On": {Enabled: proto.Bool(true)}, "Off": nil})
	if e := (&core.Resolver{}).Resolve(md["On"]); !e.Enabled {
		t.Error("method re-enabling a disabled service is not enabled")
	}
	if e := (&core.Resolver{}).Resolve(md["Off"]); e.Enabled {
		t.Error("method of a disabled service is enabled")
	}
}
