package core

import (
	"net/http"
	"strings"
)

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

// AnyOrigin reports whether the policy answers every origin alike ("*"
// without credentials).
func (e *Engine) AnyOrigin() bool { return e.anyOrigin }

// AllowsOrigin reports whether a request with this single Origin value
// would be granted.
func (e *Engine) AllowsOrigin(origin string) bool { return e.origins.match(origin) }

// headerAllowed reports whether a requested header name (any case) may be
// sent.
func (e *Engine) headerAllowed(name string) bool {
	if e.headers.has(name) {
		return true
	}
	// "*" never covers Authorization (Fetch: CORS non-wildcard request-header name).
	return e.anyHeader && !strings.EqualFold(name, "authorization")
}

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
func (e *Engine) Check(q *Request) Outcome {
	if !e.origins.match(q.Origin) {
		return Outcome{OriginNotAllowed, q.Origin}
	}
	_, refused, bad := scanRequestHeaders(q.acrh, e)
	switch {
	case bad:
		return Outcome{MalformedRequest, refused}
	case refused != "":
		return Outcome{HeaderNotAllowed, refused}
	}
	return Outcome{}
}

// Credentials reports whether the policy allows credentials.
func (e *Engine) Credentials() bool { return e.credentials }

// Preflight answers the preflight q, which the middleware matched to a route
// under this policy, as a says.
//
// On success it writes 204 with the CORS headers; on refusal, 403 and no
// CORS headers at all, allocating nothing. With Debug set, a refusal for a
// method or header is answered as [Engine.Refuse] does.
func (e *Engine) Preflight(w http.ResponseWriter, q *Request, a Answer) Outcome {
	o := q.Origin
	if !e.origins.match(o) {
		w.WriteHeader(http.StatusForbidden)
		return Outcome{OriginNotAllowed, o}
	}
	if a.Methods == "" {
		return e.Refuse(w, q, Outcome{MethodNotAllowed, q.Method}, "")
	}
	acrh := q.acrh
	rh, refused, bad := scanRequestHeaders(acrh, e)
	switch {
	case bad:
		return e.Refuse(w, q, Outcome{MalformedRequest, refused}, a.Methods)
	case refused != "":
		return e.Refuse(w, q, Outcome{HeaderNotAllowed, refused}, a.Methods)
	}

	h := w.Header()
	prev := prevVary(h)
	maxAge := e.maxAge
	if a.Uncacheable {
		maxAge = "0"
	}
	n := 3 // Allow-Origin, Allow-Methods, Vary
	if e.credentials {
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
	if e.anyOrigin {
		put(hACAO, "*")
	} else {
		put(hACAO, o)
	}
	if e.credentials {
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
		h[hVary] = appendOwn(prev, varyPreflight)
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
func (e *Engine) Refuse(w http.ResponseWriter, q *Request, out Outcome, methods string) Outcome {
	if !e.debug || out.Reason == OriginNotAllowed || !e.origins.match(q.Origin) {
		w.WriteHeader(http.StatusForbidden)
		return out
	}
	h := w.Header()
	if e.anyOrigin {
		h[hACAO] = []string{"*"}
	} else {
		h[hACAO] = []string{q.Origin}
	}
	if e.credentials {
		h[hACAC] = []string{"true"}
	}
	if out.Reason != MethodNotAllowed && methods != "" {
		h[hACAM] = []string{methods}
		if allowed := e.allowedSubset(q.acrh); allowed != "" {
			h[hACAH] = []string{allowed}
		}
	}
	h[hVary] = appendOwn(h[hVary], varyPreflight)
	w.WriteHeader(http.StatusNoContent)
	return out
}

// allowedSubset lists the requested header names this policy allows, for
// debug answers only. The input was bounded by scanRequestHeaders first.
func (e *Engine) allowedSubset(lines []string) string {
	var out []string
	for _, line := range lines {
		for _, el := range strings.Split(line, ",") {
			el = strings.Trim(el, " \t")
			if el != "" && len(el) <= maxHeaderNameLen && IsToken(el) && e.headerAllowed(el) {
				out = append(out, strings.ToLower(el))
			}
		}
	}
	return strings.Join(out, ",")
}

// Actual decorates the response to a request that is not a preflight, before
// the wrapped handler runs, and returns whether the origin was granted: it
// is [Engine.Grants] followed by [Engine.Decorate].
func (e *Engine) Actual(h http.Header, q *Request, expose string) bool {
	granted := e.Grants(q)
	e.Decorate(h, q, expose, granted)
	return granted
}

// Grants reports whether the policy grants the origin of q, an actual
// request: any origin under a "*" policy without credentials, otherwise
// the request's one Origin when the policy lists it. It writes nothing, so
// a middleware can let the cross-origin request protection refuse the
// request before anything is written for it.
func (e *Engine) Grants(q *Request) bool {
	return e.anyOrigin || e.origins.match(q.Origin)
}

// Decorate writes the CORS headers of an actual request that Grants judged.
// expose is the Access-Control-Expose-Headers value for the route ("" for
// none).
//
// A request whose origin is not granted (or that has none) gets Vary:
// Origin only: the answer depends on it. Under an any-origin policy,
// Allow-Origin: * goes on every response instead, and no Vary.
func (e *Engine) Decorate(h http.Header, q *Request, expose string, granted bool) {
	if e.anyOrigin {
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
	if e.credentials {
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
	if e.credentials {
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
		h[hVary] = appendOwn(prev, varyOriginOnly)
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

// appendOwn returns lines with v added, in a new backing array whenever
// lines has room to spare: a Vary slice set before the middleware ran (by
// an outer middleware, say) may be shared between responses, and appending
// in place would write into every one of them.
func appendOwn(lines []string, v string) []string {
	return append(lines[:len(lines):len(lines)], v)
}
