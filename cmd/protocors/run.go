package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/gateway"
	"github.com/protocors/protocors/interceptor"
	"github.com/protocors/protocors/internal/core"
	"github.com/protocors/protocors/internal/inspect"
)

const usage = `protocors shows and checks the CORS policies declared in proto files.

Usage:
  protocors explain [flags] IMAGE
  protocors check   [flags] IMAGE
  protocors diff    [flags] OLD NEW
  protocors schema  [-o DIR] [-f]

Commands:
  explain  For every RPC: the effective CORS policy, the scope (file, service,
           method or runtime default) each field came from, the HTTP methods
           and Connect path it answers on, and its google.api.http routes.
  check    Validate every policy as the middlewares' New does. Prints one line
           per problem and exits 1, or prints a summary and exits 0. An enabled
           RPC that names an origin set no --origin-set binds is a problem, as
           it is for New. Warns (on stderr; not a problem) when the image's
           protocors/v1/cors.proto is not the schema of this version, and when a
           GET or HEAD binding belongs to a method whose idempotency_level does
           not say it has no side effects.
  diff     Compare the cross-origin surface of two versions: one line per
           change, classified widens, narrows or neutral, naming the RPC, the
           route, the field, the old and new values and the scope that
           caused it. Exits 1 when anything widens. "protocors diff -h" says
           more.
  schema   Write the options schema (protocors/v1/cors.proto) to
           DIR/protocors/v1/cors.proto, or print it without -o or with -o -.
           "protocors schema -h" says more.

IMAGE is a FileDescriptorSet: "buf build -o image.binpb", or
"protoc --include_imports --descriptor_set_out=image.binpb ...". A name ending
in .json is read as protobuf JSON ("buf build -o image.json"); "-" reads stdin.

Flags:
`

const exitOK, exitProblems, exitUsage = 0, 1, 2

// options are the flags shared by the subcommands.
type options struct {
	json          bool
	origins       []string
	allowNull     bool
	allowInsecure bool
	// sets are the --origin-set bindings by name (never nil, so
	// addOriginSet can add to it), and setNames their names in first-flag
	// order.
	sets     map[string][]string
	setNames []string
}

func (o *options) originOptions() core.OriginOptions {
	// As New does, every set a policy names must be bound: no --origin-set
	// flag means nothing is bound.
	return core.OriginOptions{AllowNull: o.allowNull, AllowInsecure: o.allowInsecure, Sets: o.sets, CheckBindings: true}
}

// originSetForm is the syntax of --origin-set, for its help and its errors.
const originSetForm = "NAME=ORIGIN,ORIGIN,... (for example admin=https://admin.example.com)"

// addOriginSet parses one --origin-set value: NAME=ORIGIN,ORIGIN,...
// Several values for one name add up, as WithOriginSet calls do; "NAME="
// binds the set to no origins (it allows nobody).
func (o *options) addOriginSet(s string) error {
	name, list, ok := strings.Cut(s, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return fmt.Errorf("want %s", originSetForm)
	}
	if !core.ValidSetName(name) {
		return fmt.Errorf("%q is not an origin set name (1 to 64 characters, lower-case letters, digits, '_' and '-', starting with a letter); want %s", name, originSetForm)
	}
	if _, seen := o.sets[name]; !seen {
		o.setNames = append(o.setNames, name)
		o.sets[name] = []string{}
	}
	for _, v := range strings.Split(list, ",") {
		if v = strings.TrimSpace(v); v != "" {
			o.sets[name] = append(o.sets[name], v)
		}
	}
	return nil
}

// defaultPolicy is the runtime default policy --origins stands for, as
// WithOrigins does; nil without the flag.
func (o *options) defaultPolicy() *corspb.Policy {
	if o.origins == nil {
		return nil
	}
	return &corspb.Policy{AllowOrigins: o.origins}
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("protocors", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := options{sets: map[string][]string{}}
	fs.BoolVar(&o.json, "json", false, "explain: write JSON instead of a table")
	fs.Func("origins", "comma-separated deployment `origins`, applied as the runtime default policy (as WithOrigins does)", func(s string) error {
		for _, v := range strings.Split(s, ",") {
			if v = strings.TrimSpace(v); v != "" {
				o.origins = append(o.origins, v)
			}
		}
		if o.origins == nil {
			return errors.New("no origin given")
		}
		return nil
	})
	fs.Func("origin-set", "bind the origin set that allow_origin_sets names, as WithOriginSet does: `NAME=ORIGIN,ORIGIN,...`; repeatable, and several flags for one NAME add up", o.addOriginSet)
	fs.BoolVar(&o.allowNull, "allow-null-origin", false, `accept the "null" origin in allow_origins`)
	fs.BoolVar(&o.allowInsecure, "allow-insecure-origins", false, "accept plain http:// origins other than loopback together with credentials")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), "\nExit status: 0 success, 1 check found problems (schema: an existing file differs), 2 usage error or unreadable image.\n")
	}

	if len(args) == 0 {
		fs.Usage()
		return exitUsage
	}
	cmd := args[0]
	switch cmd {
	case "-h", "-help", "--help", "help":
		fs.SetOutput(stdout)
		fs.Usage()
		return exitOK
	case "schema":
		return runSchema(args[1:], stdout, stderr)
	case "diff":
		return runDiff(args[1:], stdout, stderr)
	case "explain", "check":
	default:
		fmt.Fprintf(stderr, "protocors: unknown command %q\n\n", cmd)
		fs.Usage()
		return exitUsage
	}
	// Flags may come before or after IMAGE.
	positional, code, ok := parseInterleaved(fs, args[1:])
	if !ok {
		return code
	}
	if len(positional) != 1 {
		fmt.Fprintf(stderr, "protocors %s: want exactly one IMAGE, got %d arguments\n", cmd, len(positional))
		return exitUsage
	}
	if o.json && cmd != "explain" {
		fmt.Fprintln(stderr, "protocors check: --json applies to explain only")
		return exitUsage
	}

	img, err := load(positional[0])
	if err != nil {
		fmt.Fprintf(stderr, "protocors %s: %v\n", cmd, err)
		return exitUsage
	}
	if cmd == "check" {
		return check(img, &o, stdout, stderr)
	}
	return explain(img, &o, stdout, stderr)
}

func load(name string) (*inspect.Image, error) {
	var data []byte
	var err error
	if name == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, err
	}
	img, err := inspect.ReadImage(data, strings.HasSuffix(name, ".json"))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return img, nil
}

// validate returns every problem interceptor.New and gateway.New report
// for the image with the same options, sorted and deduplicated (each
// middleware's New is the pipeline: nothing here can disagree with it), and
// counts the RPCs and those with CORS enabled.
func validate(img *inspect.Image, o *options) (problems []error, rpcs, enabled int) {
	opts := []protocors.Option{
		protocors.WithFiles(img.Files),
		protocors.WithNullOriginAllowed(o.allowNull),
		protocors.WithInsecureOriginsAllowed(o.allowInsecure),
	}
	if o.origins != nil {
		opts = append(opts, protocors.WithOrigins(o.origins...))
	}
	for _, name := range o.setNames {
		opts = append(opts, protocors.WithOriginSet(name, o.sets[name]...))
	}
	seen := map[string]bool{}
	collect := func(err error) {
		var cfg *protocors.Error
		if !errors.As(err, &cfg) {
			if err != nil && !seen[err.Error()] {
				seen[err.Error()] = true
				problems = append(problems, err)
			}
			return
		}
		for _, p := range cfg.Problems {
			if !seen[p.Error()] {
				seen[p.Error()] = true
				problems = append(problems, p)
			}
		}
	}
	_, err := interceptor.New(opts...)
	collect(err)
	gwOpts := make([]gateway.Option, len(opts))
	for i, opt := range opts {
		gwOpts[i] = opt
	}
	_, err = gateway.New(gwOpts...)
	collect(err)
	slices.SortFunc(problems, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })

	r := core.Resolver{Default: o.defaultPolicy()}
	for _, md := range img.Methods() {
		rpcs++
		if r.Resolve(md).Enabled {
			enabled++
		}
	}
	return problems, rpcs, enabled
}

func check(img *inspect.Image, o *options, stdout, stderr io.Writer) int {
	warnSchemaDrift(img, stderr)
	warnSideEffectGETs(img, stderr)
	problems, rpcs, enabled := validate(img, o)
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(stdout, p)
		}
		fmt.Fprintf(stderr, "protocors check: %d %s\n", len(problems), plural(len(problems), "problem", "problems"))
		return exitProblems
	}
	fmt.Fprintf(stdout, "ok: %d %s, %d with CORS\n", rpcs, plural(rpcs, "RPC", "RPCs"), enabled)
	return exitOK
}

// parseInterleaved parses args with fs, flags before, between or after the
// positional arguments, which it returns. ok is false when parsing ended the
// command: code is then its exit status (0 for -h).
func parseInterleaved(fs *flag.FlagSet, args []string) (positional []string, code int, ok bool) {
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, exitOK, false
			}
			return nil, exitUsage, false
		}
		rest = fs.Args()
		if len(rest) == 0 {
			return positional, 0, true
		}
		positional = append(positional, rest[0])
		rest = rest[1:]
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
