package gateway_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	_ "google.golang.org/protobuf/types/known/emptypb" // registers google/protobuf/empty.proto, which amb.proto imports

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/gateway"
	"github.com/protocors/protocors/internal/corstest"
)

const partnerOrigin = "https://partner.example.com"

// twoServicesOneFile builds, as a descriptor source read at run time, the
// file of attack 5: Admin (GET /v1/items/{id}, CORS off) declared before
// Public (GET /v1/{name=**}, a partner origin with credentials).
func twoServicesOneFile(t *testing.T, admin, public *corspb.Policy) *protoregistry.Files {
	t.Helper()
	method := func(name, get string, pol *corspb.Policy) *descriptorpb.MethodDescriptorProto {
		opts := &descriptorpb.MethodOptions{}
		proto.SetExtension(opts, annotations.E_Http, &annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: get}})
		proto.SetExtension(opts, corspb.E_Method, pol)
		return &descriptorpb.MethodDescriptorProto{
			Name: proto.String(name), InputType: proto.String(".google.protobuf.Empty"), OutputType: proto.String(".google.protobuf.Empty"), Options: opts,
		}
	}
	fdp := &descriptorpb.FileDescriptorProto{
		Name:       proto.String("amb/v1/amb.proto"),
		Package:    proto.String("amb.v1"),
		Syntax:     proto.String("proto3"),
		Dependency: []string{"google/protobuf/empty.proto"},
		Service: []*descriptorpb.ServiceDescriptorProto{
			{Name: proto.String("AdminService"), Method: []*descriptorpb.MethodDescriptorProto{
				method("AdminGetItem", "/v1/items/{id}", admin),
			}},
			{Name: proto.String("PublicService"), Method: []*descriptorpb.MethodDescriptorProto{
				method("PublicGet", "/v1/{name=**}", public),
			}},
		},
	}
	return corstest.Files(t, fdp)
}

// Attack 5: the app registers Public, then Admin, so the mux runs
// AdminGetItem for /v1/items/7; before the fix the middleware applied
// PublicGet's policy and granted the partner origin, with credentials, an
// admin RPC.
func TestAttackRegistrationOrder(t *testing.T) {
	files := twoServicesOneFile(t, &corspb.Policy{Enabled: proto.Bool(false)},
		&corspb.Policy{AllowOrigins: []string{partnerOrigin}, AllowCredentials: proto.Bool(true)})
	_, err := gateway.New(protocors.WithFiles(files))
	if err == nil {
		t.Fatal("New accepted two services' overlapping routes under different policies")
	}
	for _, want := range []string{"amb.v1.AdminService.AdminGetItem", "GET /v1/items/{id}", "amb.v1.PublicService.PublicGet", "GET /v1/{name=**}", `gateway.WithRegistrationOrder("amb.v1.AdminService", "amb.v1.PublicService")`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}

	// With the order declared, the middleware applies the policy of the RPC
	// the mux runs.
	for _, tt := range []struct {
		order []string
		ran   string
		acao  string
	}{
		{[]string{"amb.v1.PublicService", "amb.v1.AdminService"}, "AdminGetItem", ""},
		{[]string{"amb.v1.AdminService", "amb.v1.PublicService"}, "PublicGet", partnerOrigin},
	} {
		mux := runtime.NewServeMux()
		for _, svc := range tt.order {
			rpc, tmpl := "PublicGet", "/v1/{name=**}"
			if strings.Contains(svc, "Admin") {
				rpc, tmpl = "AdminGetItem", "/v1/items/{id}"
			}
			_ = mux.HandlePath("GET", tmpl, func(w http.ResponseWriter, _ *http.Request, _ map[string]string) { _, _ = w.Write([]byte(rpc)) })
		}
		mw, err := gateway.New(protocors.WithFiles(files), gateway.WithRegistrationOrder(tt.order...))
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest("GET", "/v1/items/7", nil)
		r.Header.Set("Origin", partnerOrigin)
		w := httptest.NewRecorder()
		mw.Handler(mux).ServeHTTP(w, r)
		if w.Body.String() != tt.ran || w.Header().Get("Access-Control-Allow-Origin") != tt.acao {
			t.Errorf("order %v: ran %q with Allow-Origin %q, want %s with %q", tt.order, w.Body.String(), w.Header().Get("Access-Control-Allow-Origin"), tt.ran, tt.acao)
		}
	}

	// Mistakes in the option are named.
	_, err = gateway.New(protocors.WithFiles(files), gateway.WithRegistrationOrder("amb.v1.AdminService", "amb.v1.Nope", "amb.v1.AdminService"))
	for _, want := range []string{`services[1] "amb.v1.Nope": not a service`, `services[2] "amb.v1.AdminService": named twice`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %s", err, want)
		}
	}
}

// Routes of two services that overlap under the same policy need no
// declared order: whichever runs, the answer is the same. A body route in
// the shape group of one of them (its Content-Type grant) does not make
// the policy another.
func TestAmbiguityNeedsDifferentPolicies(t *testing.T) {
	pol := &corspb.Policy{AllowOrigins: []string{partnerOrigin}}
	other := &corspb.Policy{AllowOrigins: []string{partnerOrigin}, MaxAgeSeconds: proto.Uint32(60)}
	for _, tt := range []struct {
		name  string
		files *protoregistry.Files
		ok    bool
	}{
		{"same policy", twoServicesOneFile(t, pol, pol), true},
		{"body route in the shape group", specFiles(t, []rpcSpec{
			{service: "AdminService", name: "AdminGetItem", method: "GET", template: "/v1/items/{id}", policy: pol},
			{service: "AdminService", name: "AdminPutItem", method: "PUT", template: "/v1/items/{item}", body: true, policy: pol},
			{service: "PublicService", name: "PublicGet", method: "GET", template: "/v1/{name=**}", policy: pol},
		}), true},
		{"body route on the other side", specFiles(t, []rpcSpec{
			{service: "AdminService", name: "AdminGetItem", method: "GET", template: "/v1/items/{id}", policy: pol},
			{service: "PublicService", name: "PublicGet", method: "GET", template: "/v1/{name=**}", policy: pol},
			{service: "PublicService", name: "PublicPost", method: "POST", template: "/v1/{parent=**}", body: true, policy: pol},
		}), true},
		{"body route in the shape group, another policy", specFiles(t, []rpcSpec{
			{service: "AdminService", name: "AdminGetItem", method: "GET", template: "/v1/items/{id}", policy: pol},
			{service: "AdminService", name: "AdminPutItem", method: "PUT", template: "/v1/items/{id}", body: true, policy: pol},
			{service: "PublicService", name: "PublicGet", method: "GET", template: "/v1/{name=**}", policy: other},
		}), false},
	} {
		_, err := gateway.New(protocors.WithFiles(tt.files))
		if tt.ok && err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
		if !tt.ok && (err == nil || !strings.Contains(err.Error(), "PublicGet") || !strings.Contains(err.Error(), "AdminGetItem")) {
			t.Errorf("%s: New returned %v, want the pair named", tt.name, err)
		}
	}
}
