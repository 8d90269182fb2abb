package shop

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	icecreamv1 "github.com/protocors/protocors/examples/icecream/gen/icecream/v1"
	"github.com/protocors/protocors/examples/icecream/gen/icecream/v1/icecreamv1connect"
)

// Response headers set by every unary method. The proto exposes
// X-Scoops-Left to pages on other origins; X-Served-By is not exposed, so
// browsers hide it from them.
const (
	HeaderScoopsLeft = "X-Scoops-Left"
	HeaderServedBy   = "X-Served-By"
	// HeaderMyHeader is the application request header PutIceCream allows.
	HeaderMyHeader = "X-My-Header"
	// CookieCustomer is the cookie PutIceCream reports back when the browser
	// sends it (credentialed calls only).
	CookieCustomer = "customer"
)

// Store is the shop's stock, shared by the Connect and the gateway handlers.
type Store struct {
	mu     sync.Mutex
	scoops map[string]int32
}

// NewStore returns a store with a few flavors in stock.
func NewStore() *Store {
	return &Store{scoops: map[string]int32{"vanilla": 10, "chocolate": 8, "pistachio": 5}}
}

var errNotFound = errors.New("no such flavor")

func (s *Store) get(flavor string) (*icecreamv1.IceCream, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.scoops[flavor]
	if !ok {
		return nil, errNotFound
	}
	return &icecreamv1.IceCream{Flavor: flavor, Scoops: n}, nil
}

func (s *Store) put(flavor string, scoops int32) *icecreamv1.IceCream {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scoops[flavor] = scoops
	return &icecreamv1.IceCream{Flavor: flavor, Scoops: scoops}
}

func (s *Store) add(flavor string, scoops int32) *icecreamv1.IceCream {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scoops[flavor] += scoops
	return &icecreamv1.IceCream{Flavor: flavor, Scoops: s.scoops[flavor]}
}

func (s *Store) delete(flavor string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.scoops[flavor]
	delete(s.scoops, flavor)
	return ok
}

func (s *Store) list() []*icecreamv1.IceCream {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*icecreamv1.IceCream, 0, len(s.scoops))
	for f, n := range s.scoops {
		out = append(out, &icecreamv1.IceCream{Flavor: f, Scoops: n})
	}
	slices.SortFunc(out, func(a, b *icecreamv1.IceCream) int { return strings.Compare(a.Flavor, b.Flavor) })
	return out
}

func total(list []*icecreamv1.IceCream) int32 {
	var n int32
	for _, ic := range list {
		n += ic.Scoops
	}
	return n
}

func validFlavor(f string) bool {
	return f != "" && len(f) <= 64
}

// cookieValue reads one cookie from Cookie header values.
func cookieValue(values []string, name string) string {
	if len(values) == 0 {
		return ""
	}
	c, err := (&http.Request{Header: http.Header{"Cookie": values}}).Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}

// watchCount bounds the number of updates a stream sends.
func watchCount(n int32) int {
	switch {
	case n <= 0:
		return 3
	case n > 20:
		return 20
	}
	return int(n)
}

// watchInterval paces the stream so a page sees the messages arrive one by one.
const watchInterval = 50 * time.Millisecond

// ConnectService implements the Connect handler interface over a Store.
type ConnectService struct {
	Store *Store
}

var _ icecreamv1connect.IceCreamServiceHandler = ConnectService{}

func setConnectHeaders(h http.Header, scoops int32) {
	h.Set(HeaderScoopsLeft, strconv.Itoa(int(scoops)))
	h.Set(HeaderServedBy, "icecream-example")
}

func (s ConnectService) GetIceCream(_ context.Context, req *connect.Request[icecreamv1.GetIceCreamRequest]) (*connect.Response[icecreamv1.GetIceCreamResponse], error) {
	ic, err := s.Store.get(req.Msg.Flavor)
	if err != nil {
		return nil, connect.NewError(connect.CodeNotFound, err)
	}
	res := connect.NewResponse(&icecreamv1.GetIceCreamResponse{IceCream: ic})
	setConnectHeaders(res.Header(), ic.Scoops)
	return res, nil
}

func (s ConnectService) PutIceCream(_ context.Context, req *connect.Request[icecreamv1.PutIceCreamRequest]) (*connect.Response[icecreamv1.PutIceCreamResponse], error) {
	if !validFlavor(req.Msg.Flavor) {
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("flavor must be 1 to 64 bytes"))
	}
	ic := s.Store.put(req.Msg.Flavor, req.Msg.Scoops)
	res := connect.NewResponse(&icecreamv1.PutIceCreamResponse{
		IceCream: ic,
		MyHeader: req.Header().Get(HeaderMyHeader),
		Customer: cookieValue(req.Header().Values("Cookie"), CookieCustomer),
	})
	setConnectHeaders(res.Header(), ic.Scoops)
	return res, nil
}

func (s ConnectService) DeleteIceCream(_ context.Context, req *connect.Request[icecreamv1.DeleteIceCreamRequest]) (*connect.Response[icecreamv1.DeleteIceCreamResponse], error) {
	if !s.Store.delete(req.Msg.Flavor) {
		return nil, connect.NewError(connect.CodeNotFound, errNotFound)
	}
	return connect.NewResponse(&icecreamv1.DeleteIceCreamResponse{}), nil
}

func (s ConnectService) ListIceCreams(_ context.Context, _ *connect.Request[icecreamv1.ListIceCreamsRequest]) (*connect.Response[icecreamv1.ListIceCreamsResponse], error) {
	list := s.Store.list()
	res := connect.NewResponse(&icecreamv1.ListIceCreamsResponse{IceCreams: list})
	setConnectHeaders(res.Header(), total(list))
	return res, nil
}

func (s ConnectService) WatchIceCreams(ctx context.Context, req *connect.Request[icecreamv1.WatchIceCreamsRequest], stream *connect.ServerStream[icecreamv1.WatchIceCreamsResponse]) error {
	setConnectHeaders(stream.ResponseHeader(), total(s.Store.list()))
	n := watchCount(req.Msg.Count)
	for i := range n {
		list := s.Store.list()
		ic := &icecreamv1.IceCream{Flavor: "none"}
		if len(list) > 0 {
			ic = list[i%len(list)]
		}
		if err := stream.Send(&icecreamv1.WatchIceCreamsResponse{IceCream: ic}); err != nil {
			return err
		}
		if i == n-1 {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(watchInterval):
		}
	}
	return nil
}

func (s ConnectService) RestockIceCream(_ context.Context, req *connect.Request[icecreamv1.RestockIceCreamRequest]) (*connect.Response[icecreamv1.RestockIceCreamResponse], error) {
	if !validFlavor(req.Msg.Flavor) {
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("flavor must be 1 to 64 bytes"))
	}
	ic := s.Store.add(req.Msg.Flavor, req.Msg.Scoops)
	res := connect.NewResponse(&icecreamv1.RestockIceCreamResponse{IceCream: ic})
	setConnectHeaders(res.Header(), ic.Scoops)
	return res, nil
}

// GRPCService implements the gRPC server interface over a Store, for
// grpc-gateway's RegisterIceCreamServiceHandlerServer (no gRPC server runs).
type GRPCService struct {
	icecreamv1.UnimplementedIceCreamServiceServer
	Store *Store
}

var _ icecreamv1.IceCreamServiceServer = GRPCService{}

// setGRPCHeaders sends response metadata; the gateway mux turns it into
// response headers through the outgoing header matcher (see Server).
func setGRPCHeaders(ctx context.Context, scoops int32) {
	_ = grpc.SetHeader(ctx, metadata.Pairs(
		strings.ToLower(HeaderScoopsLeft), strconv.Itoa(int(scoops)),
		strings.ToLower(HeaderServedBy), "icecream-example",
	))
}

func incoming(ctx context.Context, key string) []string {
	md, _ := metadata.FromIncomingContext(ctx)
	return md.Get(key)
}

func (s GRPCService) GetIceCream(ctx context.Context, req *icecreamv1.GetIceCreamRequest) (*icecreamv1.GetIceCreamResponse, error) {
	ic, err := s.Store.get(req.Flavor)
	if err != nil {
		return nil, status.Error(codes.NotFound, err.Error())
	}
	setGRPCHeaders(ctx, ic.Scoops)
	return &icecreamv1.GetIceCreamResponse{IceCream: ic}, nil
}

func (s GRPCService) PutIceCream(ctx context.Context, req *icecreamv1.PutIceCreamRequest) (*icecreamv1.PutIceCreamResponse, error) {
	if !validFlavor(req.Flavor) {
		return nil, status.Error(codes.InvalidArgument, "flavor must be 1 to 64 bytes")
	}
	ic := s.Store.put(req.Flavor, req.Scoops)
	setGRPCHeaders(ctx, ic.Scoops)
	res := &icecreamv1.PutIceCreamResponse{
		IceCream: ic,
		Customer: cookieValue(incoming(ctx, "grpcgateway-cookie"), CookieCustomer),
	}
	if v := incoming(ctx, strings.ToLower(HeaderMyHeader)); len(v) > 0 {
		res.MyHeader = v[0]
	}
	return res, nil
}

func (s GRPCService) DeleteIceCream(_ context.Context, req *icecreamv1.DeleteIceCreamRequest) (*icecreamv1.DeleteIceCreamResponse, error) {
	if !s.Store.delete(req.Flavor) {
		return nil, status.Error(codes.NotFound, errNotFound.Error())
	}
	return &icecreamv1.DeleteIceCreamResponse{}, nil
}

func (s GRPCService) ListIceCreams(ctx context.Context, _ *icecreamv1.ListIceCreamsRequest) (*icecreamv1.ListIceCreamsResponse, error) {
	list := s.Store.list()
	setGRPCHeaders(ctx, total(list))
	return &icecreamv1.ListIceCreamsResponse{IceCreams: list}, nil
}

func (s GRPCService) RestockIceCream(ctx context.Context, req *icecreamv1.RestockIceCreamRequest) (*icecreamv1.RestockIceCreamResponse, error) {
	if !validFlavor(req.Flavor) {
		return nil, status.Error(codes.InvalidArgument, "flavor must be 1 to 64 bytes")
	}
	ic := s.Store.add(req.Flavor, req.Scoops)
	setGRPCHeaders(ctx, ic.Scoops)
	return &icecreamv1.RestockIceCreamResponse{IceCream: ic}, nil
}
