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
	table      route.Table
	entries    []*entry // by table id
	methods    []string // every method with a route, in answer order
	mode       route.Mode
	noFallback bool
	noOverride bool
	gate       core.Gate // the actual-request path, shared with the interceptor
}

// entry is one (method, path template) binding: what New read for it and
// everything the request path needs, computed in New.
type entry struct {
	method   string
	template string
	tmpl     *route.Template
	service  string // the RPC's service; "" for WithRoute routes
	rpc      string // the RPC's full name; "" for WithRoute routes
	body     bool   // the route has a request body
	eff      *core.Effective

	engine   *core.Engine // nil: no CORS handling, requests pass through
	expose   string       // Access-Control-Expose-Headers
	siblings []int        // other methods that may share this answer at a path, by index in state.methods
	allow    []string     // Access-Control-Allow-Methods by sibling subset; see allowMethods
	counts   *core.Counts // nil without WithMeterProvider
}

// allowMethods is the Access-Control-Allow-Methods value listing e's method
// and the siblings whose bit is set in verified (bit i: siblings[i]), the
// methods whose route at the request's path has the same engine.
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
	st, err := build(opts)
	if err != nil {
		return nil, err
	}
	m := &Middleware{}
	m.state.Store(st)
	return m, nil
}

// Reconfigure replaces the middleware's whole configuration with the one
// opts describe, validated and compiled exactly as New(opts...) would, then
// swapped in atomically: every request is served by the old configuration
// or the new one, never a mix. On error nothing changes and the error is
// New's. Options are not merged with the previous ones: pass them all, as
// to New.
//
// A configuration that lacks a route the running one serves is an error
// too (a *protocors.Error naming each such route): the mux cannot
// unregister its handler, which would then serve it with neither CORS nor
// the cross-origin request protection.
func (m *Middleware) Reconfigure(opts ...Option) error {
	st, err := build(opts)
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
// path template) that st lacks.
func (st *state) keeps(old *state) error {
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
	return ps.Err()
}

// build is New without the Middleware.
func build(opts []Option) (*state, error) {
	s := core.NewSettings()
	s.Gateway.Mode = int(runtime.UnescapingModeDefault)
	s = core.Apply(opts, s)
	g := &s.Gateway
	pl := core.NewPipeline(&s)
	if g.Mode < int(runtime.UnescapingModeLegacy) || g.Mode > int(runtime.UnescapingModeAllCharacters) {
		pl.Problem(&core.Problem{Field: fmt.Sprintf("gateway.WithUnescapingMode(%d)", g.Mode), Kind: core.KindOption,
			Message: "not a runtime.UnescapingMode"})
		g.Mode = int(runtime.UnescapingModeDefault)
	}
	services := pl.Services()
	order := registrationOrder(pl, services, g.Order)
	// The declared services last, in the declared order: later wins, as in
	// the mux. Others keep file path order.
	slices.SortStableFunc(services, func(a, b protoreflect.ServiceDescriptor) int {
		return order[a.FullName()] - order[b.FullName()]
	})
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
				entries = append(entries, &entry{method: r.Method, template: r.Path, tmpl: t, service: string(sd.FullName()), rpc: rpc, body: r.Body != "", eff: eff})
			}
		}
	}
	if len(entries) == 0 && len(g.Routes) == 0 && s.Files != nil {
		pl.Problem(&core.Problem{Field: "google.api.http", Kind: core.KindRoute,
			Message: "no RPC in the descriptor source has a google.api.http rule, so the middleware has no route to serve and every request would reach the mux untouched: " +
				"import the Go package generated for your .proto files (its init registers the descriptors, with their http rules, in protoregistry.GlobalFiles), " +
				"or pass the registry that holds them with protocors.WithFiles; for routes registered with HandlePath, use gateway.WithRoute"})
	}
	for _, x := range g.Routes {
		if e := extraEntry(pl, x); e != nil {
			entries = append(entries, e)
		}
	}

	st := &state{
		mode:       route.Mode(g.Mode),
		noFallback: g.NoFallback,
		noOverride: g.NoOverride,
		gate:       core.NewGate(&s, g.NoOverride || g.NoFallback),
	}
	st.table.StrictDeepWildcard = g.StrictWildcard
	metrics := pl.Metrics()
	for _, e := range entries {
		e.counts = metrics.Route(e.attributes()...)
	}
	st.compile(pl, entries)
	st.ambiguities(pl, order)
	if err := pl.Err(); err != nil {
		return nil, err
	}
	return st, nil
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
	e.tmpl = t
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
// precomputes each route's Allow-Methods values.
func (st *state) compile(pl *core.Pipeline, entries []*entry) {
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
		groups[i] = group{e.tmpl.Shape(), pl.Compile(pl.Config(e.eff, nil))}
		groupBody[groups[i]] = groupBody[groups[i]] || e.body
	}
	for i, e := range entries {
		if e.eff != nil {
			e.engine = groups[i].base
			if groupBody[groups[i]] {
				e.engine = pl.Compile(pl.Config(e.eff, contentType))
			}
			e.expose = exposeValue(e.eff.Policy.ExposeHeaders)
		}
		st.table.Add(e.method, e.tmpl, len(st.entries))
		st.entries = append(st.entries, e)
	}
	st.table.Rank = methodRank
	st.table.Freeze()
	st.methods = st.table.Methods()

	// Candidate siblings: other methods with some route under the same
	// engine. Which of them really share the answer at a path is checked per
	// request.
	byEngine := make(map[*core.Engine]map[string]bool)
	for _, e := range st.entries {
		if e.engine == nil {
			continue
		}
		if byEngine[e.engine] == nil {
			byEngine[e.engine] = make(map[string]bool)
		}
		byEngine[e.engine][e.method] = true
	}
	for _, e := range st.entries {
		if e.engine == nil {
			continue
		}
		for j, meth := range st.methods {
			if meth != e.method && byEngine[e.engine][meth] && len(e.siblings) < maxSiblings {
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
func (st *state) ambiguities(pl *core.Pipeline, order map[protoreflect.FullName]int) {
	st.table.Ambiguities(func(_ string, a, b int) {
		ea, eb := st.entries[a], st.entries[b]
		switch {
		case ea.service == "" || eb.service == "" || ea.service == eb.service:
			return // the order is known
		case order[protoreflect.FullName(ea.service)] != 0 && order[protoreflect.FullName(eb.service)] != 0:
			return // declared
		case ea.engine == eb.engine && ea.expose == eb.expose:
			return // the same answer whichever runs
		}
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
