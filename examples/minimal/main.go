// Command minimal serves examples/icecream's service on connect-go and grpc-gateway, behind protocors.
package main

import (
	"context"
	"log"
	"net/http"

	"connectrpc.com/connect"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"

	"github.com/protocors/protocors"
	icecreamv1 "github.com/protocors/protocors/examples/icecream/gen/icecream/v1"
	"github.com/protocors/protocors/examples/icecream/gen/icecream/v1/icecreamv1connect"
	"github.com/protocors/protocors/gateway"
	"github.com/protocors/protocors/interceptor"
)

func main() {
	h, err := newHandler()
	if err != nil {
		log.Fatal(err) // every policy mistake, by descriptor, field and value
	}
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", h))
}

func newHandler() (http.Handler, error) {
	// The deployment's origins, and nobody for the "factory" set RestockIceCream names.
	cors := protocors.WithOptions(protocors.WithOrigins("https://app.example.com"), protocors.WithOriginSet("factory"))
	connectCORS, err := interceptor.New(cors)
	if err != nil {
		return nil, err
	}
	gatewayCORS, err := gateway.New(cors)
	if err != nil {
		return nil, err
	}
	gw := runtime.NewServeMux()
	_ = icecreamv1.RegisterIceCreamServiceHandlerServer(context.Background(), gw, scoops{}) // fails only on nil
	mux := http.NewServeMux()
	mux.Handle(connectCORS.Wrap(icecreamv1connect.NewIceCreamServiceHandler(connectScoops{})))
	mux.Handle("/v1/", gatewayCORS.Handler(gw)) // the gateway's routes: /v1/icecream/...
	return mux, nil
}

type scoops struct { // GetIceCream for both servers; the other RPCs answer Unimplemented
	icecreamv1.UnimplementedIceCreamServiceServer
}
type connectScoops struct {
	icecreamv1connect.UnimplementedIceCreamServiceHandler
}

func (scoops) GetIceCream(_ context.Context, req *icecreamv1.GetIceCreamRequest) (*icecreamv1.GetIceCreamResponse, error) {
	return &icecreamv1.GetIceCreamResponse{IceCream: &icecreamv1.IceCream{Flavor: req.GetFlavor(), Scoops: 3}}, nil
}
func (connectScoops) GetIceCream(ctx context.Context, req *connect.Request[icecreamv1.GetIceCreamRequest]) (*connect.Response[icecreamv1.GetIceCreamResponse], error) {
	res, err := scoops{}.GetIceCream(ctx, req.Msg)
	return connect.NewResponse(res), err
}
