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
	// Checked and recorded under the lock Reconfigure swaps the state
	// under: checked before it, the service could pass against a
	// configuration that a concurrent Reconfigure replaces, unaware of
	// the service, before it is recorded.
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.CheckService(path); err != nil {
		panic(err)
	}
	m.mountLocked(strings.TrimSuffix(strings.TrimPrefix(path, "/"), "/"), "Wrap")
	// The handler serves every procedure of the service, so Reconfigure
	// must keep each one, not only the service's name: a descriptor source
	// from an older build can hold the service without one of them.
	for p := range m.state.Load().entries {
		if strings.HasPrefix(p, path) {
			m.mountLocked(p, "Wrap")
		}
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
		if restPrefix(path, name) {
			return fmt.Errorf("protocors: interceptor Wrap(%q): %s", path, restPrefixHint)
		}
		return fmt.Errorf("protocors: interceptor Wrap(%q): not a Connect service path: want \"/pkg.Service/\" as returned by the generated New...ServiceHandler", path)
	}
	d, err := st.files.FindDescriptorByName(protoreflect.FullName(name))
	if err != nil {
		if restPrefix(path, name) {
			return fmt.Errorf("protocors: interceptor Wrap(%q): %s", path, restPrefixHint)
		}
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

// restPrefixHint names the likely cause when Wrap gets a path that is no
// service's: a REST prefix, such as a grpc-gateway mux's, given to the
// Connect middleware.
const restPrefixHint = "a REST path prefix, not a Connect service path (\"/pkg.Service/\"): the Connect middleware reads Connect procedures, " +
	"so it cannot serve a grpc-gateway (or other google.api.http) mux's routes; put that mux behind the gateway middleware instead: " +
	"mux.Handle(\"/v1/\", gatewayCORS.Handler(gwmux)) with gatewayCORS from gateway.New"

// restPrefix reports whether path, given to Wrap, looks like a REST prefix
// ("/v1/", "/api/v1/") rather than a service path: a service's full name
// has a package, so a dot, and no slash; name is path without its outer
// slashes.
func restPrefix(path, name string) bool {
	return strings.HasPrefix(path, "/") && name != "" && !strings.Contains(name, ".")
}

// Mux is what [Middleware.Mux] takes and returns: anything procedures can
// be registered on one by one, such as *http.ServeMux and connect-go v2's
// connecthttp.ServeMux.
type Mux interface {
	Handle(pattern string, handler http.Handler)
}

// Mux returns a Mux that registers every handler on mux behind the
// middleware, for servers that register one handler per procedure, as
// connect-go v2 does:
//
//	connecthttp.Mount(mw.Mux(mux), server)
//
// Each pattern must be a procedure path, "/pkg.Service/Method", of a method
// in the descriptor source, or a service path, "/pkg.Service/", of a service
// in it (connecthttp.Mount registers one per service for unknown methods).
// Handle panics otherwise, at mount time, for the reasons [Middleware.Wrap]
// does: a procedure whose descriptor cannot be read would get no CORS, and
// every browser call to it would fail.
func (m *Middleware) Mux(mux Mux) Mux {
	return &wrappingMux{m: m, mux: mux}
}

type wrappingMux struct {
	m   *Middleware
	mux Mux
}

func (w *wrappingMux) Handle(pattern string, h http.Handler) {
	w.m.mu.Lock() // as in Wrap: check and record under Reconfigure's lock
	if err := w.m.checkPattern(pattern); err != nil {
		w.m.mu.Unlock()
		panic(err)
	}
	if strings.HasSuffix(pattern, "/") {
		w.m.mountLocked(strings.TrimSuffix(strings.TrimPrefix(pattern, "/"), "/"), "Mux")
	} else {
		w.m.mountLocked(pattern, "Mux")
	}
	w.m.mu.Unlock()
	w.mux.Handle(pattern, w.m.Handler(h))
}

// checkPattern reports why Mux would refuse pattern, nil for a procedure or
// service path of the descriptor source.
func (m *Middleware) checkPattern(pattern string) error {
	i := strings.LastIndexByte(pattern, '/')
	if i <= 0 {
		return fmt.Errorf("protocors: interceptor Mux().Handle(%q): not a Connect procedure path: want \"/pkg.Service/Method\" as connect-go registers", pattern)
	}
	if err := m.CheckService(pattern[:i+1]); err != nil {
		return err
	}
	if i == len(pattern)-1 {
		return nil // the service path
	}
	if m.state.Load().entries[pattern] == nil {
		return fmt.Errorf("protocors: interceptor Mux().Handle(%q): the service is in the descriptor source but has no method %s, so its CORS policy cannot be read: regenerate the Go package of its .proto file, or pass the registry that holds it with protocors.WithFiles", pattern, pattern[i+1:])
	}
	return nil
}
