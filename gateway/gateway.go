package gateway

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"go.opentelemetry.io/otel/attribute"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/protocors/protocors/internal/cfgerr"
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
// safe for concurrent use; [Middleware.Reconfigure] replaces its whole
// configuration at once.
type Middleware struct {
	state atomic.Pointer[state]
	// mu orders Reconfigure calls, so that each compares its configuration
	// with the one it replaces.
	mu sync.Mutex
}

// state is everything New and Reconfigure compute: immutable once stored,
// so a request loads it once and sees one configuration throughout.
type state struct {
	table      *route.Table
	entries    []*entry // by table id
	methods    []string // every method with a route, in answer order
	mode       route.Mode
	noFallback bool
	noOverride bool
	gate       core.Gate // the actual-request path, shared with the interceptor

	// routes is what the route analysis read, for Reconfigure to tell
	// whether it can reuse it.
	routes routeKey
}

// routeKey is every input of the route analysis (table, Allow-Methods
// candidates, ambiguities) besides the policies: the services in
// registration order, the WithRoute routes, and the options that change
// matching. Reconfigure with an equal key reuses the table and recomputes
// policies only.
type routeKey struct {
	files    *protoregistry.Files
	services []protoreflect.ServiceDescriptor
	extra    []string // WithRoute "METHOD template"
	order    []string
	mode     route.Mode
	strict   bool
}

func (k *routeKey) equal(o *routeKey) bool {
	return k.files == o.files && k.mode == o.mode && k.strict == o.strict &&
		slices.Equal(k.services, o.services) && slices.Equal(k.extra, o.extra) && slices.Equal(k.order, o.order)
}

// entry is one (method, path template) binding: what New read for it and
// everything the request path needs, computed in New.
type entry struct {
	method   string
	template string
	tmpl     *route.Template
	service  string                        // the RPC's service; "" for WithRoute routes
	rpc      string                        // the RPC's full name; "" for WithRoute routes
	body     bool                          // the route has a request body
	shape    string                        // tmpl.Shape()
	md       protoreflect.MethodDescriptor // nil for WithRoute routes
	extra    int                           // index in WithRoute routes; -1 for RPCs
	eff      *core.Effective

	engine   *core.Engine // nil: no CORS handling, requests pass through
	policy   *core.Engine // engine without the Content-Type grant: routes with equal policies share it
	expose   string       // Access-Control-Expose-Headers
	siblings []int        // other methods that may share this answer at a path, by index in state.methods
	allow    []string     // Access-Control-Allow-Methods by sibling subset; see allowMethods
	counts   *core.Counts // nil without WithMeterProvider
}

// allowMethods is the Access-Control-Allow-Methods value listing e's method
// and the siblings whose bit is set in verified (bit i: siblings[i]), the
// methods whose route at the request's path has the same policy.
func (e *entry) allowMethods(verified uint) string { return e.allow[verified] }

// attributes are the metric attributes of the route: OpenTelemetry's RPC
// and HTTP semantic conventions.
func (e *entry) attributes() []attribute.KeyValue {
	kv := []attribute.KeyValue{
		attribute.String("http.route", e.template),
		attribute.String("http.request.method", e.method),
	}
	if e.rpc != "" {
		kv = append(kv,
			attribute.String("rpc.system", "grpc"),
			attribute.String("rpc.service", e.service),
			attribute.String("rpc.method", e.rpc[strings.LastIndexByte(e.rpc, '.')+1:]),
		)
	}
	return kv
}

// name names the route in problems and logs.
func (e *entry) name() string {
	if e.rpc != "" {
		return e.rpc
	}
	return "gateway.WithRoute " + e.method + " " + e.template
}

// New reads the google.api.http rules (additional_bindings included) and the
// protocors policy of every RPC in the descriptor source, adds the routes of
// [WithRoute], validates every policy and compiles them. Its error is a
// *protocors.Error naming every problem found, by descriptor full name,
// field and value.
func New(opts ...Option) (*Middleware, error) {
	// Reconfigure on a new Middleware: with no running state there is no
	// route analysis to reuse and no route to keep.
	m := &Middleware{}
	if err := m.Reconfigure(opts...); err != nil {
		return nil, err
	}
	return m, nil
}

// Reconfigure replaces the middleware's whole configuration with the one
// opts describe, validated and compiled exactly as New(opts...) would, then
// swapped in atomically: every request is served by the old configuration
// or the new one, never a mix. On error nothing changes and the error is
// New's. Options are not merged with the previous ones: pass them all, as
// to New.
//
// When the descriptor source (the same registry, with the same services),
// the WithRoute routes and the matching options are those of the current
// configuration, the route table and its analysis are reused and only the
// policies are read, validated and compiled again: an origin reload costs
// what its policies cost.
//
// A configuration that lacks a route the running one serves is an error
// too (a *protocors.Error naming each such route): the mux cannot
// unregister its handler, which would then serve it with neither CORS nor
// the cross-origin request protection.
func (m *Middleware) Reconfigure(opts ...Option) error {
	st, err := build(opts, m.state.Load())
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := st.keeps(m.state.Load()); err != nil {
		return err
	}
	m.state.Store(st)
	return nil
}

// keeps reports, as a configuration error, every route of old (method and
// path template) that st lacks. A nil old, the state of a new Middleware,
// has none.
func (st *state) keeps(old *state) error {
	if old == nil {
		return nil
	}
	routes := make(map[string]bool, len(st.entries))
	for _, e := range st.entries {
		routes[e.method+" "+e.template] = true
	}
	var ps core.Problems
	for _, e := range old.entries {
		r := e.method + " " + e.template
		if routes[r] {
			continue
		}
		field := "google.api.http"
		if e.rpc == "" {
			field = "gateway.WithRoute"
		}
		routes[r] = true // named once, whatever binds it twice
		ps = append(ps, &core.Problem{Descriptor: e.name(), Field: field, Value: r, Kind: core.KindOption,
			Message: "served by the running configuration, but the new one lacks this route: the mux still serves it, and would serve it " +
				"without CORS and without the cross-origin request protection; pass protocors.WithFiles with a registry that holds it, " +
				"or the same gateway.WithRoute"})
	}
	return cfgerr.Public(ps.Err())
}

// build is New without the Middleware. prev, when not nil, is the current
// configuration, whose route analysis build reuses if its inputs did not
// change.
func build(opts []Option, prev *state) (*state, error) {
	s := core.NewSettings()
	s = core.Apply(opts, s)
	g := &s.Gateway
	pl := core.NewPipeline(&s)
	if g.Mode < route.ModeLegacy || g.Mode > route.ModeAllCharacters {
		pl.Problem(&core.Problem{Field: fmt.Sprintf("gateway.WithUnescapingMode(%d)", g.Mode), Kind: core.KindOption,
			Message: "not a runtime.UnescapingMode"})
		g.Mode = route.ModeLegacy // the mux's default
	}
	services := pl.Services()
	order := registrationOrder(pl, services, g.Order)
	// The declared services last, in the declared order: later wins, as in
	// the mux. Others keep file path order.
	slices.SortStableFunc(services, func(a, b protoreflect.ServiceDescriptor) int {
		return order[a.FullName()] - order[b.FullName()]
	})
	key := routeKey{files: s.Files, services: services, order: g.Order, mode: g.Mode, strict: g.StrictWildcard}
	for _, x := range g.Routes {
		key.extra = append(key.extra, x.Method+" "+x.Template)
	}
	if prev == nil || !prev.routes.equal(&key) {
		prev = nil
	}

	var entries []*entry
	if prev != nil {
		// Same routes: read and validate their policies again, keep the
		// rest.
		entries = make([]*entry, len(prev.entries))
		for i, old := range prev.entries {
			e := &entry{method: old.method, template: old.template, tmpl: old.tmpl, service: old.service, rpc: old.rpc,
				body: old.body, shape: old.shape, md: old.md, extra: old.extra}
			if e.md != nil {
				if eff, ok := pl.Method(e.md); ok {
					e.eff = eff
				}
			} else if eff, ok := pl.Route(e.name(), g.Routes[e.extra].Policy); ok {
				e.eff = eff
			}
			entries[i] = e
		}
	} else {
		entries = readEntries(pl, services, g.Routes)
		if len(entries) == 0 && len(g.Routes) == 0 && s.Files != nil {
			pl.Problem(&core.Problem{Field: "google.api.http", Kind: core.KindRoute,
				Message: "no RPC in the descriptor source has a google.api.http rule, so the middleware has no route to serve and every request would reach the mux untouched: " +
					"import the Go package generated for your .proto files (its init registers the descriptors, with their http rules, in protoregistry.GlobalFiles), " +
					"or pass the registry that holds them with protocors.WithFiles; for routes registered with HandlePath, use gateway.WithRoute"})
		}
	}

	st := &state{
		mode:       g.Mode,
		noFallback: g.NoFallback,
		noOverride: g.NoOverride,
		gate:       core.NewGate(&s, g.NoOverride || g.NoFallback),
		routes:     key,
	}
	if metrics := pl.Metrics(); metrics != nil {
		for _, e := range entries {
			e.counts = metrics.Route(e.attributes()...)
		}
	}
	if st.compile(pl, entries, prev) {
		st.ambiguities(pl, order)
	}
	if err := pl.Err(); err != nil {
		return nil, cfgerr.Public(err)
	}
	return st, nil
}

// readEntries reads the routes of every RPC of services, in order, and
// those of WithRoute after them, with their policies.
func readEntries(pl *core.Pipeline, services []protoreflect.ServiceDescriptor, extra []core.ExtraRoute) []*entry {
	var entries []*entry
	for _, sd := range services {
		methods := sd.Methods()
		for j := 0; j < methods.Len(); j++ {
			md := methods.Get(j)
			rules := route.Bindings(md)
			if len(rules) == 0 {
				continue
			}
			eff, ok := pl.Method(md)
			if !ok {
				eff = nil
			}
			rpc := string(md.FullName())
			for _, r := range rules {
				t, err := route.Parse(r.Path)
				if err != nil {
					pl.Problem(&core.Problem{Descriptor: rpc, Field: "google.api.http", Value: r.Path, Message: err.Error(), Kind: core.KindRoute})
					continue
				}
				entries = append(entries, &entry{method: r.Method, template: r.Path, tmpl: t, shape: t.Shape(), service: string(sd.FullName()),
					rpc: rpc, body: r.Body != "", md: md, extra: -1, eff: eff})
			}
		}
	}
	for i, x := range extra {
		if e := extraEntry(pl, x); e != nil {
			e.extra = i
			entries = append(entries, e)
		}
	}
	return entries
}

// extraEntry checks a WithRoute route and merges its policy over the
// default, as a method option.
func extraEntry(pl *core.Pipeline, x core.ExtraRoute) *entry {
	e := &entry{method: x.Method, template: x.Template}
	if !core.IsToken(x.Method) {
		pl.Problem(&core.Problem{Descriptor: e.name(), Field: "method", Value: x.Method, Message: "not an HTTP method (RFC 9110 token)", Kind: core.KindRoute})
		return nil
	}
	t, err := route.Parse(x.Template)
	if err != nil {
		pl.Problem(&core.Problem{Descriptor: e.name(), Field: "path template", Value: x.Template, Message: err.Error(), Kind: core.KindRoute})
		return nil
	}
	e.tmpl, e.shape = t, t.Shape()
	switch x.Method {
	case http.MethodGet, http.MethodHead, http.MethodDelete:
	default:
		e.body = true
	}
	if eff, ok := pl.Route(e.name(), x.Policy); ok {
		e.eff = eff
	}
	return e
}

// compile turns entries into the route table, sharing engines, and
// precomputes each route's Allow-Methods values. With prev (the same
// routes, in the same order), it reuses prev's table, and its
// Allow-Methods values where the routes share policies and engines as
// they did in prev. It reports whether the ambiguities must be looked for
// again: not when prev's routes were found unambiguous under the same
// partition of routes by answer.
func (st *state) compile(pl *core.Pipeline, entries []*entry, prev *state) (analyse bool) {
	// Content-Type is allowed on routes with a body, and on the other routes
	// of the same path template under the same policy: browsers cache header
	// grants per URL, not per method, and it lets one preflight answer serve
	// GET, PUT and DELETE on a resource.
	type group struct {
		shape string
		base  *core.Engine // the engine without Content-Type
	}
	groups := make([]group, len(entries))
	groupBody := make(map[group]bool)
	for i, e := range entries {
		if e.eff == nil {
			continue
		}
		groups[i] = group{e.shape, pl.Compile(pl.Config(e.eff, nil))}
		groupBody[groups[i]] = groupBody[groups[i]] || e.body
	}
	for i, e := range entries {
		if e.eff != nil {
			e.policy = groups[i].base
			e.engine = e.policy
			if groupBody[groups[i]] {
				e.engine = pl.Compile(pl.Config(e.eff, contentType))
			}
			e.expose = exposeValue(e.eff.Policy.ExposeHeaders)
			if e.engine.AnyOrigin() {
				st.gate.NoteAnyOrigin()
			}
		}
	}
	st.entries = entries
	if prev != nil {
		st.table, st.methods = prev.table, prev.methods
		if samePartition(prev.entries, entries) {
			for i, e := range entries {
				e.siblings, e.allow = prev.entries[i].siblings, prev.entries[i].allow
			}
			return false
		}
	} else {
		st.table = &route.Table{StrictDeepWildcard: st.routes.strict}
		for i, e := range entries {
			st.table.Add(e.method, e.tmpl, i)
		}
		st.table.Rank = methodRank
		st.table.Freeze()
		st.methods = st.table.Methods()
	}

	// Candidate siblings: other methods with some route under the same
	// policy. Which of them really share the answer at a path is checked per
	// request. The policy, not the engine: the Content-Type grant of a
	// route with a body is a detail of its answer (DESIGN, grpc-gateway
	// side), and cache safety for header grants is judged per request by
	// planPreflight against every route at the path.
	byPolicy := make(map[*core.Engine]map[string]bool)
	for _, e := range st.entries {
		if e.policy == nil {
			continue
		}
		if byPolicy[e.policy] == nil {
			byPolicy[e.policy] = make(map[string]bool)
		}
		byPolicy[e.policy][e.method] = true
	}
	for _, e := range st.entries {
		if e.engine == nil {
			continue
		}
		for j, meth := range st.methods {
			if meth != e.method && byPolicy[e.policy][meth] && len(e.siblings) < maxSiblings {
				e.siblings = append(e.siblings, j)
			}
		}
		e.allow = make([]string, 1<<len(e.siblings))
		for mask := range e.allow {
			list := []string{e.method}
			for i, j := range e.siblings {
				if mask&(1<<i) != 0 {
					list = append(list, st.methods[j])
				}
			}
			e.allow[mask] = strings.Join(list, ", ")
		}
	}
	return true
}

// samePartition reports whether the routes of a and b (the same routes)
// share policies, engines and exposed headers alike: route i and route j
// have the same policy in a exactly when they do in b, and so on. Then
// what New derived from which routes share an answer (Allow-Methods
// candidates, ambiguities) holds for b as it did for a.
func samePartition(a, b []*entry) bool {
	policies := make(map[*core.Engine]*core.Engine)
	back := make(map[*core.Engine]*core.Engine)
	same := func(x, y *core.Engine) bool {
		if (x == nil) != (y == nil) {
			return false
		}
		if x == nil {
			return true
		}
		if px, ok := policies[x]; ok {
			return px == y
		}
		if _, ok := back[y]; ok {
			return false
		}
		policies[x], back[y] = y, x
		return true
	}
	for i := range a {
		// Policies and engines are interned per pipeline, so an engine
		// never equals a policy of another route unless their answers are
		// equal: one map serves both.
		if a[i].expose != b[i].expose || !same(a[i].policy, b[i].policy) || !same(a[i].engine, b[i].engine) {
			return false
		}
	}
	return true
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

// registrationOrder maps each service named by WithRegistrationOrder to its
// position, counted from 1 (0 for services not named), and reports names
// that are not services of the descriptor source.
func registrationOrder(pl *core.Pipeline, services []protoreflect.ServiceDescriptor, names []string) map[protoreflect.FullName]int {
	order := make(map[protoreflect.FullName]int, len(names))
	known := make(map[protoreflect.FullName]bool, len(services))
	for _, sd := range services {
		known[sd.FullName()] = true
	}
	for i, n := range names {
		name := protoreflect.FullName(n)
		p := &core.Problem{Descriptor: "gateway.WithRegistrationOrder", Field: fmt.Sprintf("services[%d]", i), Value: n, Kind: core.KindOption}
		switch {
		case !known[name]:
			p.Message = `not a service in the descriptor source: give full names ("pkg.v1.FooService") of services whose generated Register functions you call`
		case order[name] != 0:
			p.Message = "named twice: give each service once, in the order your program registers them"
		default:
			order[name] = i + 1
			continue
		}
		pl.Problem(p)
	}
	return order
}

// ambiguities reports pairs of routes of one method from different services
// that some request path matches both of and whose answers differ: the mux
// runs whichever was registered last, and the generated Register function
// of each service is called in an order the middleware cannot see. order
// (WithRegistrationOrder) settles a pair whose services it both names.
// WithRoute routes are registered after every service, as documented.
// The route table leaves out the settled pairs before deciding any, so
// thousands of overlapping routes of one service, or of one policy, cost
// one pass.
func (st *state) ambiguities(pl *core.Pipeline, order map[protoreflect.FullName]int) {
	type answer struct {
		policy *core.Engine
		expose string
	}
	groups := map[string]int{"": 0} // WithRoute routes: order known
	answers := map[answer]int{}
	owners := make([]route.Owner, len(st.entries))
	for i, e := range st.entries {
		g, ok := groups[e.service]
		if !ok {
			g = len(groups)
			groups[e.service] = g
		}
		// Policies, not engines: the Content-Type grant a route gets
		// from a body route of its template shape is a detail of the
		// answer, not another policy (DESIGN, "Route ambiguity the
		// middleware cannot see").
		k := answer{e.policy, e.expose}
		a, ok := answers[k]
		if !ok {
			a = len(answers)
			answers[k] = a
		}
		owners[i] = route.Owner{Group: g, Declared: order[protoreflect.FullName(e.service)] != 0, Answer: a}
	}
	st.table.AmbiguitiesAmong(func(id int) route.Owner { return owners[id] }, func(_ string, a, b int) {
		ea, eb := st.entries[a], st.entries[b]
		pl.Problem(&core.Problem{
			Descriptor: ea.rpc,
			Field:      "google.api.http",
			Value:      ea.method + " " + ea.template,
			Kind:       core.KindAmbiguousRoute,
			Message: fmt.Sprintf("%s's route %s %s can match the same requests under another CORS policy; "+
				"grpc-gateway's mux runs whichever service was registered last, which the middleware cannot see: "+
				"give the order your program calls the services' Register functions in with "+
				"gateway.WithRegistrationOrder(%q, %q) (later wins), or make the routes disjoint",
				eb.rpc, eb.method, eb.template, ea.service, eb.service),
		})
	})
}
