package interceptor_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/interceptor"
	"github.com/protocors/protocors/internal/corstest"
)

// setsFiles builds, at run time, file sets/v1/sets.proto with the given
// file policy, and services A (policy a) and B (policy b), each with
// methods Call (policy call) and Other (no method policy).
func setsFiles(t *testing.T, file, a, b, call *corspb.Policy) *protoregistry.Files {
	t.Helper()
	fo := &descriptorpb.FileOptions{}
	if file != nil {
		proto.SetExtension(fo, corspb.E_File, file)
	}
	svc := func(name string, p *corspb.Policy) *descriptorpb.ServiceDescriptorProto {
		so := &descriptorpb.ServiceOptions{}
		if p != nil {
			proto.SetExtension(so, corspb.E_Service, p)
		}
		mo := &descriptorpb.MethodOptions{}
		if call != nil {
			proto.SetExtension(mo, corspb.E_Method, call)
		}
		m := func(name string, o *descriptorpb.MethodOptions) *descriptorpb.MethodDescriptorProto {
			return &descriptorpb.MethodDescriptorProto{Name: proto.String(name), InputType: proto.String(".sets.v1.Msg"), OutputType: proto.String(".sets.v1.Msg"), Options: o}
		}
		return &descriptorpb.ServiceDescriptorProto{Name: proto.String(name), Options: so, Method: []*descriptorpb.MethodDescriptorProto{m("Call", mo), m("Other", nil)}}
	}
	fdp := &descriptorpb.FileDescriptorProto{
		Name: proto.String("sets/v1/sets.proto"), Package: proto.String("sets.v1"), Syntax: proto.String("proto3"),
		Dependency:  []string{"protocors/v1/cors.proto"},
		Options:     fo,
		MessageType: []*descriptorpb.DescriptorProto{{Name: proto.String("Msg")}},
		Service:     []*descriptorpb.ServiceDescriptorProto{svc("A", a), svc("B", b)},
	}
	return corstest.Files(t, fdp)
}

// grants reports whether a preflight from origin to procedure is granted.
func grants(h http.Handler, procedure, origin string) bool {
	r := httptest.NewRequest(http.MethodOptions, procedure, nil)
	r.Header.Set("Origin", origin)
	r.Header.Set("Access-Control-Request-Method", "POST")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code == http.StatusNoContent && w.Header().Get("Access-Control-Allow-Origin") == origin
}

const (
	adminOrigin  = "https://admin.example.com"
	publicOrigin = "https://www.example.com"
)

func sets(names ...string) *corspb.Policy { return &corspb.Policy{AllowOriginSets: names} }
func lits(origins ...string) *corspb.Policy {
	return &corspb.Policy{AllowOrigins: origins}
}

// TestOriginSets: sets bound at run time and named at each scope, merged
// with allow_origins as one group.
func TestOriginSets(t *testing.T) {
	bind := protocors.WithOptions(protocors.WithOriginSet("admin", adminOrigin), protocors.WithOriginSet("public", publicOrigin))
	tests := []struct {
		name             string
		file, a, b, call *corspb.Policy
		// want[procedure] = origins granted among admin and public
		want map[string][]string
	}{
		{name: "file scope", file: sets("admin"),
			want: map[string][]string{"/sets.v1.A/Other": {adminOrigin}, "/sets.v1.B/Call": {adminOrigin}}},
		{name: "service scope", a: sets("admin", "public"), b: sets("public"),
			want: map[string][]string{"/sets.v1.A/Other": {adminOrigin, publicOrigin}, "/sets.v1.B/Other": {publicOrigin}}},
		{name: "method scope", a: lits(publicOrigin), call: sets("admin"),
			want: map[string][]string{"/sets.v1.A/Call": {adminOrigin}, "/sets.v1.A/Other": {publicOrigin}}},
		{name: "a method's set replaces its service's literal origins", a: lits(publicOrigin), call: sets("admin"),
			want: map[string][]string{"/sets.v1.A/Call": {adminOrigin}}},
		{name: "a method's literal origins replace its service's set", a: sets("admin"), call: lits(publicOrigin),
			want: map[string][]string{"/sets.v1.A/Call": {publicOrigin}, "/sets.v1.A/Other": {adminOrigin}}},
		{name: "literal origins and sets together", a: &corspb.Policy{AllowOrigins: []string{publicOrigin}, AllowOriginSets: []string{"admin"}},
			want: map[string][]string{"/sets.v1.A/Other": {adminOrigin, publicOrigin}}},
		{name: "the default's origins are replaced by a set", file: sets("admin"),
			want: map[string][]string{"/sets.v1.A/Call": {adminOrigin}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mw, err := interceptor.New(protocors.WithFiles(setsFiles(t, tt.file, tt.a, tt.b, tt.call)), bind, protocors.WithOrigins("https://default.example.com"))
			if err != nil {
				t.Fatal(err)
			}
			h := mw.Handler(reached)
			for proc, want := range tt.want {
				for _, o := range []string{adminOrigin, publicOrigin} {
					if got := grants(h, proc, o); got != (strings.Contains(strings.Join(want, " "), o)) {
						t.Errorf("%s from %s: granted %t, want origins %v", proc, o, got, want)
					}
				}
			}
		})
	}
}

func TestOriginSetProblems(t *testing.T) {
	tests := []struct {
		name string
		a    *corspb.Policy
		opts []interceptor.Option
		want []string
		kind protocors.Kind
	}{
		{"unbound set", sets("admin"), nil,
			[]string{`protocors: sets.v1.A.Call: allow_origin_sets[0] "admin": origin set "admin" (named by sets.v1.A) is not bound: give its origins at run time with protocors.WithOriginSet("admin", origins...)`},
			protocors.KindOriginSet},
		{"bad set name", sets("Admin Console"), nil,
			[]string{`protocors: sets.v1.A: allow_origin_sets[0] "Admin Console": not an origin set name`}, protocors.KindOriginSet},
		{"bad member", sets("admin"), []interceptor.Option{protocors.WithOriginSet("admin", adminOrigin, "https://admin.example.com/")},
			[]string{`protocors: protocors.WithOriginSet("admin"): origins[1] "https://admin.example.com/": has a path or trailing slash`}, protocors.KindOrigin},
		{"bad binding name", lits(publicOrigin), []interceptor.Option{protocors.WithOriginSet("", adminOrigin)},
			[]string{`protocors: protocors.WithOriginSet(""): not an origin set name`}, protocors.KindOption},
		{"a member with credentials", &corspb.Policy{AllowOriginSets: []string{"any"}, AllowCredentials: proto.Bool(true)},
			[]interceptor.Option{protocors.WithOriginSet("any", "*")},
			[]string{`protocors: sets.v1.A: allow_origin_sets[0] "*": "*" cannot be used with allow_credentials: browsers refuse it; list the origins [member of origin set "any", bound with protocors.WithOriginSet]`},
			protocors.KindCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := interceptor.New(append(tt.opts, protocors.WithFiles(setsFiles(t, nil, tt.a, nil, nil)))...)
			var cfg *protocors.Error
			if !errors.As(err, &cfg) {
				t.Fatalf("New: %v, want a *protocors.Error", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%s\nlacks\n%s", err, w)
				}
			}
			found := false
			for _, p := range cfg.Problems {
				found = found || p.Kind == tt.kind
			}
			if !found {
				t.Errorf("no problem of kind %v in %v", tt.kind, err)
			}
		})
	}
	// A disabled RPC may name a set nobody binds.
	if _, err := interceptor.New(protocors.WithFiles(setsFiles(t, nil, &corspb.Policy{AllowOriginSets: []string{"admin"}, Enabled: proto.Bool(false)}, nil, nil))); err != nil {
		t.Errorf("disabled RPC naming an unbound set: %v", err)
	}
}

// TestReconfigureUnderLoad swaps between two configurations that change
// the origin and the max age together while requests run: every answer
// must belong to one configuration.
func TestReconfigureUnderLoad(t *testing.T) {
	files := setsFiles(t, nil, nil, nil, nil)
	config := func(i int) []interceptor.Option {
		return []interceptor.Option{
			protocors.WithFiles(files),
			protocors.WithOriginSet("console", fmt.Sprintf("https://c%d.example.com", i%2)),
			protocors.WithDefaultPolicy(&corspb.Policy{AllowOriginSets: []string{"console"}, MaxAgeSeconds: proto.Uint32(uint32(100 + i%2))}),
		}
	}
	mw, err := interceptor.New(config(0)...)
	if err != nil {
		t.Fatal(err)
	}
	h := mw.Handler(reached)
	var stop atomic.Bool
	var wg sync.WaitGroup
	var granted [2]atomic.Int64
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				origin := fmt.Sprintf("https://c%d.example.com", i%2)
				r := httptest.NewRequest(http.MethodOptions, "/sets.v1.A/Call", nil)
				r.Header.Set("Origin", origin)
				r.Header.Set("Access-Control-Request-Method", "POST")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusNoContent {
					continue
				}
				if got, want := w.Header().Get("Access-Control-Max-Age"), fmt.Sprint(100+i%2); got != want {
					t.Errorf("origin %s granted with max age %s, want %s: two configurations mixed", origin, got, want)
					return
				}
				granted[i%2].Add(1)
			}
		}()
	}
	// Swap for a while, and until both configurations have served.
	start := time.Now()
	for i := 1; time.Since(start) < 200*time.Millisecond || (granted[0].Load() == 0 || granted[1].Load() == 0) && time.Since(start) < 5*time.Second; i++ {
		if err := mw.Reconfigure(config(i)...); err != nil {
			t.Fatal(err)
		}
		runtime.Gosched()
	}
	stop.Store(true)
	wg.Wait()
	if granted[0].Load() == 0 || granted[1].Load() == 0 {
		t.Errorf("granted %d and %d preflights: the swaps were not seen", granted[0].Load(), granted[1].Load())
	}
}

// TestReconfigureFailureKeepsState: a configuration New would refuse is
// refused with New's error, and the old one keeps serving.
func TestReconfigureFailureKeepsState(t *testing.T) {
	files := setsFiles(t, nil, sets("console"), nil, nil)
	mw, err := interceptor.New(protocors.WithFiles(files), protocors.WithOriginSet("console", adminOrigin))
	if err != nil {
		t.Fatal(err)
	}
	bad := []interceptor.Option{protocors.WithFiles(files), protocors.WithOriginSet("console", publicOrigin, "https://*.com")}
	err = mw.Reconfigure(bad...)
	_, newErr := interceptor.New(bad...)
	if err == nil || newErr == nil || err.Error() != newErr.Error() {
		t.Fatalf("Reconfigure: %v; New: %v; want the same error", err, newErr)
	}
	h := mw.Handler(reached)
	if !grants(h, "/sets.v1.A/Call", adminOrigin) || grants(h, "/sets.v1.A/Call", publicOrigin) {
		t.Error("a failed Reconfigure changed what is served")
	}
	if err := mw.Reconfigure(protocors.WithFiles(files), protocors.WithOriginSet("console", publicOrigin)); err != nil {
		t.Fatal(err)
	}
	if grants(h, "/sets.v1.A/Call", adminOrigin) || !grants(h, "/sets.v1.A/Call", publicOrigin) {
		t.Error("Reconfigure did not take effect in a handler made before it")
	}
}
