package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/gateway"
	"github.com/protocors/protocors/internal/inspect"
)

// ordersSet declares shop/v1/orders.proto: OrderService allows
// https://shop.example.com with a max age of 300, and
//   - GetOrder: GET /v1/orders/{id}, which also matches
//     /v1/orders/7:refund and /v1/orders/7:cancel;
//   - RefundOrder: POST /v1/orders/{id}:refund, for
//     https://admin.example.com only (the case: GetOrder does not
//     allow that origin, and RefundOrder does not allow GetOrder's);
//   - CancelOrder: POST /v1/orders/{id}:cancel, the service's policy: every
//     RPC at its URLs allows what it grants, so it stays cacheable;
//   - UpdateOrder: PATCH /v1/orders/{id}, the service's policy and
//     GetOrder's template (the two share one answer, Content-Type
//     included), but PATCH /v1/orders/7:refund is an UpdateOrder where
//     the POST is RefundOrder's.
func ordersSet() *descriptorpb.FileDescriptorSet {
	method := func(name string, p *corspb.Policy, rule *annotations.HttpRule) *descriptorpb.MethodDescriptorProto {
		mo := &descriptorpb.MethodOptions{}
		if p != nil {
			proto.SetExtension(mo, corspb.E_Method, p)
		}
		proto.SetExtension(mo, annotations.E_Http, rule)
		return &descriptorpb.MethodDescriptorProto{Name: proto.String(name), InputType: proto.String(".shop.v1.Order"), OutputType: proto.String(".shop.v1.Order"), Options: mo}
	}
	so := &descriptorpb.ServiceOptions{}
	proto.SetExtension(so, corspb.E_Service, &corspb.Policy{AllowOrigins: []string{"https://shop.example.com"}, MaxAgeSeconds: proto.Uint32(300)})
	fd := &descriptorpb.FileDescriptorProto{
		Name:        proto.String("shop/v1/orders.proto"),
		Package:     proto.String("shop.v1"),
		Syntax:      proto.String("proto3"),
		Dependency:  []string{"protocors/v1/cors.proto", "google/api/annotations.proto"},
		MessageType: []*descriptorpb.DescriptorProto{{Name: proto.String("Order")}},
		Service: []*descriptorpb.ServiceDescriptorProto{{
			Name:    proto.String("OrderService"),
			Options: so,
			Method: []*descriptorpb.MethodDescriptorProto{
				method("GetOrder", nil, &annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: "/v1/orders/{id}"}}),
				method("RefundOrder", &corspb.Policy{AllowOrigins: []string{"https://admin.example.com"}},
					&annotations.HttpRule{Pattern: &annotations.HttpRule_Post{Post: "/v1/orders/{id}:refund"}, Body: "*"}),
				method("CancelOrder", nil, &annotations.HttpRule{Pattern: &annotations.HttpRule_Post{Post: "/v1/orders/{id}:cancel"}, Body: "*"}),
				method("UpdateOrder", nil, &annotations.HttpRule{Pattern: &annotations.HttpRule_Patch{Patch: "/v1/orders/{id}"}, Body: "*"}),
			},
		}},
	}
	return &descriptorpb.FileDescriptorSet{File: []*descriptorpb.FileDescriptorProto{fd}}
}

func TestExplainUncacheableGolden(t *testing.T) {
	path := writeSet(t, "orders.binpb", ordersSet())
	code, out, errOut := runCmd("explain", path)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	golden(t, "explain-uncacheable.txt", out)
	// The case, word for word.
	want := `    uncacheable at the URLs it shares with GET /v1/orders/{id} (such as /v1/orders/1:refund), for preflights that ask for a header: ` +
		`Access-Control-Max-Age: 0 (the browser may not cache this answer): the mux also runs shop.v1.OrderService.GetOrder for GET /v1/orders/{id} at this URL, ` +
		`and its policy does not allow origin https://admin.example.com; a cached answer would let the page send it a GET without a new preflight`
	if !strings.Contains(out, "  gateway: POST /v1/orders/{id}:refund (body *)\n"+want+"\n") {
		t.Errorf("explain does not say why RefundOrder's preflights are uncacheable; want under its route:\n%s", want)
	}
	if !strings.Contains(out, "max_age_seconds    300 (0 at some URLs: see uncacheable)") {
		t.Errorf("the max age row does not point at the uncacheable URLs")
	}
}

// What explain says is what the gateway middleware does: at each example
// URL, a preflight that asks for a header gets Access-Control-Max-Age: 0,
// and routes explain lists no reason for keep their max age.
func TestExplainUncacheableIsWhatTheGatewayDoes(t *testing.T) {
	set := ordersSet()
	path := writeSet(t, "orders.binpb", set)
	code, out, errOut := runCmd("explain", "--json", path)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var rep report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	img, err := inspect.ReadImage(mustRead(t, path), false)
	if err != nil {
		t.Fatal(err)
	}
	mw, err := gateway.New(protocors.WithFiles(img.Files))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mw.Handler(runtime.NewServeMux()))
	defer srv.Close()
	preflight := func(method, path, origin, header string) string {
		req, _ := http.NewRequest(http.MethodOptions, srv.URL+path, nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", method)
		req.Header.Set("Access-Control-Request-Headers", strings.ToLower(header))
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNoContent && res.StatusCode != http.StatusOK {
			t.Fatalf("preflight %s %s from %s asking for %s: status %d", method, path, origin, header, res.StatusCode)
		}
		return res.Header.Get("Access-Control-Max-Age")
	}
	byRPC := map[string]rpcReport{}
	var reasons int
	for _, r := range rep.RPCs {
		byRPC[r.RPC] = r
		for _, u := range r.Uncacheable {
			reasons++
			if u.Example == "" {
				t.Errorf("%s: no example URL for %s vs %s", r.RPC, u.Route, u.OtherRoute)
				continue
			}
			origin := r.Policy.Origins[0].Origin // granted by the route
			if len(u.Origins) > 0 {
				origin = u.Origins[0]
			}
			header := "Content-Type"
			if len(u.Headers) > 0 {
				header = u.Headers[0]
			}
			method, _, _ := strings.Cut(u.Route, " ")
			if got := preflight(method, u.Example, origin, header); got != "0" {
				t.Errorf("%s: explain says %s is uncacheable at %s (%s), the gateway answers Max-Age %q", r.RPC, u.Route, u.Example, u.Reason, got)
			}
		}
	}
	// GetOrder, RefundOrder and UpdateOrder at /v1/orders/1:refund, each
	// for the origin the other does not allow; nothing for CancelOrder.
	if reasons != 3 || len(byRPC["shop.v1.OrderService.CancelOrder"].Uncacheable) != 0 {
		t.Errorf("%d reasons, CancelOrder %v; want 3 and none", reasons, byRPC["shop.v1.OrderService.CancelOrder"].Uncacheable)
	}
	if got := preflight(http.MethodPost, "/v1/orders/1:cancel", "https://shop.example.com", "Content-Type"); got != "300" {
		t.Errorf("CancelOrder, which explain lists no reason for: Max-Age %q, want 300", got)
	}
}
