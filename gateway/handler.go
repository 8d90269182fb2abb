package gateway

import (
	"log/slog"
	"net/http"

	"github.com/protocors/protocors/internal/core"
	"github.com/protocors/protocors/internal/route"
)

// Handler returns mux behind the middleware. A preflight is answered from
// the policies of every route at its path, or passed to the mux where no
// route there has CORS. Any other request is matched to the route the mux
// will run (method override and form fallback included): it is refused
// with 403 if the cross-origin request protection refuses it, and
// otherwise gets the CORS headers of that route's policy before the mux
// runs; except a request no browser marked, of a method whose responses
// caches do not reuse, which reaches the mux untouched before any lookup:
// nothing would be written for it whatever its route.
func (m *Middleware) Handler(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		core.ProbeSaw(r, m)  // protocorstest.Verify only: one atomic load otherwise
		st := m.state.Load() // one configuration for the whole request
		q := core.ReadRequest(r)
		if q.IsPreflight() {
			var plan preflightPlan
			st.planPreflight(r, &q, &plan)
			if plan.answering == nil {
				mux.ServeHTTP(w, r)
				return
			}
			st.answerPreflight(w, r, &q, &plan)
			return
		}
		if st.gate.Unmarked(r, &q) || st.actual(w, r, &q) {
			mux.ServeHTTP(w, r)
		}
	})
}

// overrideHeader is the header grpc-gateway's mux reads to run another
// method's handler for a form POST; Access-Control-Request-Headers names it
// in lower case.
const overrideHeader = "x-http-method-override"

// stackMethods is how many methods a preflight looks up without
// allocating: the seven of google.api.http and some custom verbs.
const stackMethods = 12

// preflightPlan is what the middleware decided about a preflight.
type preflightPlan struct {
	// asked is the route of the requested method at the path, nil for none.
	asked *entry
	// answering is the route whose engine answers: asked, or another route
	// at the path when asked has no CORS; nil lets the mux answer (no route
	// at the path has CORS).
	answering *entry
	// answer is what answering's engine grants when the request passes its
	// checks.
	answer core.Answer
	// refused is set when the preflight is refused for a reason the engine
	// alone cannot see (another RPC at the path).
	refused core.Outcome
	// conflict is the other RPC at the path that caused refused or
	// answer.Uncacheable, for the log.
	conflict *entry
}

// planPreflight decides a preflight with every RPC the browser could reach
// with what it grants, not only the route of the requested method:
//   - a form POST carrying X-HTTP-Method-Override runs the handler of the
//     method it names, so granting that header (to any method: the grant is
//     cached for the URL) needs every RPC at the path to allow the request;
//   - a browser caches header grants for any method at the URL and never
//     preflights GET, HEAD or POST, so where another RPC at the path that
//     the page could then reach would refuse the requested headers, the
//     answer is made uncacheable (Access-Control-Max-Age: 0).
func (st *state) planPreflight(r *http.Request, q *core.Request, plan *preflightPlan) {
	var p route.Path
	if !p.Reset(r, st.mode) {
		return
	}
	// The route of each method at this path (st.methods order), from one
	// walk of the table (one hash where the path is a literal route's).
	var buf [stackMethods]int
	var ids []int
	if n := len(st.methods); n <= stackMethods {
		ids = st.table.LookupAll(&p, buf[:n])
	} else {
		// Custom verbs beyond the usual ones: rare enough to allocate.
		ids = st.table.LookupAll(&p, make([]int, n))
	}
	at := routesAt{st.entries, ids}
	for i, id := range ids {
		if id >= 0 && st.methods[i] == q.Method {
			plan.asked = st.entries[id]
			break
		}
	}
	if plan.asked == nil || plan.asked.engine == nil {
		// The requested method has no CORS-enabled route here. If another
		// method does, the browser is asking about this resource: refuse it
		// under that route's policy (so WithDebug and WithLogger apply)
		// rather than let the mux answer 404 or 405.
		for i := range ids {
			if e := at.get(i); e != nil && e.engine != nil {
				plan.answering = e
				return // answer.Methods "": refused
			}
		}
		return
	}
	e := plan.asked
	plan.answering = e
	var verified uint
	for i, j := range e.siblings {
		if o := at.get(j); o != nil && o.policy == e.policy {
			verified |= 1 << i
		}
	}
	plan.answer.Methods = e.allowMethods(verified)
	if !q.RequestsHeaders() {
		return // only the method is granted, and only for e
	}
	if !at.othersThan(e) {
		return // e is the only answer at this path
	}
	override := !st.noFallback && !st.noOverride && q.RequestsHeader(overrideHeader)
	if out := e.engine.Check(q); out.Reason != core.Allowed && (!override || out.Reason == core.OriginNotAllowed) {
		// The engine refuses it on its own. Where it asks for the override
		// header from an origin e allows, the other RPCs still decide:
		// e's debug answer lists the requested headers e allows, and must
		// not list one refused for another RPC here.
		return
	}
	for i := range ids {
		o := at.get(i)
		if o == nil || o == e || o.engine == e.engine {
			continue
		}
		allows := o.engine != nil && o.engine.Check(q).Reason == core.Allowed &&
			(!e.engine.Credentials() || o.engine.Credentials())
		if allows {
			continue
		}
		if override {
			// A form POST carrying the override header can run o: the
			// header is granted only where every RPC here allows the
			// request, whatever method this preflight asks for.
			plan.refused = core.Outcome{Reason: core.HeaderNotAllowed, Value: overrideHeader}
			plan.conflict = o
			return
		}
		// Could the page reach o without a preflight once this answer is
		// cached? Always for GET, HEAD and POST; for other methods when o's
		// policy grants the method to this origin.
		if o.method == http.MethodGet || o.method == http.MethodHead || o.method == http.MethodPost ||
			o.engine != nil && o.engine.AllowsOrigin(q.Origin) {
			plan.answer.Uncacheable = true
			if plan.conflict == nil {
				plan.conflict = o
			}
		}
	}
}

// routesAt are the routes of every method at one path: ids from
// Table.LookupAll, in st.methods order, -1 for none.
type routesAt struct {
	entries []*entry
	ids     []int
}

// get returns the route of the i-th method, nil for none.
func (at routesAt) get(i int) *entry {
	if id := at.ids[i]; id >= 0 {
		return at.entries[id]
	}
	return nil
}

// othersThan reports whether a route at the path other than e answers with
// another engine (or none).
func (at routesAt) othersThan(e *entry) bool {
	for i := range at.ids {
		if o := at.get(i); o != nil && o != e && o.engine != e.engine {
			return true
		}
	}
	return false
}

// answerPreflight writes the answer planPreflight decided, then counts it
// and logs a refusal.
func (st *state) answerPreflight(w http.ResponseWriter, r *http.Request, q *core.Request, plan *preflightPlan) {
	var out core.Outcome
	if plan.refused.Reason != core.Allowed {
		// Refused for another RPC at the URL: a plain 403 even with
		// WithDebug, whose answer lists what the asked route's policy
		// allows, and would so grant the very value refused here.
		w.WriteHeader(http.StatusForbidden)
		out = plan.refused
	} else {
		out = plan.answering.engine.Preflight(w, q, plan.answer)
	}
	counted := plan.asked
	if counted == nil {
		counted = plan.answering
	}
	var name core.Namer = preflightName{plan.asked}
	if plan.conflict != nil {
		// Boxing two pointers allocates: only where another RPC decided.
		name = conflictName{plan.asked, plan.conflict}
	}
	st.gate.Preflighted(r, q, core.Target{Engine: counted.engine, Counts: counted.counts, Name: name}, out)
	if out.Reason == core.Allowed && plan.answer.Uncacheable {
		st.logUncacheable(r, q, plan)
	}
}

// logUncacheable logs, at Debug, why an allowed preflight's answer says
// Access-Control-Max-Age: 0, in the words `protocors explain` uses. Its
// only line for the preflight: the answer itself was allowed.
func (st *state) logUncacheable(r *http.Request, q *core.Request, plan *preflightPlan) {
	logger := st.gate.Logger()
	if logger == nil || !logger.Enabled(r.Context(), slog.LevelDebug) {
		return
	}
	o := plan.conflict
	c := core.RequestConflict(plan.asked.engine, o.engine, q)
	for i := range c.Origins {
		c.Origins[i] = core.LogValue(c.Origins[i])
	}
	for i := range c.Headers {
		c.Headers[i] = core.LogValue(c.Headers[i])
	}
	attrs := append(plan.asked.LogAttrs(r),
		slog.String("method", core.LogValue(q.Method)),
		slog.String("reason", core.UncacheableReason(o.name(), o.method+" "+o.template, c)),
	)
	logger.LogAttrs(r.Context(), slog.LevelDebug, "protocors: CORS preflight answer made uncacheable", attrs...)
}

// preflightName names a preflight's route in log lines: the asked route,
// or none when no route at the path binds the requested method. One
// pointer, so it is passed as a core.Namer without allocating.
type preflightName struct{ asked *entry }

func (n preflightName) LogAttrs(r *http.Request) []slog.Attr {
	if n.asked == nil {
		return []slog.Attr{slog.String("route", ""), slog.String("rpc", ""), slog.String("path", core.LogValue(r.URL.Path))}
	}
	return n.asked.LogAttrs(r)
}

// conflictName is preflightName for a preflight that another RPC at the
// path decided (a refused override header, an uncacheable answer): it
// names that RPC too.
type conflictName struct{ asked, conflict *entry }

func (n conflictName) LogAttrs(r *http.Request) []slog.Attr {
	return append(preflightName{n.asked}.LogAttrs(r),
		slog.String("refused_by", n.conflict.name()+" ("+n.conflict.method+" "+n.conflict.template+")"))
}

// actual runs a request that is not a preflight through the shared
// request path with the policy of the route the mux will run, and reports
// whether the request may reach the mux: false when the cross-origin
// request protection refused it (the 403 is written, and nothing else).
func (st *state) actual(w http.ResponseWriter, r *http.Request, q *core.Request) bool {
	e := st.actualEntry(r)
	if e == nil {
		// No handler of a known route will run: the mux answers 400, 404
		// or 405, or runs a handler the middleware was not told about.
		return st.gate.Unknown(w, r)
	}
	// The method that counts is the RPC's (e.method): after the mux's
	// method override and form fallback, not the request line's.
	return st.gate.Actual(w, r, q, core.Target{Engine: e.engine, Counts: e.counts, Name: e, Method: e.method, Expose: e.expose})
}

// LogAttrs name the route of r in log lines ([core.Namer]).
func (e *entry) LogAttrs(r *http.Request) []slog.Attr {
	return []slog.Attr{
		slog.String("route", e.method+" "+e.template),
		slog.String("rpc", e.rpc),
		slog.String("path", core.LogValue(r.URL.Path)),
	}
}

// lookup returns the route the mux runs for method at p, or nil.
func (st *state) lookup(method string, p *route.Path) *entry {
	if id, res := st.table.Lookup(method, p); res == route.Found {
		return st.entries[id]
	}
	return nil
}

// actualEntry returns the route whose handler the mux will run for r, with
// the mux's X-HTTP-Method-Override and form POST to GET fallback, or nil.
func (st *state) actualEntry(r *http.Request) *entry {
	var p route.Path
	if !p.Reset(r, st.mode) {
		return nil
	}
	method := r.Method
	form := !st.noFallback && method == http.MethodPost && isForm(r.Header)
	if form && !st.noOverride {
		if v := r.Header["X-Http-Method-Override"]; len(v) > 0 && v[0] != "" {
			method = upper(v[0])
		}
	}
	id, res := st.table.Lookup(method, &p)
	switch {
	case res == route.Found:
		return st.entries[id]
	case res == route.NotFound && form && method == http.MethodPost:
		return st.lookup(http.MethodGet, &p)
	}
	return nil
}
