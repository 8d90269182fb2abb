package core

import (
	"net/http"
	"strconv"
	"strings"
)

// Config is the validated input of [Compile]: one route's effective policy
// plus the protocol's own headers.
type Config struct {
	// Origins are allow_origins entries, as accepted by ParseOrigin.
	Origins []string
	// OriginOptions are the relaxations ParseOrigin was validated with.
	OriginOptions OriginOptions
	// Credentials sends Access-Control-Allow-Credentials: true.
	Credentials bool
	// AllowHeaders are the application's request headers; "*" allows any
	// but Authorization.
	AllowHeaders []string
	// ProtocolHeaders are request headers the RPC protocol itself sends;
	// always allowed.
	ProtocolHeaders []string
	// MaxAge is Access-Control-Max-Age in seconds; negative omits it.
	MaxAge int
	// Debug answers refused preflights in a way that makes the browser's
	// console name the check that failed (see Engine.Preflight).
	Debug bool
}

// Engine runs the CORS protocol for the routes that share one effective
// policy: the compiled form of a [Config] (the protocors.v1.Policy of an RPC
// after merging, plus its protocol headers).
// It is immutable after Compile and safe for concurrent use.
type Engine struct {
	origins     originMatcher
	anyOrigin   bool // "*" without credentials: the answer is the same for every origin
	credentials bool
	anyHeader   bool // "*" in allow_headers
	allowAuth   bool // Authorization listed by name
	headers     headerSet
	maxAge      string // "" when unset
	debug       bool
}

// Compile checks c's origins and precomputes everything the request path
// needs. The middlewares validate whole policies first ([Validate]) and
// compile through an [Interner], which cannot fail; Compile is for a
// Config built by hand.
func Compile(c Config) (*Engine, error) {
	for _, o := range c.Origins {
		if _, err := ParseOrigin(o, c.OriginOptions); err != nil {
			return nil, &Problem{Field: "allow_origins", Value: o, Message: err.Error(), Kind: kindOf(err, KindOrigin)}
		}
	}
	return compile(c), nil
}

// compile builds the Engine of a validated Config: every origin parses.
func compile(c Config) *Engine {
	p := &Engine{credentials: c.Credentials, debug: c.Debug}
	patterns := make([]originPattern, 0, len(c.Origins))
	for _, o := range c.Origins {
		if op, err := ParseOrigin(o, c.OriginOptions); err == nil {
			patterns = append(patterns, op)
		}
	}
	p.origins = newOriginMatcher(patterns)
	p.anyOrigin = p.origins.any && !c.Credentials
	var names []string
	for _, h := range c.AllowHeaders {
		if h == "*" {
			p.anyHeader = true
			continue
		}
		names = append(names, h)
	}
	names = append(names, c.ProtocolHeaders...)
	p.headers = newHeaderSet(names)
	p.allowAuth = p.headers.has("authorization")
	if c.MaxAge >= 0 {
		p.maxAge = strconv.Itoa(c.MaxAge)
	}
	return p
}

// AnyOrigin reports whether the policy answers every origin alike ("*"
// without credentials).
func (p *Engine) AnyOrigin() bool { return p.anyOrigin }

// AllowsOrigin reports whether a request with this single Origin value
// would be granted.
func (p *Engine) AllowsOrigin(origin string) bool { return p.origins.match(origin) }

// headerAllowed reports whether a requested header name (any case) may be
// sent.
func (p *Engine) headerAllowed(name string) bool {
	if p.headers.has(name) {
		return true
	}
	// "*" never covers Authorization (Fetch: CORS non-wildcard request-header name).
	return p.anyHeader && !strings.EqualFold(name, "authorization")
}

// Reason says why a preflight was refused.
type Reason uint8

const (
	// Allowed: the preflight succeeded.
	Allowed Reason = iota
	// OriginNotAllowed: the Origin is missing from the policy, malformed,
	// or sent on several lines.
	OriginNotAllowed
	// MethodNotAllowed: the route does not bind Access-Control-Request-Method.
	MethodNotAllowed
	// HeaderNotAllowed: a name in Access-Control-Request-Headers is not allowed.
	HeaderNotAllowed
	// MalformedRequest: Access-Control-Request-Headers is not a list of
	// tokens, or asks for too many.
	MalformedRequest
)

func (r Reason) String() string {
	switch r {
	case Allowed:
		return "allowed"
	case OriginNotAllowed:
		return "origin not allowed"
	case MethodNotAllowed:
		return "method not allowed"
	case HeaderNotAllowed:
		return "header not allowed"
	default:
		return "malformed request headers"
	}
}

// Outcome is the result of a preflight: the reason, and the offending value
// (the origin, method or header name) when refused. Value is a substring of
// the request and must not be retained past the request.
type Outcome struct {
	Reason Reason
	Value  string
}

// Well-known header keys, in canonical form so the request path indexes
// header maps directly.
const (
	hOrigin        = "Origin"
	hVary          = "Vary"
	hACRM          = "Access-Control-Request-Method"
	hACRH          = "Access-Control-Request-Headers"
	hACAO          = "Access-Control-Allow-Origin"
	hACAC          = "Access-Control-Allow-Credentials"
	hACAM          = "Access-Control-Allow-Methods"
	hACAH          = "Access-Control-Allow-Headers"
	hACMA          = "Access-Control-Max-Age"
	hACEH          = "Access-Control-Expose-Headers"
	varyPreflight  = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
	varyOriginOnly = "Origin"
)

// Request is what the CORS protocol reads of an HTTP request, looked up
// once: the middlewares classify the request and route it with these values,
// then hand them to [Engine.Preflight], or [Engine.Grants] and [Engine.Decorate].
type Request struct {
	// Origin is the request's Origin when it has exactly one; "" otherwise
	// (absent, or several lines, which no browser sends).
	Origin string
	// Method is Access-Control-Request-Method when the request has exactly
	// one; "" otherwise.
	Method  string
	origins []string // the Origin field lines
	acrh    []string // Access-Control-Request-Headers field lines
	// preflight: OPTIONS with an Origin and an Access-Control-Request-Method.
	preflight bool
}

// ReadRequest reads r's CORS headers: Origin always, the preflight headers
// only for OPTIONS.
func ReadRequest(r *http.Request) Request {
	q := Request{origins: r.Header[hOrigin]}
	if len(q.origins) == 1 {
		q.Origin = q.origins[0]
	}
	if r.Method == http.MethodOptions && len(q.origins) > 0 {
		acrm, ok := r.Header[hACRM]
		if ok {
			q.preflight = true
			if len(acrm) == 1 {
				q.Method = acrm[0]
			}
			q.acrh = r.Header[hACRH]
		}
	}
	return q
}

// IsPreflight reports whether the request is a CORS preflight: OPTIONS with
// an Origin and an Access-Control-Request-Method. An OPTIONS request without
// them is an ordinary request.
func (q *Request) IsPreflight() bool { return q.preflight }

// HasOrigin reports whether the request carries an Origin field.
func (q *Request) HasOrigin() bool { return len(q.origins) > 0 }

// Origins returns every Origin line, for logging.
func (q *Request) Origins() []string { return q.origins }

// Answer is what a middleware found for a preflight it matched to a route
// under a policy: what [Engine.Preflight] writes besides the policy's own
// grants.
type Answer struct {
	// Methods is the Access-Control-Allow-Methods value; "" when the route
	// does not bind the requested method (the preflight is refused).
	Methods string
	// Uncacheable answers Access-Control-Max-Age: 0 instead of the policy's
	// max age. A browser caches header grants for every method at a URL and
	// sends GET, HEAD and POST without a preflight; where another RPC at the
	// same URL would refuse what this answer grants, the grant must serve
	// this request only. (An absent Max-Age means 5 seconds to a browser, so
	// 0 is written explicitly.)
	Uncacheable bool
}

// Check reports whether the preflight q passes this policy's origin and
// request-header checks, without writing anything or allocating. The
// middlewares use it to ask the other RPCs a request could reach.
func (p *Engine) Check(q *Request) Outcome {
	if !p.origins.match(q.Origin) {
		return Outcome{OriginNotAllowed, q.Origin}
	}
	_, refused, bad := scanRequestHeaders(q.acrh, p)
	switch {
	case bad:
		return Outcome{MalformedRequest, refused}
	case refused != "":
		return Outcome{HeaderNotAllowed, refused}
	}
	return Outcome{}
}

// Credentials reports whether the policy allows credentials.
func (p *Engine) Credentials() bool { return p.credentials }

// Preflight answers the preflight q, which the middleware matched to a route
// under this policy, as a says.
//
// On success it writes 204 with the CORS headers; on refusal, 403 and no
// CORS headers at all, allocating nothing. With Debug set, a refusal for a
// method or header is answered as [Engine.Refuse] does.
func (p *Engine) Preflight(w http.ResponseWriter, q *Request, a Answer) Outcome {
	o := q.Origin
	if !p.origins.match(o) {
		w.WriteHeader(http.StatusForbidden)
		return Outcome{OriginNotAllowed, o}
	}
	if a.Methods == "" {
		return p.Refuse(w, q, Outcome{MethodNotAllowed, q.Method}, "")
	}
	acrh := q.acrh
	rh, refused, bad := scanRequestHeaders(acrh, p)
	switch {
	case bad:
		return p.Refuse(w, q, Outcome{MalformedRequest, refused}, a.Methods)
	case refused != "":
		return p.Refuse(w, q, Outcome{HeaderNotAllowed, refused}, a.Methods)
	}

	h := w.Header()
	prev := prevVary(h)
	maxAge := p.maxAge
	if a.Uncacheable {
		maxAge = "0"
	}
	n := 3 // Allow-Origin, Allow-Methods, Vary
	if p.credentials {
		n++
	}
	if rh.count > 0 {
		n++
	}
	if maxAge != "" {
		n++
	}
	// One allocation for every value we write. Each header gets its own
	// capacity-limited window, so a later append by anyone reallocates
	// instead of writing into a neighbour.
	vals := make([]string, n)
	i := 0
	put := func(key, v string) {
		vals[i] = v
		h[key] = vals[i : i+1 : i+1]
		i++
	}
	if p.anyOrigin {
		put(hACAO, "*")
	} else {
		put(hACAO, o)
	}
	if p.credentials {
		put(hACAC, "true")
	}
	put(hACAM, a.Methods)
	if rh.count > 0 {
		if rh.canonical != "" {
			put(hACAH, rh.canonical)
		} else {
			put(hACAH, joinRequestHeaders(acrh, rh.count))
		}
	}
	if maxAge != "" {
		put(hACMA, maxAge)
	}
	if len(prev) > 0 {
		h[hVary] = append(prev, varyPreflight)
	} else {
		put(hVary, varyPreflight)
	}
	w.WriteHeader(http.StatusNoContent)
	return Outcome{}
}

// Refuse answers a preflight refused for out's reason: 403 without CORS
// headers, allocating nothing. With Debug set, a preflight from an allowed
// origin refused for a method or header gets 204 with the origin granted
// and every grant but the missing one, so the browser's console names
// exactly what is missing: no Allow-Methods for a refused method; for a
// refused header, Allow-Methods (methods) and the requested headers this
// policy allows. Browsers check the method first, then the headers, and
// name the first that fails.
func (p *Engine) Refuse(w http.ResponseWriter, q *Request, out Outcome, methods string) Outcome {
	if !p.debug || out.Reason == OriginNotAllowed || !p.origins.match(q.Origin) {
		w.WriteHeader(http.StatusForbidden)
		return out
	}
	h := w.Header()
	if p.anyOrigin {
		h[hACAO] = []string{"*"}
	} else {
		h[hACAO] = []string{q.Origin}
	}
	if p.credentials {
		h[hACAC] = []string{"true"}
	}
	if out.Reason != MethodNotAllowed && methods != "" {
		h[hACAM] = []string{methods}
		if allowed := p.allowedSubset(q.acrh); allowed != "" {
			h[hACAH] = []string{allowed}
		}
	}
	h[hVary] = append(h[hVary], varyPreflight)
	w.WriteHeader(http.StatusNoContent)
	return out
}

// allowedSubset lists the requested header names this policy allows, for
// debug answers only. The input was bounded by scanRequestHeaders first.
func (p *Engine) allowedSubset(lines []string) string {
	var out []string
	for _, line := range lines {
		for _, el := range strings.Split(line, ",") {
			el = strings.Trim(el, " \t")
			if el != "" && len(el) <= maxHeaderNameLen && IsToken(el) && p.headerAllowed(el) {
				out = append(out, strings.ToLower(el))
			}
		}
	}
	return strings.Join(out, ",")
}

// Actual decorates the response to a request that is not a preflight, before
// the wrapped handler runs, and returns whether the origin was granted: it
// is [Engine.Grants] followed by [Engine.Decorate].
func (p *Engine) Actual(h http.Header, q *Request, expose string) bool {
	granted := p.Grants(q)
	p.Decorate(h, q, expose, granted)
	return granted
}

// Grants reports whether the policy grants the origin of q, an actual
// request: any origin under a "*" policy without credentials, otherwise
// the request's one Origin when the policy lists it. It writes nothing, so
// a middleware can let the cross-origin request protection refuse the
// request before anything is written for it.
func (p *Engine) Grants(q *Request) bool {
	return p.anyOrigin || p.origins.match(q.Origin)
}

// Decorate writes the CORS headers of an actual request that Grants judged.
// expose is the Access-Control-Expose-Headers value for the route ("" for
// none).
//
// A request whose origin is not granted (or that has none) gets Vary:
// Origin only: the answer depends on it. Under an any-origin policy,
// Allow-Origin: * goes on every response instead, and no Vary.
func (p *Engine) Decorate(h http.Header, q *Request, expose string, granted bool) {
	if p.anyOrigin {
		n := 1
		if expose != "" {
			n++
		}
		vals := make([]string, n)
		vals[0] = "*"
		h[hACAO] = vals[0:1:1]
		if expose != "" {
			vals[1] = expose
			h[hACEH] = vals[1:2:2]
		}
		return
	}
	if !granted {
		addVaryOrigin(h, prevVary(h), nil)
		return
	}
	n := 2 // Allow-Origin, Vary
	if p.credentials {
		n++
	}
	if expose != "" {
		n++
	}
	prev := prevVary(h)
	vals := make([]string, n)
	vals[0] = q.Origin
	h[hACAO] = vals[0:1:1]
	i := 1
	if p.credentials {
		vals[i] = "true"
		h[hACAC] = vals[i : i+1 : i+1]
		i++
	}
	if expose != "" {
		vals[i] = expose
		h[hACEH] = vals[i : i+1 : i+1]
		i++
	}
	addVaryOrigin(h, prev, vals[i:i+1:i+1])
}

// prevVary returns the Vary lines already set, skipping the lookup in a
// fresh header map (the usual case: the middleware writes first).
func prevVary(h http.Header) []string {
	if len(h) == 0 {
		return nil
	}
	return h[hVary]
}

// addVaryOrigin adds Origin to Vary unless prev, the Vary lines already
// there, hold it. spare, if not nil, is a one-element slice to use when
// Vary is not set yet.
func addVaryOrigin(h http.Header, prev, spare []string) {
	for _, v := range prev {
		if hasToken(v, varyOriginOnly) || v == "*" {
			return
		}
	}
	if len(prev) > 0 {
		h[hVary] = append(prev, varyOriginOnly)
		return
	}
	if spare == nil {
		spare = make([]string, 1)
	}
	spare[0] = varyOriginOnly
	h[hVary] = spare
}

// hasToken reports whether the comma-separated list v holds tok (any case).
func hasToken(v, tok string) bool {
	for v != "" {
		var el string
		el, v, _ = strings.Cut(v, ",")
		if strings.EqualFold(strings.Trim(el, " \t"), tok) {
			return true
		}
	}
	return false
}
