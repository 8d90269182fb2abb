package gateway_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/gateway"
	testv1 "github.com/protocors/protocors/internal/gen/protocors/test/v1"
)

// Review of the shared request path: findings of a second attacker's look.

// filesOf returns a registry holding fds and what they import.
func filesOf(t *testing.T, fds ...protoreflect.FileDescriptor) *protoregistry.Files {
	t.Helper()
	files := new(protoregistry.Files)
	var add func(fd protoreflect.FileDescriptor)
	add = func(fd protoreflect.FileDescriptor) {
		if _, err := files.FindFileByPath(fd.Path()); err == nil {
			return
		}
		for i := 0; i < fd.Imports().Len(); i++ {
			add(fd.Imports().Get(i).FileDescriptor)
		}
		if err := files.RegisterFile(fd); err != nil {
			t.Fatal(err)
		}
	}
	for _, fd := range fds {
		add(fd)
	}
	return files
}

// The gateway's Reconfigure accepted a configuration without routes the
// running one served (a descriptor source lacking a service, a WithRoute
// left out). The mux cannot unregister a handler, so it kept serving those
// routes, and the middleware, which no longer knew them, let a cross-site
// text/plain POST run CreateGadget, whose policy allows only
// https://admin.example.com. The interceptor refuses the same mistake for
// the services mounted with Wrap.
func TestReconfigureKeepsRoutes(t *testing.T) {
	mw, err := gateway.New() // every test service, from GlobalFiles
	if err != nil {
		t.Fatal(err)
	}
	h := mw.Handler(gatewayMux(t))
	attack := func() int {
		r := httptest.NewRequest("POST", "https://api.example.com/v1/gadgets/g1", strings.NewReader(`{"name":"g1"}`))
		r.Header.Set("Origin", evil)
		r.Header.Set("Sec-Fetch-Site", "cross-site")
		r.Header.Set("Content-Type", "text/plain")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	if got := attack(); got != http.StatusForbidden {
		t.Fatalf("before Reconfigure: %d, want 403", got)
	}
	// test.proto and nopolicy.proto, without gateway.proto's GadgetService.
	err = mw.Reconfigure(protocors.WithFiles(filesOf(t, testv1.File_protocors_test_v1_test_proto, testv1.File_protocors_test_v1_nopolicy_proto)))
	var cfgErr *protocors.Error
	if !errors.As(err, &cfgErr) {
		t.Errorf("Reconfigure without served routes: %v, want a *protocors.Error", err)
	} else {
		for _, want := range []string{
			"protocors.test.v1.GadgetService.CreateGadget: google.api.http \"POST /v1/gadgets/{name}\": ",
			"protocors.test.v1.GadgetService.SearchGadgets: google.api.http \"GET /v1/gadgets:search\": ",
		} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error does not name %q:\n%v", want, err)
			}
		}
	}
	if got := attack(); got != http.StatusForbidden {
		t.Errorf("after Reconfigure: %d, want 403", got)
	}
	// A Reconfigure that keeps every route (and adds one) is fine.
	if err := mw.Reconfigure(gateway.WithRoute("POST", "/v1/extra", nil)); err != nil {
		t.Errorf("Reconfigure keeping every route: %v", err)
	}
	// A WithRoute left out is a dropped route too.
	if err := mw.Reconfigure(); err == nil || !strings.Contains(err.Error(), "gateway.WithRoute POST /v1/extra") {
		t.Errorf("Reconfigure without a WithRoute route: %v", err)
	}
}
