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
	"strings"

	"google.golang.org/genproto/googleapis/api/annotations"
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

// ConnectPath is the URL path of md for Connect, gRPC and gRPC-Web:
// /package.Service/Method.
func ConnectPath(md protoreflect.MethodDescriptor) string {
	return "/" + string(md.Parent().FullName()) + "/" + string(md.Name())
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

// ConnectMethods returns the HTTP methods md accepts over Connect: POST,
// and GET too for a unary method with idempotency_level NO_SIDE_EFFECTS
// (Connect GET). Sorted.
func ConnectMethods(md protoreflect.MethodDescriptor) []string {
	if !md.IsStreamingClient() && !md.IsStreamingServer() && idempotency(md) == descriptorpb.MethodOptions_NO_SIDE_EFFECTS {
		return []string{"GET", "POST"}
	}
	return []string{"POST"}
}

func idempotency(md protoreflect.MethodDescriptor) descriptorpb.MethodOptions_IdempotencyLevel {
	opts := md.Options()
	if opts == nil {
		return descriptorpb.MethodOptions_IDEMPOTENCY_UNKNOWN
	}
	if mo, ok := opts.(*descriptorpb.MethodOptions); ok {
		return mo.GetIdempotencyLevel()
	}
	// Dynamic options: read the field by number.
	m := opts.ProtoReflect()
	f := m.Descriptor().Fields().ByNumber(34) // idempotency_level
	if f == nil || !m.Has(f) {
		return descriptorpb.MethodOptions_IDEMPOTENCY_UNKNOWN
	}
	return descriptorpb.MethodOptions_IdempotencyLevel(m.Get(f).Enum())
}

// Route is one google.api.http binding of an RPC.
type Route struct {
	// Method is the HTTP method: GET, PUT, POST, DELETE, PATCH, or the kind
	// of a custom pattern.
	Method string `json:"method"`
	// Path is the path template as written, custom verb included.
	Path string `json:"path"`
	// Body is the rule's body field: "" (no body), "*", or a field name.
	Body string `json:"body,omitempty"`
}

// Routes returns the google.api.http bindings of md: the rule's own, then
// its additional_bindings (one level deep, as transcoders read them).
func Routes(md protoreflect.MethodDescriptor) []Route {
	rule := ReadExtension[*annotations.HttpRule](md.Options(), annotations.E_Http)
	if rule == nil {
		return nil
	}
	var out []Route
	add := func(r *annotations.HttpRule) {
		var route Route
		switch p := r.GetPattern().(type) {
		case *annotations.HttpRule_Get:
			route = Route{Method: "GET", Path: p.Get}
		case *annotations.HttpRule_Put:
			route = Route{Method: "PUT", Path: p.Put}
		case *annotations.HttpRule_Post:
			route = Route{Method: "POST", Path: p.Post}
		case *annotations.HttpRule_Delete:
			route = Route{Method: "DELETE", Path: p.Delete}
		case *annotations.HttpRule_Patch:
			route = Route{Method: "PATCH", Path: p.Patch}
		case *annotations.HttpRule_Custom:
			route = Route{Method: strings.ToUpper(p.Custom.GetKind()), Path: p.Custom.GetPath()}
		default:
			return
		}
		route.Body = r.GetBody()
		out = append(out, route)
	}
	add(rule)
	for _, b := range rule.GetAdditionalBindings() {
		add(b)
	}
	return out
}

// ReadExtension returns the value of the message extension xt in options,
// or the zero T when it is absent. It reads the extension however it
// arrived: typed (generated code registered it), as a dynamic message, or
// as unknown fields, by reparsing the options with a resolver that knows
// xt.
func ReadExtension[T proto.Message](options proto.Message, xt protoreflect.ExtensionType) T {
	var zero T
	if options == nil {
		return zero
	}
	m := options.ProtoReflect()
	if !m.IsValid() {
		return zero
	}
	if proto.HasExtension(options, xt) {
		if v, ok := proto.GetExtension(options, xt).(T); ok {
			return v
		}
	}
	b, err := proto.MarshalOptions{AllowPartial: true}.Marshal(options)
	if err != nil {
		return zero
	}
	containing := xt.TypeDescriptor().ContainingMessage().FullName()
	mt, err := protoregistry.GlobalTypes.FindMessageByName(containing)
	if err != nil {
		return zero
	}
	types := new(protoregistry.Types)
	if err := types.RegisterExtension(xt); err != nil {
		return zero
	}
	fresh := mt.New().Interface()
	if err := (proto.UnmarshalOptions{Resolver: types, AllowPartial: true}).Unmarshal(b, fresh); err != nil {
		return zero
	}
	if !proto.HasExtension(fresh, xt) {
		return zero
	}
	v, _ := proto.GetExtension(fresh, xt).(T)
	return v
}
