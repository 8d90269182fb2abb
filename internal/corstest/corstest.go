// Package corstest holds the test helpers that the tests of several
// packages share: what a browser sends (preflights), a ResponseWriter for
// benchmarks, and descriptor registries built at run time, as servers that
// load descriptor sets build them.
package corstest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// API is the origin requests built from a bare path are sent to.
const API = "https://api.example.com"

// PreflightHeaders are the headers of a browser's preflight from origin
// for method: Origin, Access-Control-Request-Method and, when
// requestHeaders holds a non-empty name, Access-Control-Request-Headers
// (the names joined with ", ").
func PreflightHeaders(origin, method string, requestHeaders ...string) map[string]string {
	h := map[string]string{"Origin": origin, "Access-Control-Request-Method": method}
	var names []string
	for _, n := range requestHeaders {
		if n != "" {
			names = append(names, n)
		}
	}
	if len(names) > 0 {
		h["Access-Control-Request-Headers"] = strings.Join(names, ", ")
	}
	return h
}

// Preflight returns a browser's preflight (see [PreflightHeaders]) to
// target, a URL or a path on [API].
func Preflight(target, origin, method string, requestHeaders ...string) *http.Request {
	if strings.HasPrefix(target, "/") {
		target = API + target
	}
	r := httptest.NewRequest(http.MethodOptions, target, nil)
	for k, v := range PreflightHeaders(origin, method, requestHeaders...) {
		r.Header.Set(k, v)
	}
	return r
}

// Record serves r with h and returns what h wrote.
func Record(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// DiscardWriter is a ResponseWriter for benchmarks: it hands out the
// header map H and records nothing else. Give each response a new map, as
// net/http does ([NewDiscardWriter]), or reuse one on purpose.
type DiscardWriter struct{ H http.Header }

// NewDiscardWriter returns a DiscardWriter with an empty header map.
func NewDiscardWriter() *DiscardWriter { return &DiscardWriter{H: make(http.Header)} }

func (w *DiscardWriter) Header() http.Header         { return w.H }
func (w *DiscardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *DiscardWriter) WriteHeader(int)             {}

// Files builds fdps, in order, into a registry of their own, as a server
// loading descriptors at run time does. The files they import are taken
// from protoregistry.GlobalFiles (with their own imports), where generated
// code registered them.
func Files(t testing.TB, fdps ...*descriptorpb.FileDescriptorProto) *protoregistry.Files {
	t.Helper()
	files := new(protoregistry.Files)
	for _, fdp := range fdps {
		for _, dep := range fdp.GetDependency() {
			if _, err := files.FindFileByPath(dep); err == nil {
				continue // one of fdps
			}
			fd, err := protoregistry.GlobalFiles.FindFileByPath(dep)
			if err != nil {
				t.Fatalf("%s imports %s: %v", fdp.GetName(), dep, err)
			}
			register(t, files, fd)
		}
		fd, err := protodesc.NewFile(fdp, files)
		if err != nil {
			t.Fatal(err)
		}
		if err := files.RegisterFile(fd); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// Registry returns a registry holding fds (generated files, say) and what
// they import, nothing else: a descriptor source narrower than
// protoregistry.GlobalFiles.
func Registry(t testing.TB, fds ...protoreflect.FileDescriptor) *protoregistry.Files {
	t.Helper()
	files := new(protoregistry.Files)
	for _, fd := range fds {
		register(t, files, fd)
	}
	return files
}

// register adds fd to files after what it imports, each file once.
func register(t testing.TB, files *protoregistry.Files, fd protoreflect.FileDescriptor) {
	t.Helper()
	if _, err := files.FindFileByPath(fd.Path()); err == nil {
		return
	}
	for i := range fd.Imports().Len() {
		register(t, files, fd.Imports().Get(i).FileDescriptor)
	}
	if err := files.RegisterFile(fd); err != nil {
		t.Fatal(err)
	}
}
