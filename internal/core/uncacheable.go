package core

import (
	"slices"
	"strings"
)

// A browser caches a preflight answer's header grants for every method at
// the URL, and sends GET, HEAD and POST without a preflight. Where the mux
// runs another RPC at the same URL that would refuse what an answer grants,
// the gateway middleware sends that answer with Access-Control-Max-Age: 0
// (see DESIGN "Preflight cache safety"). The words below say so, the same
// way in `protocors explain` and in the middleware's Debug log.

// CacheConflict is what a preflight answer grants that another RPC at the
// same URL does not allow: the reason the answer is made uncacheable.
type CacheConflict struct {
	// NoCORS: the other RPC has no CORS policy (none, disabled, or
	// invalid), so it allows no cross-origin request at all.
	NoCORS bool
	// Origins the answer grants that the other RPC does not allow (as
	// written in the policy: a pattern stands for the origins it matches).
	Origins []string
	// Headers the answer grants that the other RPC does not allow.
	Headers []string
	// Credentials: the answer allows credentials, the other RPC does not.
	Credentials bool
}

// Empty reports whether there is no conflict: the other RPC allows
// everything the answer grants.
func (c CacheConflict) Empty() bool {
	return !c.NoCORS && len(c.Origins) == 0 && len(c.Headers) == 0 && !c.Credentials
}

// String says what the other RPC's policy refuses: "has no CORS policy", or
// "does not allow origin https://a.example, header X-Foo or credentials".
func (c CacheConflict) String() string {
	if c.NoCORS {
		return "has no CORS policy"
	}
	var parts []string
	list := func(one, many string, l []string) {
		switch len(l) {
		case 0:
		case 1:
			parts = append(parts, one+" "+l[0])
		default:
			parts = append(parts, many+" "+strings.Join(l, ", "))
		}
	}
	list("origin", "origins", c.Origins)
	list("header", "headers", c.Headers)
	if c.Credentials {
		parts = append(parts, "credentials")
	}
	switch len(parts) {
	case 0:
		return "allows it"
	case 1:
		return "does not allow " + parts[0]
	}
	return "does not allow " + strings.Join(parts[:len(parts)-1], ", ") + " or " + parts[len(parts)-1]
}

// UncacheableReason is the one sentence that says why a preflight answer is
// sent with Access-Control-Max-Age: 0: at the same URL the mux runs
// otherRPC (full name) for otherRoute ("GET /v1/orders/{id}"), whose policy
// refuses what c says, and a cached answer would let the page reach it
// without a new preflight. `protocors explain` prints it per route; the
// gateway middleware logs it at Debug for the preflight it concerns.
func UncacheableReason(otherRPC, otherRoute string, c CacheConflict) string {
	method, _, _ := strings.Cut(otherRoute, " ")
	return "Access-Control-Max-Age: 0 (the browser may not cache this answer): the mux also runs " + otherRPC +
		" for " + otherRoute + " at this URL, and its policy " + c.String() +
		"; a cached answer would let the page send it a " + method + " without a new preflight"
}

// RequestConflict is the CacheConflict of the preflight q between the
// engine that answers it (e) and the engine of another RPC at the URL (o,
// nil for none): what o refuses of what e grants q. It allocates, so call
// it only to log.
func RequestConflict(e, o *Engine, q *Request) CacheConflict {
	var c CacheConflict
	if o == nil {
		c.NoCORS = true
		return c
	}
	switch out := o.Check(q); out.Reason {
	case OriginNotAllowed:
		c.Origins = []string{out.Value}
	case HeaderNotAllowed, MalformedRequest:
		c.Headers = []string{out.Value}
	}
	c.Credentials = e.credentials && !o.credentials
	return c
}

// GrantsBeyond is the CacheConflict between the answer of a route compiled
// from c and another RPC's engine o (nil for none), over every origin and
// header c lists, not one request: what `protocors explain` shows.
// Origins are compared as written: a pattern counts as allowed by o when o
// allows any origin or lists the same pattern.
func GrantsBeyond(c Config, o *Engine) CacheConflict {
	var out CacheConflict
	if o == nil {
		out.NoCORS = true
		return out
	}
	for _, s := range c.Origins {
		p, err := ParseOrigin(s, c.OriginOptions)
		if err != nil {
			continue // not compiled into the answer either
		}
		allowed := o.origins.any
		switch {
		case allowed:
		case p.any:
			allowed = false
		case p.exact != "":
			allowed = o.origins.match(p.exact)
		default:
			allowed = slices.Contains(o.origins.patterns, p)
		}
		if !allowed && !slices.Contains(out.Origins, s) {
			out.Origins = append(out.Origins, s)
		}
	}
	for _, h := range slices.Concat(c.AllowHeaders, c.ProtocolHeaders) {
		ok := o.headerAllowed(h)
		if h == "*" {
			ok = o.anyHeader
		}
		if !ok && !slices.ContainsFunc(out.Headers, func(x string) bool { return strings.EqualFold(x, h) }) {
			out.Headers = append(out.Headers, h)
		}
	}
	out.Credentials = c.Credentials && !o.credentials
	return out
}
