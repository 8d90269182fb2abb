// Package surface models the cross-origin surface of an API, what browsers
// on other origins may do with each RPC and each google.api.http route, and
// compares two versions of it.
//
// It is the one implementation behind `protocors diff` and the buf plugin's
// breaking rule PROTOCORS_SURFACE_WIDENED. Effective policies come from
// core.Pipeline, the pipeline both middlewares' New run (scopes merged by
// core.Resolver, origin sets bound as WithOriginSet binds them), and routes
// from route.Bindings, the gateway middleware's reading of google.api.http
// rules: nothing here merges scopes or parses rules on its own.
package surface

import (
	"maps"
	"slices"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/internal/core"
	"github.com/protocors/protocors/internal/protoext"
	"github.com/protocors/protocors/internal/route"
)

// Deployment is one side's runtime options, as the middlewares take them.
type Deployment struct {
	// Origins are the WithOrigins origins, the runtime default policy; nil
	// for none.
	Origins []string
	// Default is the WithDefaultPolicy policy; nil for none. Origins, when
	// set, replace its origins, as WithOrigins does.
	Default *corspb.Policy
	// Sets are the WithOriginSet bindings by name.
	Sets map[string][]string
}

// Surface is the effective cross-origin surface of a set of RPCs.
type Surface struct {
	rpcs   []*RPC
	byName map[string]*RPC
	dep    Deployment
}

// RPC is one method's effective policy and where it answers.
type RPC struct {
	Method protoreflect.MethodDescriptor
	// Eff is the merged policy, as New merges it.
	Eff *core.Effective
	// PolicyScope is the innermost scope that supplies a policy (what makes
	// the RPC CORS-enabled), ScopeNone when none does.
	PolicyScope core.Scope
	// Connect lists the HTTP methods the RPC accepts over Connect.
	Connect []string
	// Routes are its google.api.http bindings.
	Routes []route.Binding
}

// Name is the RPC's full name.
func (r *RPC) Name() string { return string(r.Method.FullName()) }

// New builds the surface of methods (the RPCs of the files under review,
// not of their imports) under the deployment d.
func New(methods []protoreflect.MethodDescriptor, d Deployment) *Surface {
	s := core.NewSettings()
	// Only the methods given are resolved; the registry is never walked.
	s.Files = new(protoregistry.Files)
	if d.Origins != nil {
		s.Origins, s.OriginsSet = d.Origins, true
	}
	s.Default = d.Default
	s.OriginOptions.Sets = d.Sets
	pl := core.NewPipeline(&s)
	out := &Surface{byName: make(map[string]*RPC, len(methods)), dep: d}
	for _, md := range methods {
		eff, _ := pl.Method(md) // validity is check's and New's concern
		r := &RPC{
			Method:      md,
			Eff:         eff,
			PolicyScope: policyScope(md, d),
			Connect:     core.ConnectMethods(md),
			Routes:      route.Bindings(md),
		}
		if _, dup := out.byName[r.Name()]; dup {
			continue
		}
		out.rpcs = append(out.rpcs, r)
		out.byName[r.Name()] = r
	}
	return out
}

// RPCs returns the surface's RPCs in the order New was given them.
func (s *Surface) RPCs() []*RPC { return s.rpcs }

// policyScope is the innermost scope whose option carries a policy.
func policyScope(md protoreflect.MethodDescriptor, d Deployment) core.Scope {
	if protoext.Read[*corspb.Policy](md.Options(), corspb.E_Method) != nil {
		return core.ScopeMethod
	}
	if sd, ok := md.Parent().(protoreflect.ServiceDescriptor); ok && protoext.Read[*corspb.Policy](sd.Options(), corspb.E_Service) != nil {
		return core.ScopeService
	}
	if protoext.Read[*corspb.Policy](md.ParentFile().Options(), corspb.E_File) != nil {
		return core.ScopeFile
	}
	if d.Origins != nil || d.Default != nil {
		return core.ScopeDefault
	}
	return core.ScopeNone
}

// state is "enabled", "disabled" (a policy with enabled: false) or "none"
// (no scope supplies a policy).
func (r *RPC) state() string {
	switch {
	case r == nil:
		return "absent"
	case r.Eff.Enabled:
		return "enabled"
	case r.Eff.Policy != nil:
		return "disabled"
	}
	return "none"
}

func (r *RPC) enabled() bool { return r != nil && r.Eff.Enabled }

// setMembers returns the members d binds to set name, and whether it binds it.
func (s *Surface) setMembers(name string) ([]string, bool) {
	m, ok := s.dep.Sets[name]
	return m, ok
}

// policyKey is the policy an enabled RPC's preflight answers follow, as a
// comparable value: two routes at one path share a preflight answer (and
// list each other in Access-Control-Allow-Methods) when their keys are
// equal. expose_headers is left out, as the gateway middleware leaves it
// out of the policy it compares: no preflight answer carries it.
func (s *Surface) policyKey(r *RPC) string {
	p := r.Eff.Policy
	origins := slices.Clone(p.GetAllowOrigins())
	for _, name := range p.GetAllowOriginSets() {
		m, _ := s.setMembers(name)
		origins = append(origins, m...)
	}
	slices.Sort(origins)
	origins = slices.Compact(origins)
	headers := lowerAll(p.GetAllowHeaders())
	slices.Sort(headers)
	var b strings.Builder
	b.WriteString(strings.Join(origins, " "))
	b.WriteByte('|')
	b.WriteString(strings.Join(headers, " "))
	b.WriteByte('|')
	if p.GetAllowCredentials() {
		b.WriteString("credentials")
	}
	b.WriteByte('|')
	b.WriteString(maxAge(p))
	return b.String()
}

func lowerAll(l []string) []string {
	out := make([]string, len(l))
	for i, v := range l {
		out[i] = strings.ToLower(v)
	}
	return out
}

// urlAnswer is what the gateway middleware's preflight answer lists in
// Access-Control-Allow-Methods at one route's paths.
type urlAnswer struct {
	methods []string        // in the middleware's order
	by      map[string]*RPC // the RPC whose route at the path gives each method
}

// urlMethods returns, for each route of an enabled RPC, the methods the
// gateway middleware may list in Access-Control-Allow-Methods at that
// route's paths: its own, and those of every other route whose policy
// gives the same preflight answer and that some path of the route also
// matches (route.Overlap: the middleware lists the method of each route
// the mux runs at the request's path, whatever its template). Keys are
// routeKey(rpc, binding).
func (s *Surface) urlMethods() map[string]urlAnswer {
	type at struct {
		method string
		tmpl   *route.Template
		rpc    *RPC
	}
	// Routes by policy key, then by their first segment when it is a
	// literal (routes under different first literals never overlap), ""
	// for a first wildcard, which may meet any of them.
	byKey := map[string]map[string][]at{}
	first := func(t *route.Template) string {
		if len(t.Segments) > 0 && t.Segments[0].Kind == route.Literal {
			return "/" + t.Segments[0].Literal
		}
		return ""
	}
	keys := map[*RPC]string{}
	for _, r := range s.rpcs {
		if !r.enabled() {
			continue
		}
		k := s.policyKey(r)
		keys[r] = k
		for _, b := range r.Routes {
			t, err := route.Parse(b.Path)
			if err != nil {
				continue
			}
			if byKey[k] == nil {
				byKey[k] = map[string][]at{}
			}
			byKey[k][first(t)] = append(byKey[k][first(t)], at{b.Method, t, r})
		}
	}
	out := map[string]urlAnswer{}
	for _, r := range s.rpcs {
		if !r.enabled() {
			continue
		}
		for _, b := range r.Routes {
			t, err := route.Parse(b.Path)
			if err != nil {
				continue
			}
			a := urlAnswer{methods: []string{b.Method}, by: map[string]*RPC{b.Method: r}}
			group := byKey[keys[r]]
			candidates := group[""]
			if f := first(t); f != "" {
				candidates = append(slices.Clip(group[f]), candidates...)
			} else {
				for _, f := range slices.Sorted(maps.Keys(group)) {
					if f != "" {
						candidates = append(slices.Clip(candidates), group[f]...)
					}
				}
			}
			for _, o := range candidates {
				if a.by[o.method] == nil && route.Overlap(t, o.tmpl) {
					a.methods = append(a.methods, o.method)
					a.by[o.method] = o.rpc
				}
			}
			slices.SortFunc(a.methods, func(a, b string) int {
				if ra, rb := methodRank(a), methodRank(b); ra != rb {
					return ra - rb
				}
				return strings.Compare(a, b)
			})
			out[routeKey(r.Name(), b)] = a
		}
	}
	return out
}

func routeKey(rpc string, b route.Binding) string { return rpc + " " + b.Method + " " + b.Path }

// methodRank orders methods as the gateway middleware lists them.
func methodRank(m string) int {
	switch m {
	case "GET":
		return 0
	case "HEAD":
		return 1
	case "POST":
		return 2
	case "PUT":
		return 3
	case "PATCH":
		return 4
	case "DELETE":
		return 5
	}
	return 6
}

func maxAge(p *corspb.Policy) string {
	if p.MaxAgeSeconds == nil {
		return "unset"
	}
	return itoa(p.GetMaxAgeSeconds())
}
