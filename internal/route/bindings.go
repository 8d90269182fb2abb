package route

import (
	"net/http"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/protocors/protocors/internal/protoext"
)

// Binding is one google.api.http binding of an RPC.
type Binding struct {
	// Method is the HTTP method: GET, PUT, POST, DELETE, PATCH, or a custom
	// pattern's kind as written (protoc-gen-grpc-gateway does not change
	// its case either).
	Method string `json:"method"`
	// Path is the path template as written, custom verb included.
	Path string `json:"path"`
	// Body is the rule's body field: "" (no body), "*", or a field name.
	Body string `json:"body,omitempty"`
}

// Bindings returns md's google.api.http bindings: the rule's own, then its
// additional_bindings (one level deep, as transcoders read them), in the
// order the generated Register functions call Handle. The rule is read
// however it arrived (typed, dynamic or as unknown fields).
func Bindings(md protoreflect.MethodDescriptor) []Binding {
	rule := protoext.Read[*annotations.HttpRule](md.Options(), annotations.E_Http)
	if rule == nil {
		return nil
	}
	var out []Binding
	for _, r := range append([]*annotations.HttpRule{rule}, rule.GetAdditionalBindings()...) {
		var b Binding
		switch p := r.GetPattern().(type) {
		case *annotations.HttpRule_Get:
			b = Binding{Method: http.MethodGet, Path: p.Get}
		case *annotations.HttpRule_Put:
			b = Binding{Method: http.MethodPut, Path: p.Put}
		case *annotations.HttpRule_Post:
			b = Binding{Method: http.MethodPost, Path: p.Post}
		case *annotations.HttpRule_Delete:
			b = Binding{Method: http.MethodDelete, Path: p.Delete}
		case *annotations.HttpRule_Patch:
			b = Binding{Method: http.MethodPatch, Path: p.Patch}
		case *annotations.HttpRule_Custom:
			b = Binding{Method: p.Custom.GetKind(), Path: p.Custom.GetPath()}
		}
		if b.Method == "" || b.Path == "" {
			continue
		}
		b.Body = r.GetBody()
		out = append(out, b)
	}
	return out
}
