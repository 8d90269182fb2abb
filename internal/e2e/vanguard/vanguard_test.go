// Package vanguard_test puts the gateway middleware in front of
// connectrpc.com/vanguard's transcoder. It lives in the internal/e2e module,
// not in package gateway, so that the library's go.mod does not require
// vanguard: only this test needs it.
package vanguard_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
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

// The origins internal/gen's test protos authorize (app, admin) and one they
// do not (evil).
const (
	app   = "https://app.example.com"
	admin = "https://admin.example.com"
	evil  = "https://evil.example.net"
)

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
	srv := httptest.NewServer(mw.Handler(transcoder))
	t.Cleanup(srv.Close)

	for _, tt := range []struct {
		name, method, body string
		headers            map[string]string
		status             int
		rpc                string            // the RPC whose answer the body holds; "" for none
		present            map[string]string // headers with exactly this one value
		expose             []string          // members of Access-Control-Expose-Headers
		noCORS             bool              // no Access-Control-* header at all
	}{
		{
			name: "preflight", method: "OPTIONS",
			headers: map[string]string{"Origin": app, "Access-Control-Request-Method": "DELETE", "Access-Control-Request-Headers": "x-request-id"},
			status:  204, present: map[string]string{"Access-Control-Allow-Origin": app, "Access-Control-Allow-Methods": "DELETE, GET, PATCH"},
		},
		{
			name: "actual", method: "GET", headers: map[string]string{"Origin": app},
			status: 200, rpc: "GetGadget", present: map[string]string{"Access-Control-Allow-Origin": app},
			expose: []string{"X-Gadget-Version", "Grpc-Metadata-X-Gadget-Version"},
		},
		{
			name: "error from the handler still decorated", method: "POST", body: "{}",
			headers: map[string]string{"Origin": admin, "Content-Type": "application/json"},
			status:  403, present: map[string]string{"Access-Control-Allow-Origin": admin},
		},
		{
			name: "preflight refused", method: "OPTIONS",
			headers: map[string]string{"Origin": evil, "Access-Control-Request-Method": "GET"},
			status:  403, noCORS: true,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+"/v1/gadgets/g1", strings.NewReader(tt.body))
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body := string(b)
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d (body %q)", resp.StatusCode, tt.status, body)
			}
			if tt.rpc != "" && !strings.Contains(body, `"`+tt.rpc+`"`) {
				t.Errorf("body %q is not %s's answer", body, tt.rpc)
			}
			for k, v := range tt.present {
				if got := resp.Header.Values(k); len(got) != 1 || got[0] != v {
					t.Errorf("%s = %q, want exactly %q", k, got, v)
				}
			}
			var exposed []string
			for k, vs := range resp.Header {
				if tt.noCORS && strings.HasPrefix(k, "Access-Control-") {
					t.Errorf("%s = %q, want no CORS header", k, vs)
				}
				if k == "Access-Control-Expose-Headers" {
					for _, v := range vs {
						for n := range strings.SplitSeq(v, ",") {
							exposed = append(exposed, http.CanonicalHeaderKey(strings.TrimSpace(n)))
						}
					}
				}
			}
			for _, want := range tt.expose {
				if !slices.Contains(exposed, http.CanonicalHeaderKey(want)) {
					t.Errorf("Access-Control-Expose-Headers %q lacks %s", exposed, want)
				}
			}
		})
	}
}
