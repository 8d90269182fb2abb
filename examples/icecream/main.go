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
//	-factory-origins
//	          comma-separated members of the "factory" origin set, the only
//	          origins RestockIceCream allows (PROTOCORS_FACTORY_ORIGINS),
//	          default: none
//	-config   a JSON file of origins that overrides the two flags above and
//	          is re-read, without a restart, on SIGHUP and whenever its
//	          content changes (PROTOCORS_CONFIG); see reload.go
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
	// SIGHUP re-reads the -config file (see run).
	if err := run(ctx, cfg, os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "icecream:", err)
		os.Exit(1)
	}
}

// options are the command's settings: the servers' configuration, and the
// file that overrides and reloads its origins.
type options struct {
	shop.Config
	// ConfigFile is the -config file (see fileConfig), or "".
	ConfigFile string
	// Poll is how often the file is checked for changes; 0 means every 2 s.
	Poll time.Duration
}

// parseConfig reads flags, falling back to environment variables, then to
// shop.Start's defaults.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("icecream", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opts options
	var origins, factory string
	fs.StringVar(&opts.APIAddr, "api", envOr(getenv, "PROTOCORS_API_ADDR", "127.0.0.1:8080"), "API listen `address` (env PROTOCORS_API_ADDR)")
	fs.StringVar(&opts.PageAddr, "page", envOr(getenv, "PROTOCORS_PAGE_ADDR", "localhost:8081"), "web page listen `address`, another origin than the API (env PROTOCORS_PAGE_ADDR)")
	fs.StringVar(&origins, "origins", getenv("PROTOCORS_ORIGINS"), "comma-separated authorized `origins` (env PROTOCORS_ORIGINS; default: the page's origin)")
	fs.StringVar(&factory, "factory-origins", getenv("PROTOCORS_FACTORY_ORIGINS"), "comma-separated `origins` of the \"factory\" origin set, the only ones RestockIceCream allows (env PROTOCORS_FACTORY_ORIGINS; default: none)")
	fs.StringVar(&opts.ConfigFile, "config", getenv("PROTOCORS_CONFIG"), "JSON `file` of origins overriding -origins and -factory-origins, re-read on SIGHUP and when it changes (env PROTOCORS_CONFIG)")
	fs.BoolVar(&opts.Debug, "debug", getenv("PROTOCORS_DEBUG") != "", "log why refused preflights were refused (env PROTOCORS_DEBUG)")
	if err := fs.Parse(args); err != nil {
		return opts, err
	}
	if fs.NArg() > 0 {
		err := fmt.Errorf("unexpected arguments: %q", fs.Args())
		fmt.Fprintln(stderr, err)
		return opts, err
	}
	opts.Origins = splitList(origins)
	if f := splitList(factory); f != nil {
		opts.OriginSets = map[string][]string{shop.SetFactory: f}
	}
	return opts, nil
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(list string) []string {
	var out []string
	for o := range strings.SplitSeq(list, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, o)
		}
	}
	return out
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

// run serves until ctx is done, then shuts down gracefully. ready, if not
// nil, receives the running servers once they listen. With a -config file,
// the origins are reloaded from it on SIGHUP and when it changes.
func run(ctx context.Context, opts options, stdout io.Writer, ready func(*shop.Servers)) error {
	cfg := opts.Config
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(stdout, nil))
	}
	var r *reloader
	if opts.ConfigFile != "" {
		r = &reloader{path: opts.ConfigFile, origins: cfg.Origins, sets: cfg.OriginSets, logger: cfg.Logger}
		var err error
		if cfg.Origins, cfg.OriginSets, err = r.load(); err != nil {
			return err
		}
	}
	// Registered before anything serves: SIGHUP's default action would
	// stop the process.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	s, err := shop.Start(cfg)
	if err != nil {
		return err
	}
	origins, sets := s.Authorized()
	fmt.Fprintf(stdout, "API:  %s (Connect and grpc-gateway, CORS for %s)\n", s.APIURL, strings.Join(origins, ", "))
	fmt.Fprintf(stdout, "      RestockIceCream: CORS for the %q origin set only: %s\n", shop.SetFactory, listOrNone(sets[shop.SetFactory]))
	fmt.Fprintf(stdout, "Page: %s  <- open this in a browser\n", s.PageURL)
	if r != nil {
		fmt.Fprintf(stdout, "Origins reload from %s on SIGHUP and when it changes.\n", r.path)
	}
	fmt.Fprintln(stdout, "Ctrl-C stops.")

	watchCtx, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		if r == nil {
			for {
				select {
				case <-watchCtx.Done():
					return
				case <-hup:
					cfg.Logger.Info("SIGHUP: nothing to reload without -config (flags and environment are read once)")
				}
			}
		}
		r.watch(watchCtx, s, opts.Poll, hup)
	}()
	defer func() { stopWatch(); <-watched }()

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

func listOrNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}
