package inspect

import (
	"net/http"
	"strings"

	"github.com/protocors/protocors/internal/core"
	"github.com/protocors/protocors/internal/route"
)

// gatewayRoute is one google.api.http binding as the gateway middleware
// compiles it: its template and the engine that answers its preflights
// (nil without CORS, or when the policy is invalid and New would fail).
type gatewayRoute struct {
	rpc    string
	method string
	tmpl   *route.Template
	cfg    core.Config
	engine *core.Engine
}

func (g *gatewayRoute) name() string { return g.method + " " + g.tmpl.Source }

// GatewayRoutes are the google.api.http routes of an image, compiled.
type GatewayRoutes []*gatewayRoute

// CompileRoutes compiles every route of the image the way gateway.New
// does: one engine per distinct policy, with Content-Type allowed on routes
// with a body and on the other routes of the same template and policy.
func CompileRoutes(img *Image, r *core.Resolver, opts core.OriginOptions) GatewayRoutes {
	var in core.Interner
	type group struct {
		shape string
		base  *core.Engine
	}
	var out GatewayRoutes
	var groups []group
	var effs []*core.Effective
	body := map[group]bool{}
	for _, md := range img.Methods() {
		e := r.Resolve(md)
		valid := e.Enabled && len(core.Validate(&e, opts)) == 0
		for _, b := range route.Bindings(md) {
			t, err := route.Parse(b.Path)
			if err != nil {
				continue // a problem New reports; no route
			}
			g := &gatewayRoute{rpc: string(md.FullName()), method: b.Method, tmpl: t}
			var gr group
			var eff *core.Effective
			if valid {
				eff = &e
				gr = group{t.Shape(), in.Compile(core.ConfigOf(eff, opts, nil))}
				body[gr] = body[gr] || b.Body != ""
			}
			out, groups, effs = append(out, g), append(groups, gr), append(effs, eff)
		}
	}
	for i, g := range out {
		if effs[i] == nil {
			continue
		}
		var protocol []string
		if body[groups[i]] {
			protocol = []string{"Content-Type"}
		}
		g.cfg = core.ConfigOf(effs[i], opts, protocol)
		g.engine = in.Compile(g.cfg)
	}
	return out
}

// Uncacheable is one reason a route's preflight answers are made
// uncacheable at some URLs: another RPC's route matches them too, for a
// method the browser could then send without a preflight, and its policy
// refuses part of what this route's answer grants.
type Uncacheable struct {
	// Route is this RPC's route, "POST /v1/orders/{id}:refund".
	Route string `json:"route"`
	// OtherRoute and OtherRPC are the route that matches the same URLs and
	// the RPC the mux runs there.
	OtherRoute string `json:"other_route"`
	OtherRPC   string `json:"other_rpc"`
	// Example is a URL path both routes match, when one was found.
	Example string `json:"example,omitempty"`
	// What the other RPC refuses of this route's grants: no CORS at all, or
	// these origins, headers, credentials. Only preflights that ask for a
	// header (Access-Control-Request-Headers) are affected.
	NoCORS      bool     `json:"no_cors,omitempty"`
	Origins     []string `json:"origins,omitempty"`
	Headers     []string `json:"headers,omitempty"`
	Credentials bool     `json:"credentials,omitempty"`
	// Reason is core.UncacheableReason: the sentence the gateway
	// middleware logs at Debug.
	Reason string `json:"reason"`
}

// Uncacheable returns, for each route of rpc, the routes of other methods
// that match some of the same URLs under a policy that refuses part of
// what the route's preflight answers grant, where the browser could reach
// them without a preflight once such an answer is cached: the cases where
// the gateway middleware answers Access-Control-Max-Age: 0 to a preflight
// that asks for a header. It assumes the mux runs each overlapping route at
// the shared URLs (a third route may take some of them).
func (rs GatewayRoutes) Uncacheable(rpc string) []Uncacheable {
	var out []Uncacheable
	for _, e := range rs {
		if e.rpc != rpc || e.engine == nil {
			continue
		}
		for _, o := range rs {
			if o.method == e.method || o.engine == e.engine || !route.Overlap(e.tmpl, o.tmpl) {
				continue
			}
			c := core.GrantsBeyond(e.cfg, o.engine)
			if !simpleMethod(o.method) {
				// Reachable without a preflight only from origins o allows.
				if c.NoCORS {
					continue
				}
				c.Origins = nil
			}
			if c.Empty() {
				continue
			}
			out = append(out, Uncacheable{
				Route:       e.name(),
				OtherRoute:  o.name(),
				OtherRPC:    o.rpc,
				Example:     example(e, o),
				NoCORS:      c.NoCORS,
				Origins:     c.Origins,
				Headers:     c.Headers,
				Credentials: c.Credentials,
				Reason:      core.UncacheableReason(o.rpc, o.name(), c),
			})
		}
	}
	return out
}

// simpleMethod reports whether a browser sends method cross-origin without
// a preflight when no header needs one.
func simpleMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodPost
}

// example returns a URL path that both routes match, trying each
// template with its wildcards filled by the other's literals (or "1"); ""
// when neither try matches both.
func example(a, b *gatewayRoute) string {
	var tb route.Table
	tb.Add(a.method, a.tmpl, 0)
	tb.Add(b.method, b.tmpl, 1)
	tb.Freeze()
	for _, c := range []string{fill(a.tmpl, b.tmpl), fill(b.tmpl, a.tmpl)} {
		p, ok := route.PathOf(c, "", route.ModeLegacy)
		if !ok {
			continue
		}
		ida, ra := tb.Lookup(a.method, &p)
		idb, rb := tb.Lookup(b.method, &p)
		if ra == route.Found && rb == route.Found && ida == 0 && idb == 1 {
			return c
		}
	}
	return ""
}

// fill writes a path t matches: its literals, and for each wildcard the
// literal other has at the same position, or "1".
func fill(t, other *route.Template) string {
	var b strings.Builder
	for i, s := range t.Segments {
		b.WriteByte('/')
		switch {
		case s.Kind == route.Literal:
			b.WriteString(s.Literal)
		case i < len(other.Segments) && other.Segments[i].Kind == route.Literal && other.Segments[i].Literal != "":
			b.WriteString(other.Segments[i].Literal)
		default:
			b.WriteString("1")
		}
	}
	if t.Verb != "" {
		b.WriteString(":" + t.Verb)
	}
	return b.String()
}
