package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/internal/core"
	"github.com/protocors/protocors/internal/inspect"
	"github.com/protocors/protocors/internal/surface"
)

const diffUsage = `Usage:
  protocors diff [flags] OLD NEW

Compares the cross-origin surface of two versions of an API: for every RPC
and every google.api.http route, the effective CORS policy (as the
middlewares' New merges it), its Connect methods, its bindings and the
methods each route's preflight answer lists. Prints one line per change:

  CLASS RPC [ROUTE]: FIELD: OLD -> NEW (SCOPE)

CLASS is "widens" (another origin may now do more: an RPC or route newly
reachable cross-origin, an origin or origin set added, credentials, a
request header allowed, a header exposed, a method newly listed in
Access-Control-Allow-Methods at a URL, a higher max age, a binding that
becomes a GET), "narrows" (the reverse) or "neutral". SCOPE is what caused
it: the file, service or method option, the runtime default, or an origin
set's binding.

OLD and NEW are FileDescriptorSets, as explain and check take them
("buf build -o image.binpb"; a name ending in .json is protobuf JSON).

A deployment that passes WithDefaultPolicy must give it with
--default-policy: an RPC that drops a value of its own inherits the
default's (credentials, headers, ...), which only then shows as a widening.

Flags (--origins, --default-policy and --origin-set apply to both versions):
`

const diffExit = `
Exit status: 0 nothing widens, 1 something widens (so CI can ask for a
reviewer's approval), 2 usage error or unreadable image.
`

// diffOutput is the --json form.
type diffOutput struct {
	Changes []surface.Change `json:"changes"`
	Widens  int              `json:"widens"`
	Narrows int              `json:"narrows"`
	Neutral int              `json:"neutral"`
}

// runDiff is `protocors diff`.
func runDiff(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("protocors diff", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var shared, oldSide, newSide options
	for _, o := range []*options{&shared, &oldSide, &newSide} {
		o.sets = map[string][]string{}
	}
	asJSON := fs.Bool("json", false, "write JSON instead of lines")
	fs.Func("origins", "comma-separated deployment `origins`, the runtime default policy of both versions (as WithOrigins does)", func(s string) error {
		for _, v := range strings.Split(s, ",") {
			if v = strings.TrimSpace(v); v != "" {
				shared.origins = append(shared.origins, v)
			}
		}
		if shared.origins == nil {
			return errors.New("no origin given")
		}
		return nil
	})
	var defaultPolicy *corspb.Policy
	fs.Func("default-policy", "the deployment's WithDefaultPolicy `policy` in both versions, as protobuf JSON of protocors.v1.Policy "+
		`({"allowOrigins": ["https://app.example"], "allowCredentials": true}); --origins replaces its origins`, func(s string) error {
		p := &corspb.Policy{}
		if err := protojson.Unmarshal([]byte(s), p); err != nil {
			return err
		}
		if err := core.ValidateDefault(p, shared.originOptions()).Err(); err != nil {
			return err
		}
		defaultPolicy = p
		return nil
	})
	fs.Func("origin-set", "bind an origin set in both versions, as WithOriginSet does: `NAME=ORIGIN,ORIGIN,...`; repeatable", shared.addOriginSet)
	fs.Func("old-origin-set", "bind an origin set in OLD only: `NAME=ORIGIN,...`; replaces --origin-set's binding of NAME there", oldSide.addOriginSet)
	fs.Func("new-origin-set", "bind an origin set in NEW only: `NAME=ORIGIN,...`; replaces --origin-set's binding of NAME there", newSide.addOriginSet)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), diffUsage)
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), diffExit)
	}
	// Flags may come before or after the images.
	positional, code, ok := parseInterleaved(fs, args)
	if !ok {
		return code
	}
	if len(positional) != 2 {
		fmt.Fprintf(stderr, "protocors diff: want OLD and NEW images, got %d arguments\n", len(positional))
		return exitUsage
	}
	var imgs [2]*inspect.Image
	for i, name := range positional {
		img, err := load(name)
		if err != nil {
			fmt.Fprintf(stderr, "protocors diff: %v\n", err)
			return exitUsage
		}
		imgs[i] = img
	}
	deployment := func(side *options) surface.Deployment {
		sets := maps.Clone(shared.sets)
		maps.Copy(sets, side.sets)
		return surface.Deployment{Origins: shared.origins, Default: defaultPolicy, Sets: sets}
	}
	changes := surface.Compare(
		surface.New(imgs[0].Methods(), deployment(&oldSide)),
		surface.New(imgs[1].Methods(), deployment(&newSide)),
	)

	out := diffOutput{Changes: changes}
	for _, c := range changes {
		switch c.Class {
		case surface.Widens:
			out.Widens++
		case surface.Narrows:
			out.Narrows++
		default:
			out.Neutral++
		}
	}
	if out.Changes == nil {
		out.Changes = []surface.Change{}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			fmt.Fprintf(stderr, "protocors diff: %v\n", err)
			return exitUsage
		}
	} else {
		for _, c := range changes {
			fmt.Fprintln(stdout, c)
		}
	}
	fmt.Fprintf(stderr, "protocors diff: %d %s, %d %s, %d neutral\n",
		out.Widens, plural(out.Widens, "widening", "widenings"), out.Narrows, plural(out.Narrows, "narrowing", "narrowings"), out.Neutral)
	if out.Widens > 0 {
		return exitProblems
	}
	return exitOK
}
