package core

import (
	"net/http"
	"strings"
)

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

// RequestsHeader reports whether Access-Control-Request-Headers names
// name (lower case), in any case. It gives up (false) past the bounds
// scanRequestHeaders refuses a list at, so hostile input costs no more
// than the engine's own scan, and allocates nothing.
func (q *Request) RequestsHeader(name string) bool {
	empties, names := 0, 0
	for _, line := range q.acrh {
		for more := true; more; {
			var el string
			el, line, more = strings.Cut(line, ",")
			switch el = strings.Trim(el, " \t"); {
			case el == "":
				if empties++; empties > maxEmptyElements {
					return false
				}
			case strings.EqualFold(el, name):
				return true
			default:
				if names++; names > maxRequestedHeaders {
					return false
				}
			}
		}
	}
	return false
}

// RequestsHeaders reports whether the preflight carries
// Access-Control-Request-Headers at all (an empty list counts: callers only
// use this to skip work).
func (q *Request) RequestsHeaders() bool { return len(q.acrh) > 0 }
