package gateway_test

import (
	"net/http/httptest"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/gateway"
	"github.com/protocors/protocors/internal/corstest"
	testv1 "github.com/protocors/protocors/internal/gen/protocors/test/v1"
)

// runtimeFiles rebuilds test.proto and its imports with protodesc, as a
// server loading descriptors at run time does. With unknown set, every
// option extension (google.api.http and protocors alike) is re-parsed
// without its type known and arrives as unknown fields.
func runtimeFiles(t *testing.T, unknown bool) *protoregistry.Files {
	t.Helper()
	var set descriptorpb.FileDescriptorSet
	seen := map[string]bool{}
	var add func(fd protoreflect.FileDescriptor)
	add = func(fd protoreflect.FileDescriptor) {
		if seen[fd.Path()] {
			return
		}
		seen[fd.Path()] = true
		for i := 0; i < fd.Imports().Len(); i++ {
			add(fd.Imports().Get(i).FileDescriptor)
		}
		fdp := protodesc.ToFileDescriptorProto(fd)
		if unknown {
			b, err := proto.Marshal(fdp)
			if err != nil {
				t.Fatal(err)
			}
			fdp = &descriptorpb.FileDescriptorProto{}
			if err := (proto.UnmarshalOptions{Resolver: new(protoregistry.Types)}).Unmarshal(b, fdp); err != nil {
				t.Fatal(err)
			}
		}
		set.File = append(set.File, fdp)
	}
	add(testv1.File_protocors_test_v1_test_proto)
	add(testv1.File_protocors_test_v1_nopolicy_proto)
	files, err := protodesc.NewFiles(&set)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestWithFilesBuiltAtRunTime(t *testing.T) {
	for _, unknown := range []bool{false, true} {
		mw, err := gateway.New(protocors.WithFiles(runtimeFiles(t, unknown)))
		if err != nil {
			t.Fatal(err)
		}
		h := mw.Handler(gatewayMux(t))
		for _, tt := range []exchange{
			// Max-Age 0: GetFlavor at the same URL does not allow
			// X-Request-Id, and a cached header grant would serve a GET.
			{name: "method policy", method: "OPTIONS", path: "/v1/flavors/x", headers: corstest.PreflightHeaders(app, "PUT", "content-type", "x-request-id"), status: 204,
				present: map[string]string{"Access-Control-Allow-Credentials": "true", "Access-Control-Max-Age": "0", "Access-Control-Allow-Methods": "PUT"}},
			{name: "method policy, no headers", method: "OPTIONS", path: "/v1/flavors/x", headers: corstest.PreflightHeaders(app, "PUT"), status: 204,
				present: map[string]string{"Access-Control-Allow-Credentials": "true", "Access-Control-Max-Age": "300", "Access-Control-Allow-Methods": "PUT"}},
			{name: "additional binding", method: "OPTIONS", path: "/v1/shops/s/flavors", headers: corstest.PreflightHeaders("https://a.example.org", "GET"), status: 204},
			{name: "verb", method: "OPTIONS", path: "/v1/projects/p/resources/r:inspect", headers: corstest.PreflightHeaders(evil, "GET"), status: 204,
				present: map[string]string{"Access-Control-Allow-Origin": "*"}},
			{name: "disabled", method: "OPTIONS", path: "/v1/flavors/x", headers: corstest.PreflightHeaders(app, "DELETE"), status: 403},
			{name: "no policy", method: "OPTIONS", path: "/v1/ping", headers: corstest.PreflightHeaders(app, "POST"), status: 501, absent: corsHeaders},
			// GadgetService is not in this registry: the mux answers.
			{name: "not in the registry", method: "OPTIONS", path: "/v1/gadgets/g", headers: corstest.PreflightHeaders(app, "GET"), status: 501, absent: corsHeaders},
		} {
			t.Run(tt.name, func(t *testing.T) {
				r := httptest.NewRequest(tt.method, tt.path, nil)
				for k, v := range tt.headers {
					r.Header.Set(k, v)
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if unknown {
					t.Log("options as unknown fields")
				}
				checkResponse(t, w.Code, w.Header(), w.Body.String(), tt)
			})
		}
	}
}
