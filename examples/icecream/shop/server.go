// Package shop is the protocors example: an ice cream API served on one
// origin, behind the protocors middlewares for Connect and grpc-gateway, and
// a web page served on a second origin that calls it. Its main package is
// examples/icecream; the browser tests in internal/e2e start it with Start.
package shop

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/protocors/protocors"
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
	// OriginSets binds the origin sets the proto names (allow_origin_sets)
	// to their members: SetFactory, for RestockIceCream. A set left out is
	// bound to no origins, so its RPCs allow no page on another origin.
	OriginSets map[string][]string
	// Logger receives the middlewares' refusals and the servers' errors.
	// Default: discard.
	Logger *slog.Logger
	// Debug makes the middlewares log why they refuse each preflight.
	Debug bool
}

// SetFactory is the origin set RestockIceCream names in the proto: the
// factory's sites, which each deployment binds with protocors.WithOriginSet.
const SetFactory = "factory"

// OriginSets are the names of every origin set the proto uses. The API binds
// each of them, to no origins when the configuration lists none: an enabled
// RPC that names a set nobody binds would fail the middlewares' New.
var OriginSets = []string{SetFactory}

// Servers are the running API and page servers.
type Servers struct {
	// APIURL and PageURL are the servers' base URLs, as a browser on this
	// machine reaches them: http://127.0.0.1:8080, http://localhost:8081.
	APIURL, PageURL string

	handler   *API
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
		errc:    make(chan error, 2),
	}
	api, err := NewAPI(NewStore(), s.orPage(cfg.Origins), cfg.OriginSets, logger, cfg.Debug)
	if err != nil {
		apiLn.Close()
		pageLn.Close()
		return nil, err
	}
	s.handler = api
	factory := func() []string { _, sets := api.Authorized(); return sets[SetFactory] }
	s.api = &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelError)}
	s.page = &http.Server{Handler: PageHandler(s.APIURL, factory), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelError)}
	go s.serve(s.api, apiLn)
	go s.serve(s.page, pageLn)
	return s, nil
}

func (s *Servers) serve(srv *http.Server, ln net.Listener) {
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		s.errc <- err
	}
}

// orPage returns origins, or the page's own origin when there are none.
func (s *Servers) orPage(origins []string) []string {
	if len(origins) == 0 {
		return []string{s.PageURL}
	}
	return origins
}

// Authorized returns the origins and origin sets in force.
func (s *Servers) Authorized() (origins []string, sets map[string][]string) {
	return s.handler.Authorized()
}

// Reconfigure replaces the authorized origins and origin sets while the
// servers keep serving, as Config.Origins and Config.OriginSets would set
// them at Start (no origins: the page's own). On error, for example an
// invalid origin, nothing changes.
func (s *Servers) Reconfigure(origins []string, sets map[string][]string) error {
	return s.handler.Reconfigure(s.orPage(origins), sets)
}

// Err reports a server that stopped serving on its own.
func (s *Servers) Err() <-chan error { return s.errc }

// Shutdown stops both servers, letting requests in flight finish until ctx
// is done.
func (s *Servers) Shutdown(ctx context.Context) error {
	return errors.Join(s.api.Shutdown(ctx), s.page.Shutdown(ctx))
}

// API is the API: the Connect handlers and the grpc-gateway mux, each
// behind its protocors middleware, and the metrics at /metrics. Its
// authorized origins and origin sets can be replaced while it serves
// (Reconfigure).
type API struct {
	http.Handler
	connectCORS *interceptor.Middleware
	gatewayCORS *gateway.Middleware
	logger      *slog.Logger
	debug       bool
	meters      metric.MeterProvider // CORS decisions, served at /metrics

	mu      sync.Mutex // serializes Reconfigure; guards origins and sets
	origins []string
	sets    map[string][]string
}

// NewAPI builds the API, authorizing origins; sets binds the origin sets
// the proto names (OriginSets) to their members, and a set it leaves out
// (or every set, with sets nil) is bound to none.
func NewAPI(store *Store, origins []string, sets map[string][]string, logger *slog.Logger, debug bool) (*API, error) {
	a := &API{logger: logger, debug: debug, origins: slices.Clone(origins), sets: cloneSets(sets)}
	// Metrics: OpenTelemetry, exported in the Prometheus text format at
	// /metrics on the API server, which is what operators scrape. A
	// registry of its own, so that several APIs (tests) do not collide.
	registry := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(registry))
	if err != nil {
		return nil, err
	}
	a.meters = sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	// The deployment's options, once for both middlewares.
	shared := a.options(a.origins, a.sets)
	connectCORS, err := interceptor.New(shared)
	if err != nil {
		return nil, err
	}
	gatewayCORS, err := gateway.New(shared)
	if err != nil {
		return nil, err
	}
	a.connectCORS, a.gatewayCORS = connectCORS, gatewayCORS

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
	mux.Handle("GET /metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
	a.Handler = mux
	return a, nil
}

// Middlewares are the API's protocors middlewares, as its handler mounts
// them: what protocorstest.Verify checks the wiring of.
func (a *API) Middlewares() (*interceptor.Middleware, *gateway.Middleware) {
	return a.connectCORS, a.gatewayCORS
}

// options is the full option set for both middlewares: New and Reconfigure
// take all of it, since Reconfigure replaces the configuration instead of
// merging into it.
func (a *API) options(origins []string, sets map[string][]string) protocors.Option {
	opts := []protocors.Option{
		protocors.WithOrigins(origins...),
		protocors.WithLogger(a.logger),
		protocors.WithDebug(a.debug),
		protocors.WithMeterProvider(a.meters),
	}
	for _, name := range slices.Sorted(maps.Keys(sets)) {
		opts = append(opts, protocors.WithOriginSet(name, sets[name]...))
	}
	for _, name := range OriginSets {
		if _, ok := sets[name]; !ok {
			opts = append(opts, protocors.WithOriginSet(name)) // bound, to nobody
		}
	}
	return protocors.WithOptions(opts...)
}

// Reconfigure replaces the authorized origins and the members of the origin
// sets in both middlewares, without a restart. Each middleware validates
// the whole configuration as New does and swaps it in atomically, so each
// request sees the old origins or the new ones; the two swap one after the
// other, so for an instant a Connect request may see the new origins while
// a gateway request still sees the old. On error nothing changes.
func (a *API) Reconfigure(origins []string, sets map[string][]string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	next := a.options(origins, sets)
	if err := a.connectCORS.Reconfigure(next); err != nil {
		return err
	}
	if err := a.gatewayCORS.Reconfigure(next); err != nil {
		// Unreachable in practice (both validate the same options), but never
		// leave the two middlewares on different configurations.
		if rollback := a.connectCORS.Reconfigure(a.options(a.origins, a.sets)); rollback != nil {
			return errors.Join(err, rollback)
		}
		return err
	}
	a.origins, a.sets = slices.Clone(origins), cloneSets(sets)
	return nil
}

// Authorized returns the origins and origin sets in force (copies).
func (a *API) Authorized() (origins []string, sets map[string][]string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.origins), cloneSets(a.sets)
}

func cloneSets(sets map[string][]string) map[string][]string {
	out := make(map[string][]string, len(sets))
	for name, members := range sets {
		out[name] = slices.Clone(members)
	}
	return out
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

// PageHandler serves the web page, which calls the API at apiURL. factory,
// if not nil, returns the factory set's members in force, which the page
// shows (read again each time the page loads).
func PageHandler(apiURL string, factory func() []string) http.Handler {
	static, _ := fs.Sub(webFiles, "web")
	mux := http.NewServeMux()
	mux.Handle("GET /", http.FileServerFS(static))
	mux.HandleFunc("GET /config.js", func(w http.ResponseWriter, _ *http.Request) {
		members := []string{}
		if factory != nil {
			members = append(members, factory()...)
		}
		list, _ := json.Marshal(members)
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintf(w, "window.ICECREAM_API = %s;\nwindow.ICECREAM_FACTORY = %s;\n", strconv.Quote(apiURL), list)
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
