package gateway

import (
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/internal/core"
	"github.com/protocors/protocors/internal/route"
)

// metadataHeaderPrefix is runtime.MetadataHeaderPrefix: the mux's default
// outgoing header matcher sends response metadata "x" as "Grpc-Metadata-x".
const metadataHeaderPrefix = runtime.MetadataHeaderPrefix

// contentType is allowed on routes with a request body.
var contentType = []string{"Content-Type"}

// maxSiblings bounds how many other methods one route's preflight answer
// may list; each subset's header value is computed in New.
const maxSiblings = 8

// Middleware answers CORS preflights for the REST routes of a grpc-gateway
// mux (or another transcoder of google.api.http rules) and decorates their
// responses, as the protocors.v1 options of the RPCs behind them say. It is
// immutable after [New] and safe for concurrent use.
type Middleware struct {
	table      route.Table
	routes     []*gwRoute
	methods    []string // every method with a route, in answer order
	mode       route.Mode
	noFallback bool
	noOverride bool
	logger     *slog.Logger
}

// gwRoute is everything the request path needs for one (method, template)
// binding, computed in New.
type gwRoute struct {
	method   string
	template string
	rpc      string       // the RPC's full name; "" for WithRoute routes
	policy   *core.Policy // nil: no CORS handling, requests pass through
	expose   string       // Access-Control-Expose-Headers
	siblings []string     // other methods that may share this answer here
	allow    []string     // Allow-Methods per subset (bit i: siblings[i]) of verified siblings
}

// binding is a route before compilation.
type binding struct {
	method   string
	template string
	tmpl     *route.Template
	rpc      string
	body     bool
	eff      *core.Effective // nil or not enabled: passthrough
}

// New reads the google.api.http rules (additional_bindings included) and the
// protocors policy of every RPC in the descriptor source, adds the routes of
// [WithRoute], validates every policy and compiles them. Its error names
// every problem found, one a line, by descriptor full name, field and value.
func New(opts ...Option) (*Middleware, error) {
	cfg := config{Settings: core.NewSettings(), mode: runtime.UnescapingModeDefault}
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	def, problems, err := cfg.DefaultPolicy("gateway")
	if err != nil {
		return nil, err
	}
	if cfg.mode < runtime.UnescapingModeLegacy || cfg.mode > runtime.UnescapingModeAllCharacters {
		return nil, fmt.Errorf("protocors: gateway.WithUnescapingMode(%d): not a runtime.UnescapingMode", cfg.mode)
	}
	oo := cfg.OriginOptions
	var bindings []binding

	// Files in path order: the generated Register functions of different
	// files may be called in any order, so that much is a convention.
	var files []protoreflect.FileDescriptor
	cfg.Files.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		files = append(files, fd)
		return true
	})
	slices.SortFunc(files, func(a, b protoreflect.FileDescriptor) int { return strings.Compare(a.Path(), b.Path()) })
	resolver := core.Resolver{Default: def}
	for _, fd := range files {
		services := fd.Services()
		for i := 0; i < services.Len(); i++ {
			methods := services.Get(i).Methods()
			for j := 0; j < methods.Len(); j++ {
				md := methods.Get(j)
				rules := route.Bindings(md)
				if len(rules) == 0 {
					continue
				}
				eff := resolver.Resolve(md)
				if eff.Enabled {
					if ps := core.Validate(&eff, oo); len(ps) > 0 {
						problems = append(problems, ps...)
					}
				}
				rpc := string(md.FullName())
				for _, r := range rules {
					t, err := route.Parse(r.Path)
					if err != nil {
						problems = append(problems, &core.Problem{Name: rpc, Field: "google.api.http", Value: r.Path, Msg: err.Error()})
						continue
					}
					bindings = append(bindings, binding{method: r.Method, template: r.Path, tmpl: t, rpc: rpc, body: r.Body != "", eff: &eff})
				}
			}
		}
	}
	for _, x := range cfg.extra {
		b, ps := extraBinding(x, def, oo)
		problems = append(problems, ps...)
		if b != nil {
			bindings = append(bindings, *b)
		}
	}
	if err := problems.Err(); err != nil {
		return nil, err
	}

	m := &Middleware{
		mode:       route.Mode(cfg.mode),
		noFallback: cfg.noFallback,
		noOverride: cfg.noOverride,
		logger:     cfg.Logger,
	}
	m.table.StrictDeepWildcard = cfg.strictWildcard
	if err := m.compile(bindings, oo, cfg.Debug); err != nil {
		return nil, err
	}
	return m, nil
}

// compile turns bindings into routes sharing compiled policies, and
// precomputes each route's Allow-Methods values.
func (m *Middleware) compile(bindings []binding, oo core.OriginOptions, debug bool) error {
	// Content-Type is allowed on routes with a body, and on the other routes
	// of the same path template under the same policy: browsers cache header
	// grants per URL, not per method, and it lets one preflight answer serve
	// GET, PUT and DELETE on a resource.
	type group struct {
		shape string
		base  *core.Policy // the policy without Content-Type
	}
	var in core.Interner
	configs := make([]core.Config, len(bindings))
	groups := make([]group, len(bindings))
	groupBody := make(map[group]bool)
	var problems core.Problems
	for i, b := range bindings {
		if b.eff == nil || !b.eff.Enabled {
			continue
		}
		configs[i] = core.ConfigOf(b.eff, oo, nil)
		configs[i].Debug = debug
		base, err := in.Compile(configs[i])
		if err != nil {
			problems = append(problems, &core.Problem{Name: b.name(), Field: "policy", Msg: err.Error()})
			continue
		}
		groups[i] = group{b.tmpl.Shape(), base}
		groupBody[groups[i]] = groupBody[groups[i]] || b.body
	}
	if err := problems.Err(); err != nil {
		return err
	}
	for i, b := range bindings {
		rt := &gwRoute{method: b.method, template: b.template, rpc: b.rpc}
		if b.eff != nil && b.eff.Enabled {
			pol := groups[i].base
			if groupBody[groups[i]] {
				c := configs[i]
				c.ProtocolHeaders = contentType
				var err error
				if pol, err = in.Compile(c); err != nil {
					return err
				}
			}
			rt.policy = pol
			rt.expose = exposeValue(b.eff.Policy.ExposeHeaders)
		}
		m.table.Add(b.method, b.tmpl, len(m.routes))
		m.routes = append(m.routes, rt)
	}
	m.table.Freeze()
	m.methods = m.table.Methods()
	slices.SortStableFunc(m.methods, func(a, b string) int { return methodRank(a) - methodRank(b) })

	// Candidate siblings: other methods with some route under the same policy.
	byPolicy := make(map[*core.Policy]map[string]bool)
	for _, rt := range m.routes {
		if rt.policy == nil {
			continue
		}
		if byPolicy[rt.policy] == nil {
			byPolicy[rt.policy] = make(map[string]bool)
		}
		byPolicy[rt.policy][rt.method] = true
	}
	for _, rt := range m.routes {
		if rt.policy == nil {
			continue
		}
		for _, meth := range m.methods {
			if meth != rt.method && byPolicy[rt.policy][meth] && len(rt.siblings) < maxSiblings {
				rt.siblings = append(rt.siblings, meth)
			}
		}
		rt.allow = make([]string, 1<<len(rt.siblings))
		for mask := range rt.allow {
			list := []string{rt.method}
			for i, s := range rt.siblings {
				if mask&(1<<i) != 0 {
					list = append(list, s)
				}
			}
			rt.allow[mask] = strings.Join(list, ", ")
		}
	}
	return nil
}

func (b *binding) name() string {
	if b.rpc != "" {
		return b.rpc
	}
	return "route " + b.method + " " + b.template
}

// methodRank orders methods in Allow-Methods values.
func methodRank(m string) int {
	switch m {
	case http.MethodGet:
		return 0
	case http.MethodHead:
		return 1
	case http.MethodPost:
		return 2
	case http.MethodPut:
		return 3
	case http.MethodPatch:
		return 4
	case http.MethodDelete:
		return 5
	}
	return 6
}

// exposeValue lists the expose_headers names and, for each, the name
// grpc-gateway gives response metadata of that name ("Grpc-Metadata-X"),
// so exposing "X-Trace-Id" exposes what the browser receives either way.
func exposeValue(names []string) string {
	md := make([]string, 0, len(names))
	for _, n := range names {
		if n != "*" {
			md = append(md, metadataHeaderPrefix+n)
		}
	}
	return core.HeaderList(names, md)
}

// extraBinding validates a WithRoute route and merges its policy over the
// default, as Resolver merges a method option.
func extraBinding(x extraRoute, def *corspb.Policy, oo core.OriginOptions) (*binding, core.Problems) {
	name := "route " + x.method + " " + x.template
	if !core.IsToken(x.method) {
		return nil, core.Problems{{Name: name, Field: "method", Value: x.method, Msg: "not an HTTP method (RFC 9110 token)"}}
	}
	t, err := route.Parse(x.template)
	if err != nil {
		return nil, core.Problems{{Name: name, Field: "path template", Value: x.template, Msg: err.Error()}}
	}
	b := &binding{method: x.method, template: x.template, tmpl: t}
	switch x.method {
	case http.MethodGet, http.MethodHead, http.MethodDelete:
	default:
		b.body = true
	}
	eff := core.Merge(core.Layer{Scope: core.ScopeDefault, Policy: def}, core.Layer{Scope: core.ScopeMethod, Name: name, Policy: x.policy})
	if ps := core.Validate(&eff, oo); len(ps) > 0 {
		return nil, ps
	}
	b.eff = &eff
	return b, nil
}

// Handler returns mux behind the middleware. Preflights for a path whose
// route (for the requested method) has a CORS policy are answered here and
// never reach mux; so are preflights refused because only other methods at
// that path have one. Other requests to CORS-enabled routes are decorated
// before mux runs; everything else reaches mux untouched.
func (m *Middleware) Handler(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := core.ReadRequest(r)
		if q.IsPreflight() {
			if !m.preflight(w, r, &q) {
				mux.ServeHTTP(w, r)
			}
			return
		}
		if rt := m.actualRoute(r); rt != nil && rt.policy != nil {
			rt.policy.Actual(w.Header(), &q, rt.expose)
		}
		mux.ServeHTTP(w, r)
	})
}

// lookup returns the route the mux runs for method at p, or nil.
func (m *Middleware) lookup(method string, p *route.Path) *gwRoute {
	if id, res := m.table.Lookup(method, p); res == route.Found {
		return m.routes[id]
	}
	return nil
}

// preflight answers r and reports whether it did.
func (m *Middleware) preflight(w http.ResponseWriter, r *http.Request, q *core.Request) bool {
	p, ok := route.NewPath(r, m.mode)
	if !ok {
		return false
	}
	acrm := q.Method
	var rt *gwRoute
	if acrm != "" {
		rt = m.lookup(acrm, &p)
	}
	if rt != nil && rt.policy != nil {
		// List the other methods whose route at this very path has the
		// same answer (the same compiled policy).
		mask := 0
		for i, s := range rt.siblings {
			if o := m.lookup(s, &p); o != nil && o.policy == rt.policy {
				mask |= 1 << i
			}
		}
		out := rt.policy.Preflight(w, q, rt.allow[mask])
		if out.Reason != core.Allowed && m.logger != nil {
			m.logRefused(r, q, rt, out)
		}
		return true
	}
	// The requested method has no CORS-enabled route here. If another
	// method does, the browser is asking about this resource: refuse it
	// under that route's policy (so WithDebug and WithLogger apply) rather
	// than let the mux answer 404 or 405.
	for _, meth := range m.methods {
		if meth == acrm {
			continue
		}
		if o := m.lookup(meth, &p); o != nil && o.policy != nil {
			out := o.policy.Preflight(w, q, "")
			if m.logger != nil {
				m.logRefused(r, q, o, out)
			}
			return true
		}
	}
	return false
}

// actualRoute returns the route whose handler the mux will run for r, with
// the mux's X-HTTP-Method-Override and form POST to GET fallback.
func (m *Middleware) actualRoute(r *http.Request) *gwRoute {
	p, ok := route.NewPath(r, m.mode)
	if !ok {
		return nil
	}
	method := r.Method
	form := !m.noFallback && method == http.MethodPost && isForm(r.Header)
	if form && !m.noOverride {
		if v := r.Header["X-Http-Method-Override"]; len(v) > 0 && v[0] != "" {
			method = upper(v[0])
		}
	}
	id, res := m.table.Lookup(method, &p)
	switch {
	case res == route.Found:
		return m.routes[id]
	case res == route.NotFound && form && method == http.MethodPost:
		return m.lookup(http.MethodGet, &p)
	}
	return nil
}

// isForm reports whether the request body is a form, as the mux decides
// (mime.ParseMediaType, parameters ignored). Only form POSTs pay for the
// parse.
func isForm(h http.Header) bool {
	const form = "application/x-www-form-urlencoded"
	v := h["Content-Type"]
	if len(v) == 0 {
		return false
	}
	s := strings.TrimLeft(v[0], " \t")
	if len(s) < len(form) || !strings.EqualFold(s[:len(form)], form) {
		return false
	}
	mt, _, err := mime.ParseMediaType(v[0])
	return err == nil && mt == form
}

// upper is strings.ToUpper without allocating for the usual upper-case input.
func upper(s string) string {
	for i := 0; i < len(s); i++ {
		if 'a' <= s[i] && s[i] <= 'z' || s[i] >= 0x80 {
			return strings.ToUpper(s)
		}
	}
	return s
}

func (m *Middleware) logRefused(r *http.Request, q *core.Request, rt *gwRoute, out core.Outcome) {
	m.logger.LogAttrs(r.Context(), slog.LevelInfo, "protocors: CORS preflight refused",
		slog.String("route", rt.method+" "+rt.template),
		slog.String("rpc", rt.rpc),
		slog.String("path", r.URL.Path),
		slog.String("origin", strings.Join(q.Origins(), ", ")),
		slog.String("method", q.Method),
		slog.String("reason", out.Reason.String()),
		slog.String("value", out.Value),
	)
}
