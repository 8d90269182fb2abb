// Package shop is the protocors example: an ice cream API served on one
// origin, behind the protocors middlewares for Connect and grpc-gateway, and
// a web page served on a second origin that calls it. Its main package is
// examples/icecream; the browser tests in internal/e2e start it with Start.
package shop

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"github.com/protocors/protocors"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"

	icecreamv1 "github.com/protocors/protocors/examples/icecream/gen/icecream/v1"
	"github.com/protocors/protocors/examples/icecream/gen/icecream/v1/icecreamv1connect"
	"github.com/protocors/protocors/gateway"
	"github.com/protocors/protocors/interceptor"
)

//go:embed web
var webFiles embed.FS

// Config says where to serve and whom to authorize.
type Config struct {
	// APIAddr is the API's listen address, host:port ("127.0.0.1:0" picks a
	// free port). Default "127.0.0.1:8080".
	APIAddr string
	// PageAddr is the web page's listen address. Default "localhost:8081": a
	// different host and port from the API, hence a different origin.
	PageAddr string
	// Origins are the origins authorized to call the API (the deployment
	// configuration half of the policies). Empty: the page's own origin.
	Origins []string
	// Logger receives the middlewares' refusals and the servers' errors.
	// Default: discard.
	Logger *slog.Logger
	// Debug makes the middlewares log why they refuse each preflight.
	Debug bool
}

// Servers are the running API and page servers.
type Servers struct {
	// APIURL and PageURL are the servers' base URLs, as a browser on this
	// machine reaches them: http://127.0.0.1:8080, http://localhost:8081.
	APIURL, PageURL string
	// Origins are the authorized origins in force.
	Origins []string

	api, page *http.Server
	errc      chan error
}

// Start listens on both addresses and serves until Shutdown. It fails,
// before serving anything, when a policy in the proto or an origin in cfg is
// invalid, or when an address cannot be bound.
func Start(cfg Config) (*Servers, error) {
	if cfg.APIAddr == "" {
		cfg.APIAddr = "127.0.0.1:8080"
	}
	if cfg.PageAddr == "" {
		cfg.PageAddr = "localhost:8081"
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	apiLn, err := net.Listen("tcp", cfg.APIAddr)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	pageLn, err := net.Listen("tcp", cfg.PageAddr)
	if err != nil {
		apiLn.Close()
		return nil, fmt.Errorf("page: %w", err)
	}
	s := &Servers{
		APIURL:  baseURL(cfg.APIAddr, apiLn.Addr(), "127.0.0.1"),
		PageURL: baseURL(cfg.PageAddr, pageLn.Addr(), "localhost"),
		Origins: cfg.Origins,
		errc:    make(chan error, 2),
	}
	if len(s.Origins) == 0 {
		s.Origins = []string{s.PageURL}
	}

	api, err := APIHandler(NewStore(), s.Origins, logger, cfg.Debug)
	if err != nil {
		apiLn.Close()
		pageLn.Close()
		return nil, err
	}
	s.api = &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelError)}
	s.page = &http.Server{Handler: PageHandler(s.APIURL), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelError)}
	go s.serve(s.api, apiLn)
	go s.serve(s.page, pageLn)
	return s, nil
}

func (s *Servers) serve(srv *http.Server, ln net.Listener) {
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		s.errc <- err
	}
}

// Err reports a server that stopped serving on its own.
func (s *Servers) Err() <-chan error { return s.errc }

// Shutdown stops both servers, letting requests in flight finish until ctx
// is done.
func (s *Servers) Shutdown(ctx context.Context) error {
	return errors.Join(s.api.Shutdown(ctx), s.page.Shutdown(ctx))
}

// APIHandler is the API: the Connect handlers and the grpc-gateway mux, each
// behind its protocors middleware, authorizing origins.
func APIHandler(store *Store, origins []string, logger *slog.Logger, debug bool) (http.Handler, error) {
	// The deployment's options, once for both middlewares.
	shared := protocors.WithOptions(
		protocors.WithOrigins(origins...),
		protocors.WithLogger(logger),
		protocors.WithDebug(debug),
	)
	connectCORS, err := interceptor.New(shared)
	if err != nil {
		return nil, err
	}
	gatewayCORS, err := gateway.New(shared)
	if err != nil {
		return nil, err
	}

	gw := runtime.NewServeMux(
		runtime.WithIncomingHeaderMatcher(incomingHeaders),
		runtime.WithOutgoingHeaderMatcher(outgoingHeaders),
	)
	// RegisterIceCreamServiceHandlerServer only fails for a nil mux or server.
	if err := icecreamv1.RegisterIceCreamServiceHandlerServer(context.Background(), gw, GRPCService{Store: store}); err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mux.Handle(connectCORS.Wrap(icecreamv1connect.NewIceCreamServiceHandler(ConnectService{Store: store})))
	mux.Handle("/v1/", gatewayCORS.Handler(gw))
	return mux, nil
}

// incomingHeaders passes X-My-Header to the gRPC service as metadata, on top
// of grpc-gateway's defaults (Cookie arrives as grpcgateway-cookie).
func incomingHeaders(key string) (string, bool) {
	if strings.EqualFold(key, HeaderMyHeader) {
		return strings.ToLower(HeaderMyHeader), true
	}
	return runtime.DefaultHeaderMatcher(key)
}

// outgoingHeaders sends the service's response metadata as plain headers
// (grpc-gateway's default would prefix them with Grpc-Metadata-).
func outgoingHeaders(key string) (string, bool) {
	switch {
	case strings.EqualFold(key, HeaderScoopsLeft):
		return HeaderScoopsLeft, true
	case strings.EqualFold(key, HeaderServedBy):
		return HeaderServedBy, true
	}
	return runtime.MetadataHeaderPrefix + key, true
}

// PageHandler serves the web page, which calls the API at apiURL.
func PageHandler(apiURL string) http.Handler {
	static, _ := fs.Sub(webFiles, "web")
	config := []byte("window.ICECREAM_API = " + strconv.Quote(apiURL) + ";\n")
	mux := http.NewServeMux()
	mux.Handle("GET /", http.FileServerFS(static))
	mux.HandleFunc("GET /config.js", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(config)
	})
	return mux
}

// baseURL is the http URL a browser on this machine uses to reach a listener:
// the configured host (fallback for wildcard hosts) and the bound port.
func baseURL(configured string, bound net.Addr, fallback string) string {
	host, _, err := net.SplitHostPort(configured)
	if err != nil || host == "" || host == "0.0.0.0" || host == "::" {
		host = fallback
	}
	_, port, _ := net.SplitHostPort(bound.String())
	return "http://" + net.JoinHostPort(host, port)
}
