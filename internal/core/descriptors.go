package core

import (
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// The facts both middlewares and the tools derive from a method descriptor
// live here, so the middleware that serves a route and the command that
// explains it cannot disagree.

// Procedure is md's URL path for Connect, gRPC and gRPC-Web:
// "/package.Service/Method".
func Procedure(md protoreflect.MethodDescriptor) string {
	return "/" + string(md.Parent().FullName()) + "/" + string(md.Name())
}

// ConnectMethods returns the HTTP methods md accepts over Connect, sorted:
// POST, and GET too for a unary method declared idempotency_level =
// NO_SIDE_EFFECTS (Connect GET). Streaming methods are POST only.
func ConnectMethods(md protoreflect.MethodDescriptor) []string {
	if !md.IsStreamingClient() && !md.IsStreamingServer() && idempotency(md) == descriptorpb.MethodOptions_NO_SIDE_EFFECTS {
		return []string{"GET", "POST"}
	}
	return []string{"POST"}
}

// idempotency reads idempotency_level, also from options that are not the
// generated descriptorpb type.
func idempotency(md protoreflect.MethodDescriptor) descriptorpb.MethodOptions_IdempotencyLevel {
	opts := md.Options()
	if opts == nil {
		return descriptorpb.MethodOptions_IDEMPOTENCY_UNKNOWN
	}
	if mo, ok := opts.(*descriptorpb.MethodOptions); ok {
		return mo.GetIdempotencyLevel()
	}
	m := opts.ProtoReflect()
	f := m.Descriptor().Fields().ByNumber(34) // idempotency_level
	if f == nil || !m.Has(f) {
		return descriptorpb.MethodOptions_IDEMPOTENCY_UNKNOWN
	}
	return descriptorpb.MethodOptions_IdempotencyLevel(m.Get(f).Enum())
}
