package interceptor_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/interceptor"
	"github.com/protocors/protocors/internal/corstest"
	testv1 "github.com/protocors/protocors/internal/gen/protocors/test/v1"
	"github.com/protocors/protocors/internal/gen/protocors/test/v1/testv1connect"
)

// badFiles builds, at run time, a registry whose policies hold several
// mistakes. With unknown set, the protocors options are re-parsed without
// the extension registered, so they arrive as unknown fields, as they do
// from descriptor sets loaded at run time.
func badFiles(t *testing.T, unknown bool) *protoregistry.Files {
	t.Helper()
	set := func(m proto.Message, xt protoreflect.ExtensionType, p *corspb.Policy) {
		proto.SetExtension(m, xt, p)
		if !unknown {
			return
		}
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		proto.Reset(m)
		if err := (proto.UnmarshalOptions{Resolver: new(protoregistry.Types)}).Unmarshal(b, m); err != nil {
			t.Fatal(err)
		}
		if proto.HasExtension(m, xt) || len(m.ProtoReflect().GetUnknown()) == 0 {
			t.Fatal("the policy did not become unknown fields")
		}
	}
	fileOpts := &descriptorpb.FileOptions{}
	set(fileOpts, corspb.E_File, &corspb.Policy{MaxAgeSeconds: proto.Uint32(90000)})
	badSvc := &descriptorpb.ServiceOptions{}
	set(badSvc, corspb.E_Service, &corspb.Policy{
		AllowOrigins:     []string{"https://*.com", "https://App.example.com"},
		AllowHeaders:     []string{"*"},
		AllowCredentials: proto.Bool(true),
	})
	badMethod := &descriptorpb.MethodOptions{}
	set(badMethod, corspb.E_Method, &corspb.Policy{ExposeHeaders: []string{"bad header"}})
	noOrigins := &descriptorpb.ServiceOptions{}
	set(noOrigins, corspb.E_Service, &corspb.Policy{AllowHeaders: []string{"X-Foo"}, MaxAgeSeconds: proto.Uint32(10)})
	off := &descriptorpb.ServiceOptions{}
	set(off, corspb.E_Service, &corspb.Policy{Enabled: proto.Bool(false), AllowOrigins: []string{"nope"}})

	m := func(name string, o *descriptorpb.MethodOptions) *descriptorpb.MethodDescriptorProto {
		return &descriptorpb.MethodDescriptorProto{Name: proto.String(name), InputType: proto.String(".bad.v1.Msg"), OutputType: proto.String(".bad.v1.Msg"), Options: o}
	}
	fdp := &descriptorpb.FileDescriptorProto{
		Name:        proto.String("bad/v1/bad.proto"),
		Package:     proto.String("bad.v1"),
		Syntax:      proto.String("proto3"),
		Dependency:  []string{"protocors/v1/cors.proto"},
		Options:     fileOpts,
		MessageType: []*descriptorpb.DescriptorProto{{Name: proto.String("Msg")}},
		Service: []*descriptorpb.ServiceDescriptorProto{
			{Name: proto.String("BadService"), Options: badSvc, Method: []*descriptorpb.MethodDescriptorProto{m("A", nil), m("B", badMethod)}},
			{Name: proto.String("NoOrigins"), Options: noOrigins, Method: []*descriptorpb.MethodDescriptorProto{m("Call", nil)}},
			{Name: proto.String("Off"), Options: off, Method: []*descriptorpb.MethodDescriptorProto{m("Call", nil)}},
		},
	}
	return corstest.Files(t, fdp)
}

// TestNewReportsEveryProblem checks that New validates every policy up
// front and names each mistake by descriptor, field and value, whether the
// options arrive typed or as unknown fields.
func TestNewReportsEveryProblem(t *testing.T) {
	want := []string{
		`protocors: bad/v1/bad.proto: max_age_seconds "90000": `,
		`protocors: bad.v1.BadService: allow_origins[0] "https://*.com": `,
		`protocors: bad.v1.BadService: allow_origins[1] "https://App.example.com": `,
		`protocors: bad.v1.BadService: allow_headers[0] "*": `,
		`protocors: bad.v1.BadService.B: expose_headers[0] "bad header": `,
		`protocors: bad.v1.NoOrigins.Call: allow_origins: `,
	}
	for _, unknown := range []bool{false, true} {
		name := "typed"
		if unknown {
			name = "unknown fields"
		}
		t.Run(name, func(t *testing.T) {
			_, err := interceptor.New(protocors.WithFiles(badFiles(t, unknown)))
			if err == nil {
				t.Fatal("New accepted broken policies")
			}
			msg := err.Error()
			lines := strings.Split(msg, "\n")
			for _, w := range want {
				n := 0
				for _, l := range lines {
					if strings.HasPrefix(l, w) {
						n++
					}
				}
				if n != 1 {
					t.Errorf("%d lines start with %q, want 1; error:\n%s", n, w, msg)
				}
			}
			if len(lines) != len(want) {
				t.Errorf("%d problems, want %d:\n%s", len(lines), len(want), msg)
			}
			if strings.Contains(msg, "nope") {
				t.Errorf("a disabled service's policy was reported:\n%s", msg)
			}
			var p *protocors.Problem
			if !errors.As(err, &p) {
				t.Errorf("errors.As found no *protocors.Problem in %T", err)
			}
		})
	}
}

// pingFiles holds only PingService, which has no policy.
func pingFiles(t *testing.T) *protoregistry.Files {
	t.Helper()
	files := new(protoregistry.Files)
	if err := files.RegisterFile(testv1.File_protocors_test_v1_nopolicy_proto); err != nil {
		t.Fatal(err)
	}
	return files
}

var reached = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusTeapot)
})

func TestRuntimeOptions(t *testing.T) {
	ping := testv1connect.PingServicePingProcedure
	tests := []struct {
		name    string
		opts    func(t *testing.T) []interceptor.Option
		wantErr string // substring; "" for success
		// For success: a preflight to Ping from origin gets status.
		origin string
		status int
	}{
		{
			name: "no policy anywhere passes through",
			opts: func(t *testing.T) []interceptor.Option {
				return []interceptor.Option{protocors.WithFiles(pingFiles(t))}
			},
			origin:  appOrigin,
			status:  http.StatusTeapot,
			wantErr: "",
		},
		{
			name: "WithOrigins is a default policy",
			opts: func(t *testing.T) []interceptor.Option {
				return []interceptor.Option{protocors.WithFiles(pingFiles(t)), protocors.WithOrigins(appOrigin)}
			},
			origin: appOrigin, status: http.StatusNoContent,
		},
		{
			name: "WithOrigins refuses other origins",
			opts: func(t *testing.T) []interceptor.Option {
				return []interceptor.Option{protocors.WithFiles(pingFiles(t)), protocors.WithOrigins(appOrigin)}
			},
			origin: evilOrigin, status: http.StatusForbidden,
		},
		{
			name: "bad runtime origin",
			opts: func(t *testing.T) []interceptor.Option {
				return []interceptor.Option{protocors.WithOrigins(appOrigin + "/")}
			},
			wantErr: `protocors: runtime default: allow_origins[0] "https://app.example.com/": `,
		},
		{
			name:    "WithOrigins without origins",
			opts:    func(t *testing.T) []interceptor.Option { return []interceptor.Option{protocors.WithOrigins()} },
			wantErr: "no origins given",
		},
		{
			name:    "WithFiles(nil)",
			opts:    func(t *testing.T) []interceptor.Option { return []interceptor.Option{protocors.WithFiles(nil)} },
			wantErr: "WithFiles(nil)",
		},
		{
			name: "null origin refused by default",
			opts: func(t *testing.T) []interceptor.Option {
				return []interceptor.Option{protocors.WithFiles(pingFiles(t)), protocors.WithOrigins("null")}
			},
			wantErr: `allow_origins[0] "null"`,
		},
		{
			name: "null origin allowed by option",
			opts: func(t *testing.T) []interceptor.Option {
				return []interceptor.Option{protocors.WithFiles(pingFiles(t)), protocors.WithOrigins("null"), protocors.WithNullOriginAllowed(true)}
			},
			origin: "null", status: http.StatusNoContent,
		},
		{
			name: "insecure origin with credentials refused by default",
			opts: func(t *testing.T) []interceptor.Option {
				return []interceptor.Option{protocors.WithFiles(pingFiles(t)),
					protocors.WithDefaultPolicy(&corspb.Policy{AllowOrigins: []string{"http://dev.example.com"}, AllowCredentials: proto.Bool(true)})}
			},
			wantErr: `allow_origins[0] "http://dev.example.com"`,
		},
		{
			name: "insecure origin with credentials allowed by option",
			opts: func(t *testing.T) []interceptor.Option {
				return []interceptor.Option{protocors.WithFiles(pingFiles(t)), protocors.WithInsecureOriginsAllowed(true),
					protocors.WithDefaultPolicy(&corspb.Policy{AllowOrigins: []string{"http://dev.example.com"}, AllowCredentials: proto.Bool(true)})}
			},
			origin: "http://dev.example.com", status: http.StatusNoContent,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mw, err := interceptor.New(tt.opts(t)...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New: %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			w := corstest.Record(mw.Handler(reached), corstest.Preflight(ping, tt.origin, "POST"))
			if w.Code != tt.status {
				t.Errorf("status %d, want %d", w.Code, tt.status)
			}
		})
	}
}

// TestDefaultPolicyAndOrigins checks that WithOrigins sets the origins of
// WithDefaultPolicy, whatever the order, without changing the caller's
// policy.
func TestDefaultPolicyAndOrigins(t *testing.T) {
	def := &corspb.Policy{AllowOrigins: []string{"https://other.example.com"}, AllowCredentials: proto.Bool(true), MaxAgeSeconds: proto.Uint32(60)}
	orders := [][]interceptor.Option{
		{protocors.WithFiles(pingFiles(t)), protocors.WithDefaultPolicy(def), protocors.WithOrigins(appOrigin)},
		{protocors.WithOrigins(appOrigin), protocors.WithDefaultPolicy(def), protocors.WithFiles(pingFiles(t))},
	}
	for i, opts := range orders {
		mw, err := interceptor.New(opts...)
		if err != nil {
			t.Fatal(err)
		}
		h := mw.Handler(reached)
		w := corstest.Record(h, corstest.Preflight(testv1connect.PingServicePingProcedure, appOrigin, "POST", "content-type"))
		if w.Code != http.StatusNoContent || w.Header().Get("Access-Control-Allow-Credentials") != "true" || w.Header().Get("Access-Control-Max-Age") != "60" {
			t.Errorf("order %d: status %d, headers %v", i, w.Code, w.Header())
		}
		if w := corstest.Record(h, corstest.Preflight(testv1connect.PingServicePingProcedure, "https://other.example.com", "POST")); w.Code != http.StatusForbidden {
			t.Errorf("order %d: the default's own origins were kept: status %d", i, w.Code)
		}
	}
	if len(def.AllowOrigins) != 1 || def.AllowOrigins[0] != "https://other.example.com" {
		t.Errorf("New changed the caller's policy: %v", def)
	}
}

// TestOriginsDefaultWithAnnotations checks the runtime default against the
// annotated test services: annotations win for their scope, enabled: false
// still disables, and unannotated services get the default.
func TestOriginsDefaultWithAnnotations(t *testing.T) {
	mw, err := interceptor.New(protocors.WithOrigins("https://admin.example.com"))
	if err != nil {
		t.Fatal(err)
	}
	h := mw.Handler(reached)
	tests := []struct {
		path, origin string
		status       int
	}{
		{testv1connect.PingServicePingProcedure, "https://admin.example.com", http.StatusNoContent},
		{testv1connect.PingServicePingProcedure, appOrigin, http.StatusForbidden},
		{testv1connect.FlavorServiceGetFlavorProcedure, appOrigin, http.StatusNoContent},
		{testv1connect.FlavorServiceGetFlavorProcedure, "https://admin.example.com", http.StatusForbidden},
		{testv1connect.FlavorServiceDeleteFlavorProcedure, appOrigin, http.StatusTeapot},
	}
	for _, tt := range tests {
		if w := corstest.Record(h, corstest.Preflight(tt.path, tt.origin, "POST")); w.Code != tt.status {
			t.Errorf("%s from %s: status %d, want %d", tt.path, tt.origin, w.Code, tt.status)
		}
	}
}

func TestLogger(t *testing.T) {
	var buf bytes.Buffer
	mw, err := interceptor.New(protocors.WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))
	if err != nil {
		t.Fatal(err)
	}
	h := mw.Handler(reached)
	get := testv1connect.FlavorServiceGetFlavorProcedure
	tests := []struct {
		name, origin, method, headers string
		want                          []string // nil: nothing logged
	}{
		{"allowed", appOrigin, "POST", "content-type", nil},
		{"origin", evilOrigin, "POST", "", []string{"procedure=" + get, "origin=" + evilOrigin, `reason="origin not allowed"`}},
		{"method", appOrigin, "PUT", "", []string{"procedure=" + get, "method=PUT", `reason="method not allowed"`}},
		{"header", appOrigin, "POST", "content-type,x-nope", []string{"procedure=" + get, "origin=" + appOrigin, `reason="header not allowed"`, "value=x-nope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf.Reset()
			corstest.Record(h, corstest.Preflight(get, tt.origin, tt.method, tt.headers))
			got := buf.String()
			if tt.want == nil {
				if got != "" {
					t.Errorf("logged %q for an allowed preflight", got)
				}
				return
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("log %q lacks %q", got, w)
				}
			}
			if n := strings.Count(got, tt.origin); n != 1 {
				t.Errorf("log %q names the origin %d times, want once", got, n)
			}
		})
	}
}

func TestDebug(t *testing.T) {
	for _, debug := range []bool{false, true} {
		mw, err := interceptor.New(protocors.WithDebug(debug))
		if err != nil {
			t.Fatal(err)
		}
		w := corstest.Record(mw.Handler(reached), corstest.Preflight(testv1connect.FlavorServiceGetFlavorProcedure, appOrigin, "POST", "x-nope"))
		wantStatus, wantACAO := http.StatusForbidden, ""
		if debug {
			wantStatus, wantACAO = http.StatusNoContent, appOrigin
		}
		if w.Code != wantStatus || w.Header().Get("Access-Control-Allow-Origin") != wantACAO || w.Header().Get("Access-Control-Allow-Headers") != "" {
			t.Errorf("debug %t: status %d, headers %v", debug, w.Code, w.Header())
		}
		// Several headers, one refused: the debug answer grants the method
		// and the others, so the console names X-My-Header and not the
		// first header it checks.
		w = corstest.Record(mw.Handler(reached), corstest.Preflight(testv1connect.FlavorServiceGetFlavorProcedure, appOrigin, "POST", "connect-protocol-version,content-type,x-my-header"))
		wantACAH, wantACAM := "", ""
		if debug {
			wantACAH, wantACAM = "connect-protocol-version,content-type", "GET, POST"
		}
		if w.Code != wantStatus || w.Header().Get("Access-Control-Allow-Headers") != wantACAH || w.Header().Get("Access-Control-Allow-Methods") != wantACAM {
			t.Errorf("debug %t, one header refused among three: status %d, headers %v; want Allow-Headers %q and Allow-Methods %q", debug, w.Code, w.Header(), wantACAH, wantACAM)
		}
	}
}

func TestWrapUnknownServicePanics(t *testing.T) {
	mw, err := interceptor.New(protocors.WithFiles(pingFiles(t)))
	if err != nil {
		t.Fatal(err)
	}
	if path, _ := mw.Wrap(testv1connect.NewPingServiceHandler(ping{})); path != "/protocors.test.v1.PingService/" {
		t.Errorf("Wrap changed the path to %q", path)
	}
	func() {
		defer func() {
			v := recover()
			err, ok := v.(error)
			if !ok {
				t.Fatalf("Wrap of an unknown service: recovered %v, want an error", v)
			}
			for _, w := range []string{"protocors.test.v1.FlavorService", "import", "protocors.WithFiles"} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("panic %q does not mention %q", err, w)
				}
			}
		}()
		mw.Wrap(testv1connect.NewFlavorServiceHandler(flavors{}))
	}()

	tests := []struct {
		path string
		want string // "" for nil
	}{
		{"/protocors.test.v1.PingService/", ""},
		{"/protocors.test.v1.FlavorService/", "is not in the descriptor source"},
		{"/protocors.test.v1.PingRequest/", "is not a service"},
		{"/", "not a Connect service path"},
		{"protocors.test.v1.PingService", "not a Connect service path"},
		{"/protocors.test.v1.PingService/Ping", "not a Connect service path"},
	}
	// A service registered after New: its policies were never read.
	late := pingFiles(t)
	mwLate, err := interceptor.New(protocors.WithFiles(late))
	if err != nil {
		t.Fatal(err)
	}
	if err := late.RegisterFile(testv1.File_protocors_test_v1_test_proto); err != nil {
		t.Fatal(err)
	}
	if err := mwLate.CheckService("/protocors.test.v1.FlavorService/"); err == nil || !strings.Contains(err.Error(), "after interceptor.New") {
		t.Errorf("CheckService of a service registered after New = %v", err)
	}
	for _, tt := range tests {
		err := mw.CheckService(tt.path)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("CheckService(%q) = %v, want %q", tt.path, err, tt.want)
		}
	}
}

// TestProtocolHeaders checks the documented floor of protocol request
// headers, and that every CORS-enabled procedure allows them all.
func TestProtocolHeaders(t *testing.T) {
	got := interceptor.ProtocolHeaders()
	for _, want := range []string{"Content-Type", "Connect-Protocol-Version", "Connect-Timeout-Ms", "Connect-Content-Encoding",
		"Connect-Accept-Encoding", "Grpc-Timeout", "X-Grpc-Web", "X-User-Agent", "Grpc-Accept-Encoding", "Grpc-Encoding"} {
		if !strings.Contains(strings.Join(got, ","), want) {
			t.Errorf("ProtocolHeaders() = %q lacks %s", got, want)
		}
	}
	got[0] = "mutated"
	if interceptor.ProtocolHeaders()[0] == "mutated" {
		t.Error("ProtocolHeaders returns shared state")
	}
	mw, err := interceptor.New()
	if err != nil {
		t.Fatal(err)
	}
	w := corstest.Record(mw.Handler(reached), corstest.Preflight(testv1connect.FlavorServiceWatchFlavorsProcedure, appOrigin, "POST", strings.ToLower(strings.Join(interceptor.ProtocolHeaders(), ","))))
	if w.Code != http.StatusNoContent {
		t.Errorf("protocol headers refused: status %d", w.Code)
	}
}
