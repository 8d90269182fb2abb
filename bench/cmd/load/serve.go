package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"

	icecreamv1 "github.com/protocors/protocors/examples/icecream/gen/icecream/v1"
	"github.com/protocors/protocors/examples/icecream/gen/icecream/v1/icecreamv1connect"
	"github.com/protocors/protocors/examples/icecream/shop"
)

// The server processes are this program again, told by the environment
// what to serve: each server is a process of its own, so its RSS is its
// own and not the load generator's.
const (
	serveEnv       = "PROTOCORS_LOAD_SERVE"       // modeCORS or modeBare
	reconfigureEnv = "PROTOCORS_LOAD_RECONFIGURE" // a time.Duration
)

const (
	// modeCORS is the example's API as examples/icecream serves it
	// (shop.Start): Connect handlers and the grpc-gateway mux, each behind
	// its protocors middleware, with Reconfigure every reconfigureEnv.
	modeCORS = "cors"
	// modeBare is the same handlers and store without the middlewares.
	modeBare = "bare"
)

// childStats is what a server process prints when it stops.
type childStats struct {
	Reconfigured, Failed int
	LastError            string
}

// serve runs the server process: it prints "listening <base URL>", serves
// on a loopback port until its standard input closes (the load generator
// ends or dies), then prints its childStats line and returns.
func serve(mode string, every time.Duration, stdin io.Reader, stdout io.Writer) error {
	var (
		base     string
		shutdown func(context.Context) error
		stats    childStats
		stop     = make(chan struct{})
		stopped  = make(chan struct{})
	)
	switch mode {
	case modeCORS:
		s, err := shop.Start(shop.Config{
			APIAddr:    "127.0.0.1:0",
			PageAddr:   "127.0.0.1:0",
			Origins:    []string{shopOrigin},
			OriginSets: map[string][]string{shop.SetFactory: {factoryOrigin}},
		})
		if err != nil {
			return err
		}
		base, shutdown = s.APIURL, s.Shutdown
		go func() {
			defer close(stopped)
			reconfigure(s, every, stop, &stats)
		}()
	case modeBare:
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		h, err := bareAPI()
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				fmt.Fprintln(os.Stderr, "bare server:", err)
			}
		}()
		base, shutdown = "http://"+ln.Addr().String(), srv.Shutdown
		close(stopped)
	default:
		return fmt.Errorf("%s=%q: want %q or %q", serveEnv, mode, modeCORS, modeBare)
	}
	fmt.Fprintln(stdout, "listening", base)
	_, _ = io.Copy(io.Discard, bufio.NewReader(stdin))
	close(stop)
	<-stopped
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := shutdown(ctx)
	fmt.Fprintf(stdout, "stats %d %d %q\n", stats.Reconfigured, stats.Failed, stats.LastError)
	return err
}

// reconfigure replaces the origins every interval until stop closes, as an
// operator's reload would: each time a new extra origin in both the
// shop's origins and the factory set, so every call builds new policies
// (and a leak per configuration would show in the RSS), while the answers
// the load checks stay the same.
func reconfigure(s *shop.Servers, every time.Duration, stop <-chan struct{}, stats *childStats) {
	if every <= 0 {
		return
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		extra := fmt.Sprintf("https://reload%d.example.com", i)
		err := s.Reconfigure([]string{shopOrigin, extra},
			map[string][]string{shop.SetFactory: {factoryOrigin, "https://factory-" + extra[len("https://"):]}})
		if err != nil {
			stats.Failed++
			stats.LastError = err.Error()
			continue
		}
		stats.Reconfigured++
	}
}

// bareAPI is shop.NewAPI's handler without the protocors middlewares (and
// without its /metrics route): the same Connect handlers and grpc-gateway
// mux over the same store. The mux keeps grpc-gateway's default header
// matchers (the example's pass X-My-Header on as metadata and drop the
// Grpc-Metadata- prefix of two response headers, which the load does not
// check).
func bareAPI() (http.Handler, error) {
	store := shop.NewStore()
	gw := runtime.NewServeMux()
	if err := icecreamv1.RegisterIceCreamServiceHandlerServer(context.Background(), gw, shop.GRPCService{Store: store}); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(icecreamv1connect.NewIceCreamServiceHandler(shop.ConnectService{Store: store}))
	mux.Handle("/v1/", gw)
	return mux, nil
}
