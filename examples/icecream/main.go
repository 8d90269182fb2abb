// Command icecream is the protocors example: an ice cream API on one origin,
// behind the protocors middlewares for Connect and grpc-gateway, and a web
// page on another origin whose buttons call it, some allowed by the CORS
// policies in proto/icecream/v1/icecream.proto and some refused.
//
//	go run ./examples/icecream
//
// then open the page URL it prints. Flags (and environment variables):
//
//	-api      API listen address (PROTOCORS_API_ADDR), default 127.0.0.1:8080
//	-page     page listen address (PROTOCORS_PAGE_ADDR), default localhost:8081
//	-origins  comma-separated authorized origins (PROTOCORS_ORIGINS),
//	          default: the page's own origin
//	-debug    log why each refused preflight was refused (PROTOCORS_DEBUG=1)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/protocors/protocors/examples/icecream/shop"
)

func main() {
	cfg, err := parseConfig(os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "icecream:", err)
		os.Exit(1)
	}
}

// parseConfig reads flags, falling back to environment variables, then to
// shop.Start's defaults.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (shop.Config, error) {
	fs := flag.NewFlagSet("icecream", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg shop.Config
	var origins string
	fs.StringVar(&cfg.APIAddr, "api", envOr(getenv, "PROTOCORS_API_ADDR", "127.0.0.1:8080"), "API listen `address` (env PROTOCORS_API_ADDR)")
	fs.StringVar(&cfg.PageAddr, "page", envOr(getenv, "PROTOCORS_PAGE_ADDR", "localhost:8081"), "web page listen `address`, another origin than the API (env PROTOCORS_PAGE_ADDR)")
	fs.StringVar(&origins, "origins", getenv("PROTOCORS_ORIGINS"), "comma-separated authorized `origins` (env PROTOCORS_ORIGINS; default: the page's origin)")
	fs.BoolVar(&cfg.Debug, "debug", getenv("PROTOCORS_DEBUG") != "", "log why refused preflights were refused (env PROTOCORS_DEBUG)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		err := fmt.Errorf("unexpected arguments: %q", fs.Args())
		fmt.Fprintln(stderr, err)
		return cfg, err
	}
	for o := range strings.SplitSeq(origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			cfg.Origins = append(cfg.Origins, o)
		}
	}
	return cfg, nil
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

// run serves until ctx is done, then shuts down gracefully. ready, if not
// nil, receives the running servers once they listen.
func run(ctx context.Context, cfg shop.Config, stdout io.Writer, ready func(*shop.Servers)) error {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(stdout, nil))
	}
	s, err := shop.Start(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "API:  %s (Connect and grpc-gateway, CORS for %s)\n", s.APIURL, strings.Join(s.Origins, ", "))
	fmt.Fprintf(stdout, "Page: %s  <- open this in a browser\n", s.PageURL)
	fmt.Fprintln(stdout, "Ctrl-C stops.")
	if ready != nil {
		ready(s)
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-s.Err():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return errors.Join(serveErr, s.Shutdown(shutdownCtx))
}
