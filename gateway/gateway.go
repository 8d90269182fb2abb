package gateway

import (
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

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
	protection core.Protection
}

// gwRoute is everything the request path needs for one (method, template)
// binding, computed in New.
type gwRoute struct {
	method   string
	template string
	service  string       // the RPC's service; "" for WithRoute routes
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
	service  string
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
	var services []protoreflect.ServiceDescriptor
	for _, fd := range files {
		for i := 0; i < fd.Services().Len(); i++ {
			services = append(services, fd.Services().Get(i))
		}
	}
	order, ps := registrationOrder(services, cfg.order)
	problems = append(problems, ps...)
	// The declared services last, in the declared order: later wins.
	slices.SortStableFunc(services, func(a, b protoreflect.ServiceDescriptor) int {
		return order[a.FullName()] - order[b.FullName()]
	})
	for _, sd := range services {
		methods := sd.Methods()
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
				bindings = append(bindings, binding{method: r.Method, template: r.Path, tmpl: t, service: string(sd.FullName()), rpc: rpc, body: r.Body != "", eff: &eff})
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
		protection: cfg.Protection(),
	}
	m.table.StrictDeepWildcard = cfg.strictWildcard
	if err := m.compile(bindings, oo, cfg.Debug); err != nil {
		return nil, err
	}
	if err := m.ambiguities(order).Err(); err != nil {
		return nil, err
	}
	return m, nil
}

// registrationOrder maps each service named by WithRegistrationOrder to its
// position, counted from 1 (0 for services not named), and reports names
// that are not services with google.api.http rules.
func registrationOrder(services []protoreflect.ServiceDescriptor, names []string) (map[protoreflect.FullName]int, core.Problems) {
	order := make(map[protoreflect.FullName]int, len(names))
	known := make(map[protoreflect.FullName]bool, len(services))
	for _, sd := range services {
		known[sd.FullName()] = true
	}
	var problems core.Problems
	for i, n := range names {
		name := protoreflect.FullName(n)
		switch {
		case !known[name]:
			problems = append(problems, &core.Problem{Name: "gateway.WithRegistrationOrder", Field: fmt.Sprintf("services[%d]", i), Value: n,
				Msg: "not a service in the descriptor source: give full names (\"pkg.v1.FooService\") of services whose generated Register functions you call"})
		case order[name] != 0:
			problems = append(problems, &core.Problem{Name: "gateway.WithRegistrationOrder", Field: fmt.Sprintf("services[%d]", i), Value: n,
				Msg: "named twice: give each service once, in the order your program registers them"})
		default:
			order[name] = i + 1
		}
	}
	return order, problems
}

// ambiguities reports pairs of routes of one method from different services
// that some request path matches both of and whose answers differ: the mux
// runs whichever was registered last, and the generated Register function
// of each service is called in an order the middleware cannot see. order
// (WithRegistrationOrder) settles a pair whose services it both names.
// WithRoute routes are registered after every service, as documented.
func (m *Middleware) ambiguities(order map[protoreflect.FullName]int) core.Problems {
	var problems core.Problems
	m.table.Ambiguities(func(_ string, a, b int) {
		ra, rb := m.routes[a], m.routes[b]
		switch {
		case ra.service == "" || rb.service == "" || ra.service == rb.service:
			return // the order is known
		case order[protoreflect.FullName(ra.service)] != 0 && order[protoreflect.FullName(rb.service)] != 0:
			return // declared
		case ra.policy == rb.policy && ra.expose == rb.expose:
			return // the same answer whichever runs
		}
		problems = append(problems, &core.Problem{
			Name:  ra.rpc,
			Field: "google.api.http",
			Value: ra.method + " " + ra.template,
			Msg: fmt.Sprintf("%s's route %s %s can match the same requests under another CORS policy; "+
				"grpc-gateway's mux runs whichever service was registered last, which the middleware cannot see: "+
				"give the order your program calls the services' Register functions in with "+
				"gateway.WithRegistrationOrder(%q, %q) (later wins), or make the routes disjoint",
				rb.rpc, rb.method, rb.template, ra.service, rb.service),
		})
	})
	return problems
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
		rt := &gwRoute{method: b.method, template: b.template, service: b.service, rpc: b.rpc}
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

// Handler returns mux behind the middleware. Preflights for a path where
// the requested method's route has a CORS policy are answered here and
// never reach mux; so are preflights refused because only other methods at
// that path have one. Other requests to CORS-enabled routes are decorated
// before mux runs. Unsafe cross-origin requests to any route from an origin
// the policy of the RPC that would run does not allow are refused (see
// [WithCrossOriginProtection]); everything else reaches mux untouched.
func (m *Middleware) Handler(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := core.ReadRequest(r)
		if q.IsPreflight() {
			if !m.preflight(w, r, &q) {
				mux.ServeHTTP(w, r)
			}
			return
		}
		rt := m.actualRoute(r)
		if rt == nil {
			mux.ServeHTTP(w, r)
			return
		}
		granted := false
		if rt.policy != nil {
			granted = rt.policy.Actual(w.Header(), &q, rt.expose)
		}
		// The method that counts is the RPC's: after the mux's method
		// override and form fallback, not the request line's.
		if !granted && m.protection != core.ProtectionOff && !core.SafeMethod(rt.method) && core.CrossOrigin(r) {
			if m.logger != nil {
				m.logCrossOrigin(r, &q, rt)
			}
			if m.protection == core.ProtectionOn {
				core.RefuseCrossOrigin(w)
				return
			}
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

// overrideHeader is the header grpc-gateway's mux reads to run another
// method's handler for a form POST; Access-Control-Request-Headers names it
// in lower case.
const overrideHeader = "x-http-method-override"

// routesAt holds, for each method of the table (Middleware.methods order),
// the route the mux runs for that method at one path, or nil.
type routesAt []*gwRoute

// preflight answers r and reports whether it did. The answer is decided by
// every RPC the browser could reach with what it grants, not only by the
// route of the requested method:
//   - a form POST carrying X-HTTP-Method-Override runs the handler of the
//     method it names, so granting that header needs every RPC at the path
//     to allow the request;
//   - a browser caches header grants for any method at the URL and never
//     preflights GET, HEAD or POST, so where another RPC at the path that
//     the page could then reach would refuse the requested headers, the
//     answer is made uncacheable (Access-Control-Max-Age: 0).
func (m *Middleware) preflight(w http.ResponseWriter, r *http.Request, q *core.Request) bool {
	p, ok := route.NewPath(r, m.mode)
	if !ok {
		return false
	}
	var buf [8]*gwRoute
	at := routesAt(buf[:0])
	for _, meth := range m.methods {
		at = append(at, m.lookup(meth, &p))
	}
	var rt *gwRoute
	for i, meth := range m.methods {
		if meth == q.Method {
			rt = at[i]
			break
		}
	}
	if rt == nil || rt.policy == nil {
		// The requested method has no CORS-enabled route here. If another
		// method does, the browser is asking about this resource: refuse it
		// under that route's policy (so WithDebug and WithLogger apply)
		// rather than let the mux answer 404 or 405.
		for _, o := range at {
			if o != nil && o.policy != nil {
				out := o.policy.Preflight(w, q, core.Answer{})
				if m.logger != nil {
					m.logRefused(r, q, rt, out)
				}
				return true
			}
		}
		return false
	}

	pol := rt.policy
	// Allow-Methods: the requested method and the siblings whose route at
	// this very path has the same answer (the same compiled policy).
	mask := 0
	for i, s := range rt.siblings {
		for j, meth := range m.methods {
			if meth == s {
				if o := at[j]; o != nil && o.policy == pol {
					mask |= 1 << i
				}
				break
			}
		}
	}
	ans := core.Answer{Methods: rt.allow[mask]}
	out := pol.Check(q)
	override := out.Reason == core.Allowed && !m.noFallback && !m.noOverride && q.RequestsHeader(overrideHeader)
	if out.Reason == core.Allowed && (override || q.RequestsHeaders()) {
		for _, o := range at {
			if o == nil || o == rt || o.policy == pol {
				continue
			}
			allows := o.policy != nil && o.policy.Check(q).Reason == core.Allowed &&
				(!pol.Credentials() || o.policy.Credentials())
			if allows {
				continue
			}
			if override && q.Method == http.MethodPost {
				// The form POST this preflight grants can run o.
				out = core.Outcome{Reason: core.HeaderNotAllowed, Value: overrideHeader}
				break
			}
			// Could the page reach o without a preflight once this answer
			// is cached? Always for GET, HEAD and POST; for other methods
			// when o's policy grants the method to this origin; for any
			// method through a cached override grant.
			if override || o.method == http.MethodGet || o.method == http.MethodHead || o.method == http.MethodPost ||
				o.policy != nil && o.policy.AllowsOrigin(q.Origin) {
				ans.Uncacheable = true
			}
		}
	}
	if out.Reason != core.Allowed {
		out = pol.Refuse(w, q, out, ans.Methods)
	} else {
		out = pol.Preflight(w, q, ans)
	}
	if out.Reason != core.Allowed && m.logger != nil {
		m.logRefused(r, q, rt, out)
	}
	return true
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

// formType is the media type for which the mux applies its method override
// and its POST to GET fallback.
const formType = "application/x-www-form-urlencoded"

// isForm reports whether the request body is a form exactly as the mux
// decides: mime.ParseMediaType of the first Content-Type line succeeds and
// gives formType. ParseMediaType lower-cases with strings.ToLower and trims
// with strings.TrimSpace, which both go beyond ASCII (U+212A KELVIN SIGN
// lower-cases to 'k', U+0130 to 'i'; U+00A0 and U+3000 are spaces), so the
// cheap test that spares other requests the parse applies the same
// functions rune by rune.
func isForm(h http.Header) bool {
	v := h["Content-Type"]
	if len(v) == 0 {
		return false
	}
	base, _, _ := strings.Cut(v[0], ";")
	if !lowerEquals(strings.TrimSpace(base), formType) {
		return false
	}
	mt, _, err := mime.ParseMediaType(v[0])
	return err == nil && mt == formType
}

// lowerEquals reports whether strings.ToLower(s) == lower, without
// allocating.
func lowerEquals(s, lower string) bool {
	i := 0
	for _, c := range s {
		l := unicode.ToLower(c)
		if l >= utf8.RuneSelf || i >= len(lower) || byte(l) != lower[i] {
			return false
		}
		i++
	}
	return i == len(lower)
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

// logRefused logs a refused preflight. rt is the route of the requested
// method at the path, nil when it has none.
func (m *Middleware) logRefused(r *http.Request, q *core.Request, rt *gwRoute, out core.Outcome) {
	routeName, rpc := "", ""
	if rt != nil {
		routeName, rpc = rt.method+" "+rt.template, rt.rpc
	}
	m.logger.LogAttrs(r.Context(), slog.LevelInfo, "protocors: CORS preflight refused",
		slog.String("route", routeName),
		slog.String("rpc", rpc),
		slog.String("path", r.URL.Path),
		slog.String("origin", strings.Join(q.Origins(), ", ")),
		slog.String("method", q.Method),
		slog.String("reason", out.Reason.String()),
		slog.String("value", out.Value),
	)
}

func (m *Middleware) logCrossOrigin(r *http.Request, q *core.Request, rt *gwRoute) {
	msg := "protocors: cross-origin request refused"
	if m.protection == core.ProtectionReportOnly {
		msg = "protocors: cross-origin request would be refused (report only)"
	}
	m.logger.LogAttrs(r.Context(), slog.LevelInfo, msg,
		slog.String("route", rt.method+" "+rt.template),
		slog.String("rpc", rt.rpc),
		slog.String("path", r.URL.Path),
		slog.String("origin", strings.Join(q.Origins(), ", ")),
		slog.String("method", r.Method),
		slog.String("sec_fetch_site", r.Header.Get("Sec-Fetch-Site")),
	)
}
