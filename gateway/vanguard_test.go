package gateway_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"connectrpc.com/vanguard"

	"github.com/protocors/protocors/gateway"
	testv1 "github.com/protocors/protocors/internal/gen/protocors/test/v1"
	"github.com/protocors/protocors/internal/gen/protocors/test/v1/testv1connect"
)

// connectGadgets is GadgetService as a Connect handler.
type connectGadgets struct {
	testv1connect.UnimplementedGadgetServiceHandler
}

func (connectGadgets) GetGadget(context.Context, *connect.Request[testv1.GadgetRequest]) (*connect.Response[testv1.Gadget], error) {
	return connect.NewResponse(&testv1.Gadget{Name: "GetGadget"}), nil
}

func (connectGadgets) CreateGadget(context.Context, *connect.Request[testv1.GadgetRequest]) (*connect.Response[testv1.Gadget], error) {
	return nil, connect.NewError(connect.CodePermissionDenied, nil)
}

// TestVanguard puts the same middleware in front of connectrpc.com/vanguard's
// transcoder: the route table comes from the google.api.http rules, not from
// grpc-gateway, so any transcoder of those rules is served alike.
func TestVanguard(t *testing.T) {
	transcoder, err := vanguard.NewTranscoder([]*vanguard.Service{
		vanguard.NewService(testv1connect.NewGadgetServiceHandler(connectGadgets{})),
	})
	if err != nil {
		t.Fatal(err)
	}
	mw, err := gateway.New()
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, mw.Handler(transcoder))
	for _, tt := range []exchange{
		{
			name: "preflight", method: "OPTIONS", path: "/v1/gadgets/g1", headers: preflight(app, "DELETE", "x-request-id"),
			status: 204, present: map[string]string{"Access-Control-Allow-Origin": app, "Access-Control-Allow-Methods": "DELETE, GET, PATCH"},
		},
		{
			name: "actual", method: "GET", path: "/v1/gadgets/g1", headers: map[string]string{"Origin": app},
			status: 200, rpc: "GetGadget", present: map[string]string{"Access-Control-Allow-Origin": app},
			expose: []string{"X-Gadget-Version", "Grpc-Metadata-X-Gadget-Version"},
		},
		{
			name: "error from the handler still decorated", method: "POST", path: "/v1/gadgets/g1", body: "{}",
			headers: map[string]string{"Origin": admin, "Content-Type": "application/json"},
			status:  403, present: map[string]string{"Access-Control-Allow-Origin": admin},
		},
		{
			name: "preflight refused", method: "OPTIONS", path: "/v1/gadgets/g1", headers: preflight(evil, "GET"),
			status: 403, absent: corsHeaders,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			checkResponse(t, resp.StatusCode, resp.Header, string(body), tt)
		})
	}
}
