package gateway_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/gateway"
)

// rpcSpec is one RPC of a descriptor source built at run time: its service
// (short name), its http rule and its (protocors.v1.method) option.
type rpcSpec struct {
	service, name    string
	method, template string
	body             bool
	policy           *corspb.Policy // nil: no method option
}

// specFiles builds package "same.v1" with the RPCs of specs, services in
// order of first appearance.
func specFiles(t testing.TB, specs []rpcSpec) *protoregistry.Files {
	t.Helper()
	fdp := &descriptorpb.FileDescriptorProto{
		Name:       proto.String("same/v1/same.proto"),
		Package:    proto.String("same.v1"),
		Syntax:     proto.String("proto3"),
		Dependency: []string{"google/protobuf/empty.proto"},
	}
	byName := map[string]*descriptorpb.ServiceDescriptorProto{}
	for _, s := range specs {
		sd := byName[s.service]
		if sd == nil {
			sd = &descriptorpb.ServiceDescriptorProto{Name: proto.String(s.service)}
			byName[s.service] = sd
			fdp.Service = append(fdp.Service, sd)
		}
		rule := &annotations.HttpRule{}
		switch s.method {
		case "GET":
			rule.Pattern = &annotations.HttpRule_Get{Get: s.template}
		case "PUT":
			rule.Pattern = &annotations.HttpRule_Put{Put: s.template}
		case "POST":
			rule.Pattern = &annotations.HttpRule_Post{Post: s.template}
		case "DELETE":
			rule.Pattern = &annotations.HttpRule_Delete{Delete: s.template}
		case "PATCH":
			rule.Pattern = &annotations.HttpRule_Patch{Patch: s.template}
		default:
			rule.Pattern = &annotations.HttpRule_Custom{Custom: &annotations.CustomHttpPattern{Kind: s.method, Path: s.template}}
		}
		if s.body {
			rule.Body = "*"
		}
		opts := &descriptorpb.MethodOptions{}
		proto.SetExtension(opts, annotations.E_Http, rule)
		if s.policy != nil {
			proto.SetExtension(opts, corspb.E_Method, s.policy)
		}
		sd.Method = append(sd.Method, &descriptorpb.MethodDescriptorProto{
			Name: proto.String(s.name), InputType: proto.String(".google.protobuf.Empty"), OutputType: proto.String(".google.protobuf.Empty"), Options: opts,
		})
	}
	files, err := protodesc.NewFiles(&descriptorpb.FileDescriptorSet{File: []*descriptorpb.FileDescriptorProto{
		protodesc.ToFileDescriptorProto(emptypb.File_google_protobuf_empty_proto), fdp,
	}})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// sendPreflight sends a preflight for method at path from origin through h.
func sendPreflight(h http.Handler, path, method, origin string, headers ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("OPTIONS", path, nil)
	r.Header.Set("Origin", origin)
	r.Header.Set("Access-Control-Request-Method", method)
	if len(headers) > 0 {
		r.Header.Set("Access-Control-Request-Headers", strings.Join(headers, ","))
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// The minimal form of issue 20's first hole: with one default policy, a
// PATCH with a body at /v1/things/{id} gave ThingService.Get the
// Content-Type grant, so it compiled to another engine than
// ContentService.GetContent at the overlapping /v1/things/{id}:content, and
// New refused the pair as "under another CORS policy".
func TestSamePolicyBodyRouteShape(t *testing.T) {
	files := specFiles(t, []rpcSpec{
		{service: "ThingService", name: "Get", method: "GET", template: "/v1/things/{id}"},
		{service: "ThingService", name: "Update", method: "PATCH", template: "/v1/things/{id}", body: true},
		{service: "ContentService", name: "GetContent", method: "GET", template: "/v1/things/{id}:content"},
	})
	mw, err := gateway.New(protocors.WithFiles(files), protocors.WithDefaultPolicy(&corspb.Policy{AllowOrigins: []string{partnerOrigin}}))
	if err != nil {
		t.Fatalf("New refused one default policy: %v", err)
	}
	h := mw.Handler(http.NotFoundHandler())
	// The answer to a PATCH preflight lists the GET at the same path: the
	// same policy (issue 20's second hole); Content-Type is granted for the
	// body route.
	w := sendPreflight(h, "/v1/things/7", "PATCH", partnerOrigin, "content-type")
	if w.Code != http.StatusNoContent || w.Header().Get("Access-Control-Allow-Methods") != "PATCH, GET" ||
		!strings.EqualFold(w.Header().Get("Access-Control-Allow-Headers"), "content-type") {
		t.Errorf("PATCH preflight: %d, Allow-Methods %q, Allow-Headers %q; want 204, \"PATCH, GET\", content-type",
			w.Code, w.Header().Get("Access-Control-Allow-Methods"), w.Header().Get("Access-Control-Allow-Headers"))
	}
	// A different policy at the overlapping route is still refused.
	files = specFiles(t, []rpcSpec{
		{service: "ThingService", name: "Get", method: "GET", template: "/v1/things/{id}"},
		{service: "ThingService", name: "Update", method: "PATCH", template: "/v1/things/{id}", body: true},
		{service: "ContentService", name: "GetContent", method: "GET", template: "/v1/things/{id}:content",
			policy: &corspb.Policy{AllowCredentials: proto.Bool(true)}},
	})
	_, err = gateway.New(protocors.WithFiles(files), protocors.WithDefaultPolicy(&corspb.Policy{AllowOrigins: []string{partnerOrigin}}))
	if err == nil || !strings.Contains(err.Error(), "same.v1.ContentService.GetContent") || !strings.Contains(err.Error(), "same.v1.ThingService.Get") {
		t.Errorf("New with two policies at overlapping routes: %v, want the pair named", err)
	}
}

// TestSamePolicyDifferential builds random route sets where body routes
// share template shapes with GETs of other services, serves them with a
// real grpc-gateway mux, and checks every preflight against what the mux
// runs: New accepts overlapping routes of different services when their
// policies are equal (and the order is declared otherwise), a preflight is
// granted exactly when the mux has a CORS route for the method at the path
// whose policy allows the origin, and Allow-Methods lists the requested
// method and every other method the mux routes at that path under the same
// policy.
func TestSamePolicyDifferential(t *testing.T) {
	const origin = "https://app.example"
	templates := []string{
		"/v1/things/{id}", "/v1/things/{id}:content", "/v1/{name=things/*}", "/v1/things/{id=**}",
		"/v1/things/special", "/v1/{name=**}:content", "/v1/things", "/v1/things/{id}/parts/{part}",
	}
	methods := []string{"GET", "GET", "PATCH", "PUT", "DELETE", "POST"}
	policies := []*corspb.Policy{
		nil, // the default policy
		{AllowHeaders: []string{"X-Other"}},
		{Enabled: proto.Bool(false)},
	}
	paths := []string{
		"/v1/things/7", "/v1/things/7:content", "/v1/things/special", "/v1/things/7/parts/2",
		"/v1/things/a/b", "/v1/things/special:content", "/v1/things", "/v1/x:content",
	}
	r := rand.New(rand.NewPCG(20, 20))
	accepted := 0
	for round := range 300 {
		var specs []rpcSpec
		policyOf := map[string]int{} // by service: all RPCs of a service share its policy
		nServices := 2 + r.IntN(3)
		samePolicy := r.IntN(2) == 0
		for s := range nServices {
			svc := fmt.Sprintf("S%dService", s)
			pi := 0
			if !samePolicy {
				pi = r.IntN(len(policies))
			}
			policyOf[svc] = pi
			for k := range 1 + r.IntN(3) {
				m := methods[r.IntN(len(methods))]
				specs = append(specs, rpcSpec{service: svc, name: fmt.Sprintf("M%d", k), method: m,
					template: templates[r.IntN(len(templates))], body: m != "GET" && m != "DELETE", policy: policies[pi]})
			}
		}
		// A body route that shares its template shape with a GET of
		// another service, whatever else was drawn.
		specs = append(specs,
			rpcSpec{service: "S0Service", name: "Body", method: "PATCH", template: "/v1/things/{id}", body: true, policy: policies[policyOf["S0Service"]]},
			rpcSpec{service: "S1Service", name: "Get", method: "GET", template: "/v1/things/{thing}", policy: policies[policyOf["S1Service"]]})
		// Each service's RPCs together, in declaration order: how the
		// file declares them and how its Register function registers them.
		slices.SortStableFunc(specs, func(a, b rpcSpec) int { return strings.Compare(a.service, b.service) })
		files := specFiles(t, specs)

		// The mux, with each service's routes registered in file order,
		// each handler naming its RPC.
		mux := runtime.NewServeMux()
		for i, s := range specs {
			rpc := strconv.Itoa(i)
			if err := mux.HandlePath(s.method, s.template, func(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
				w.Header().Set(diffRanHeader, rpc)
			}); err != nil {
				t.Fatal(err)
			}
		}
		// Services register in file order; declare it only when the
		// policies differ, so same-policy rounds prove New needs no order.
		opts := []gateway.Option{protocors.WithFiles(files), protocors.WithDefaultPolicy(&corspb.Policy{AllowOrigins: []string{origin}})}
		if !samePolicy {
			var order []string
			for s := range nServices {
				order = append(order, fmt.Sprintf("same.v1.S%dService", s))
			}
			opts = append(opts, gateway.WithRegistrationOrder(order...))
		}
		mw, err := gateway.New(opts...)
		if err != nil {
			t.Fatalf("round %d: New: %v\nroutes: %v", round, err, specs)
		}
		accepted++
		h := mw.Handler(mux)

		// ranAt returns the spec the mux runs for method at path, -1 for none.
		ranAt := func(method, path string) int {
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, httptest.NewRequest(method, path, nil))
			if v := w.Header().Get(diffRanHeader); v != "" {
				i, _ := strconv.Atoi(v)
				return i
			}
			return -1
		}
		enabled := func(i int) bool { return policyOf[specs[i].service] != 2 }
		for _, path := range paths {
			ran := map[string]int{}
			for _, m := range []string{"GET", "PATCH", "PUT", "DELETE", "POST"} {
				ran[m] = ranAt(m, path)
			}
			for _, m := range []string{"GET", "PATCH", "PUT", "DELETE", "POST"} {
				i := ran[m]
				w := sendPreflight(h, path, m, origin)
				if i < 0 || !enabled(i) {
					if w.Code == http.StatusNoContent {
						t.Errorf("round %d: %s preflight at %s granted, the mux runs %d", round, m, path, i)
					}
					continue
				}
				if w.Code != http.StatusNoContent {
					t.Errorf("round %d: %s preflight at %s: %d, the mux runs %+v", round, m, path, w.Code, specs[i])
					continue
				}
				want := []string{m}
				for _, o := range []string{"GET", "PATCH", "PUT", "DELETE", "POST"} {
					if j := ran[o]; o != m && j >= 0 && policyOf[specs[j].service] == policyOf[specs[i].service] {
						want = append(want, o)
					}
				}
				got := strings.Split(w.Header().Get("Access-Control-Allow-Methods"), ", ")
				if got[0] != m || !sameSet(got, want) {
					t.Errorf("round %d: %s preflight at %s: Allow-Methods %q, want %q (routes %v)", round, m, path, got, want, specs)
				}
			}
		}
	}
	if accepted == 0 {
		t.Fatal("no round ran")
	}
}

// sameSet reports whether a and b hold the same strings.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
