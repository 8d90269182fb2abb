package interceptor

import (
	"fmt"
	"net/http"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// Wrap puts the middleware in front of one Connect service handler. It takes
// and returns what the generated New...ServiceHandler functions return, so
// mounting stays one line:
//
//	mux.Handle(mw.Wrap(fooconnect.NewFooServiceHandler(svc)))
//
// The path must be a service path, "/pkg.Service/", of a service in the
// descriptor source. Wrap panics otherwise, at mount time, because the
// service's CORS policies could not be read and every browser call would
// fail: import the package generated for the service's .proto file (its init
// registers the descriptor in protoregistry.GlobalFiles), or pass the registry
// that holds it with [WithFiles]. It panics too for a service registered
// after New read the source. [Middleware.CheckService] reports the same
// problems as an error, for callers that would rather not panic.
func (m *Middleware) Wrap(path string, h http.Handler) (string, http.Handler) {
	if err := m.CheckService(path); err != nil {
		panic(err)
	}
	return path, m.Handler(h)
}

// CheckService reports, as an error, why [Middleware.Wrap] would panic for
// path, or nil when path is "/pkg.Service/" for a service New found in the
// descriptor source.
func (m *Middleware) CheckService(path string) error {
	st := m.state.Load()
	name := strings.TrimSuffix(strings.TrimPrefix(path, "/"), "/")
	if !strings.HasPrefix(path, "/") || !strings.HasSuffix(path, "/") || name == "" || !protoreflect.FullName(name).IsValid() {
		return fmt.Errorf("protocors: interceptor Wrap(%q): not a Connect service path: want \"/pkg.Service/\" as returned by the generated New...ServiceHandler", path)
	}
	d, err := st.files.FindDescriptorByName(protoreflect.FullName(name))
	if err != nil {
		return fmt.Errorf("protocors: interceptor Wrap(%q): service %s is not in the descriptor source, so its CORS policies cannot be read: import the Go package generated for its .proto file (its init registers the descriptor in protoregistry.GlobalFiles), or pass the registry that holds it with protocors.WithFiles", path, name)
	}
	if _, ok := d.(protoreflect.ServiceDescriptor); !ok {
		return fmt.Errorf("protocors: interceptor Wrap(%q): %s in the descriptor source is not a service", path, name)
	}
	if !st.services[protoreflect.FullName(name)] {
		return fmt.Errorf("protocors: interceptor Wrap(%q): service %s was registered in the descriptor source after interceptor.New read it, so its CORS policies were not read: call interceptor.New after every generated package is initialized and every file is registered", path, name)
	}
	return nil
}
