// Package protoext reads protobuf extensions from descriptor options,
// however they arrived. It sits below internal/core (which reads the
// protocors.v1 policies with it) and internal/route (which reads
// google.api.http rules), so that neither depends on the other for it.
package protoext

import (
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// Read returns the value of the message extension xt in options,
// or the zero T when it is absent. It reads the extension however it
// arrived: typed (generated code registered it), as a dynamic message
// (descriptors built at run time with a dynamic resolver), or as unknown
// fields (options parsed without the extension known), by reparsing the
// options with a resolver that knows xt. Repeated occurrences merge, as a
// parser merges them.
func Read[T proto.Message](options proto.Message, xt protoreflect.ExtensionType) T {
	var zero T
	if options == nil || !options.ProtoReflect().IsValid() {
		return zero
	}
	// Set fields: typed, or a dynamic message under another extension type
	// of the same name and number (proto.GetExtension would panic on it).
	xd := xt.TypeDescriptor()
	var out T
	found := false
	options.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if !fd.IsExtension() || fd.Number() != xd.Number() || fd.FullName() != xd.FullName() {
			return true
		}
		found = true
		if t, ok := v.Message().Interface().(T); ok {
			out = t
			return false
		}
		b, err := proto.MarshalOptions{AllowPartial: true}.Marshal(v.Message().Interface())
		t, ok := xt.New().Message().Interface().(T)
		if err == nil && ok && (proto.UnmarshalOptions{AllowPartial: true}).Unmarshal(b, t) == nil {
			out = t
		}
		return false
	})
	if found {
		return out
	}
	// Unknown fields: reparse with a resolver that knows xt. Without any,
	// the extension is absent (most methods of a large API: skip the
	// reparse, which is most of what reading a registry costs).
	if len(options.ProtoReflect().GetUnknown()) == 0 {
		return zero
	}
	b, err := proto.MarshalOptions{AllowPartial: true}.Marshal(options)
	if err != nil || len(b) == 0 {
		return zero
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByName(xt.TypeDescriptor().ContainingMessage().FullName())
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
