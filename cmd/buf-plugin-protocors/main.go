// Command buf-plugin-protocors is a buf check plugin: `buf lint` reports
// invalid or unsafe protocors.v1 CORS options at the position of the option
// in the .proto file, with the same messages as protocors' New.
//
// Install it on PATH (go install github.com/protocors/protocors/cmd/buf-plugin-protocors@latest)
// and declare it in buf.yaml:
//
//	version: v2
//	lint:
//	  use:
//	    - STANDARD
//	    - PROTOCORS_POLICY_VALID
//	    # - PROTOCORS_ORIGINS_SET # when origins are not given at deployment (WithOrigins)
//	plugins:
//	  - plugin: buf-plugin-protocors
//	    options:
//	      allow_null_origin: false      # accept "null" in allow_origins
//	      allow_insecure_origins: false # accept http:// non-loopback origins with credentials
//
// Rules:
//
//   - PROTOCORS_POLICY_VALID (default): origins that are not scheme://host[:port],
//     wildcards too broad to be safe, "*" origins or headers with credentials,
//     plain http:// origins with credentials, the "null" origin, header names
//     that are not tokens, max_age_seconds above 86400, allow_origin_sets
//     entries that are not set names (lower-case identifiers). Each value is
//     checked where it is written, and each RPC's merged policy is checked as
//     New checks it (a service's "*" origin with a method's credentials).
//     A set that nothing binds is not reported: its members are deployment
//     configuration (WithOriginSet, protocors check --origin-set).
//   - PROTOCORS_ORIGINS_SET: every CORS-enabled RPC gets an origin or an
//     origin set from some scope in the proto files. Off by default: most
//     deployments pass their origins at run time with WithOrigins.
//
// Breaking rule (buf breaking --against), see breaking.go:
//
//   - PROTOCORS_SURFACE_WIDENED (default): a change that lets other origins
//     do more than before, as `protocors diff` reports it: an RPC or route
//     newly reachable cross-origin, an origin, origin set, credentials,
//     request header or exposed header allowed, a method newly listed in a
//     route's Access-Control-Allow-Methods, a higher max age, a binding or
//     Connect method that becomes a GET. Each is reported at the option
//     that causes it. The option "origins" gives the deployment's
//     WithOrigins, the runtime default of both versions.
package main

import (
	"context"
	"strings"

	"buf.build/go/bufplugin/check"
	"buf.build/go/bufplugin/check/checkutil"
	"buf.build/go/bufplugin/descriptor"
	"buf.build/go/bufplugin/info"
	"buf.build/go/bufplugin/option"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/internal/core"
	"github.com/protocors/protocors/internal/inspect"
	"github.com/protocors/protocors/internal/protoext"
)

const (
	policyValidRuleID = "PROTOCORS_POLICY_VALID"
	originsSetRuleID  = "PROTOCORS_ORIGINS_SET"
	categoryID        = "PROTOCORS"

	allowNullOption     = "allow_null_origin"
	allowInsecureOption = "allow_insecure_origins"
)

var spec = &check.Spec{
	Rules: []*check.RuleSpec{
		{
			ID:          policyValidRuleID,
			CategoryIDs: []string{categoryID},
			Default:     true,
			Purpose:     "Checks that protocors.v1 CORS policies are valid and safe, as the protocors middlewares require.",
			Type:        check.RuleTypeLint,
			Handler:     checkutil.NewFileRuleHandler(handler(false), checkutil.WithoutImports()),
		},
		{
			ID:          originsSetRuleID,
			CategoryIDs: []string{categoryID},
			Default:     false,
			Purpose:     "Checks that every CORS-enabled RPC has allow_origins or allow_origin_sets at some scope of the proto files.",
			Type:        check.RuleTypeLint,
			Handler:     checkutil.NewFileRuleHandler(handler(true), checkutil.WithoutImports()),
		},
		{
			ID:          surfaceWidenedRuleID,
			CategoryIDs: []string{surfaceCategoryID},
			Default:     true,
			Purpose:     "Checks that a change does not widen what other origins may do with the API (CORS policies, gateway routes, Connect GET), as protocors diff reports it.",
			Type:        check.RuleTypeBreaking,
			Handler:     check.RuleHandlerFunc(surfaceWidened),
		},
	},
	Categories: []*check.CategorySpec{
		{ID: categoryID, Purpose: "Checks protocors.v1 CORS options."},
		{ID: surfaceCategoryID, Purpose: "Checks how a change moves the cross-origin surface of the API."},
	},
	Info: &info.Spec{
		Documentation: "Reports invalid or unsafe protocors.v1 CORS options (github.com/protocors/protocors).",
	},
}

func main() {
	check.Main(spec)
}

// handler returns the rule handler reporting the missing-origins problems
// (missingOrigins) or every other problem.
func handler(missingOrigins bool) func(context.Context, check.ResponseWriter, check.Request, descriptor.FileDescriptor) error {
	return func(_ context.Context, w check.ResponseWriter, req check.Request, file descriptor.FileDescriptor) error {
		opts, err := originOptions(req.Options())
		if err != nil {
			return err
		}
		fd := file.ProtoreflectFileDescriptor()
		for _, f := range findings(fd, opts) {
			if (f.problem.Kind == core.KindMissingOrigins) != missingOrigins {
				continue
			}
			loc := []check.AddAnnotationOption{check.WithMessage(strings.TrimPrefix(f.problem.Error(), "protocors: "))}
			if _, path, ok := inspect.Locate(fd, f.path); ok {
				loc = append(loc, check.WithFileNameAndSourcePath(fd.Path(), path))
			} else {
				loc = append(loc, check.WithFileName(fd.Path()))
			}
			w.AddAnnotation(loc...)
		}
		return nil
	}
}

func originOptions(o option.Options) (core.OriginOptions, error) {
	var opts core.OriginOptions
	var err error
	if opts.AllowNull, err = option.GetBoolValue(o, allowNullOption); err != nil {
		return opts, err
	}
	opts.AllowInsecure, err = option.GetBoolValue(o, allowInsecureOption)
	return opts, err
}

// finding is a problem and the source path of the option value it names.
type finding struct {
	problem *core.Problem
	path    protoreflect.SourcePath
}

// findings returns the problems of the policies in fd, each once, in
// source order of the scopes that cause them. opts.CheckBindings is off:
// set names are checked, bindings are not (they are the deployment's).
func findings(fd protoreflect.FileDescriptor, opts core.OriginOptions) []finding {
	// Descriptors of this file that can carry a policy, by the name a
	// core.Problem uses for them.
	scopes := map[string]protoreflect.Descriptor{fd.Path(): fd}
	svcs := fd.Services()
	for i := range svcs.Len() {
		sd := svcs.Get(i)
		scopes[string(sd.FullName())] = sd
		ms := sd.Methods()
		for j := range ms.Len() {
			scopes[string(ms.Get(j).FullName())] = ms.Get(j)
		}
	}

	var out []finding
	seen := map[string]bool{}
	add := func(ps core.Problems, fallback protoreflect.Descriptor) {
		for _, p := range ps {
			k := p.Error()
			if seen[k] {
				continue
			}
			seen[k] = true
			d, ok := scopes[p.Descriptor]
			field := p.Field
			if !ok {
				// Set in another file (an imported file's policy): point at
				// the RPC it breaks.
				d, field = fallback, ""
			}
			path := inspect.PolicyPath(d, field)
			if p.Kind == core.KindMissingOrigins {
				path = inspect.DescriptorPath(d)
			}
			out = append(out, finding{problem: p, path: path})
		}
	}

	// Each scope's own values, where they are written, whether or not an
	// RPC inherits them.
	add(scopeProblems(fd, fd.Path(), core.ScopeFile, corspb.E_File, opts), fd)
	for i := range svcs.Len() {
		sd := svcs.Get(i)
		add(scopeProblems(sd, string(sd.FullName()), core.ScopeService, corspb.E_Service, opts), sd)
		ms := sd.Methods()
		for j := range ms.Len() {
			md := ms.Get(j)
			add(scopeProblems(md, string(md.FullName()), core.ScopeMethod, corspb.E_Method, opts), md)
		}
	}
	// Each RPC's merged policy, as New validates it.
	var r core.Resolver
	for _, md := range inspect.FileMethods(fd) {
		e := r.Resolve(md)
		add(core.Validate(&e, opts), md)
	}
	return out
}

// scopeProblems validates the values one scope's policy sets, on their own,
// so a mistake is reported even where no RPC inherits it (a disabled method,
// a file without services). Combinations across scopes (credentials here,
// "*" origin there) are left to the merged policies.
func scopeProblems(d protoreflect.Descriptor, name string, scope core.Scope, xt protoreflect.ExtensionType, opts core.OriginOptions) core.Problems {
	p := protoext.Read[*corspb.Policy](d.Options(), xt)
	if p == nil {
		return nil
	}
	q := proto.CloneOf(p)
	q.Enabled = nil
	if len(q.AllowOrigins) == 0 {
		// Origins come from another scope or from WithOrigins: stand in a
		// harmless one (and leave credentials to the merged policies) so
		// only the values written here are judged.
		q.AllowOrigins = []string{"*"}
		q.AllowCredentials = nil
	}
	e := core.Merge(core.Layer{Scope: scope, Name: name, Policy: q})
	return core.Validate(&e, opts)
}
