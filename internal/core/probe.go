package core

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
)

// This file is what protocorstest.Verify needs from the middlewares: the
// requests to send (ProbeTarget, listed by each middleware's ProbeTargets),
// and a record of which middleware saw a probe, at which path
// (ProbeSaw, one line at the top of each middleware's Handler).
//
// Probe mode cannot be switched on from outside the process: ProbeSaw
// records only while a Verify runs in this process (an atomic counter, the
// only cost otherwise) and only requests whose context carries the
// recorder Verify put there. No header, query or body is read.

// probing counts the Verify calls running in the process.
var probing atomic.Int32

// StartProbe turns recording on for the Verify calling it; call the
// returned function when done.
func StartProbe() (stop func()) {
	probing.Add(1)
	return func() { probing.Add(-1) }
}

// ProbeSaw records that the middleware who saw r, for the recorder in r's
// context, if any. Outside Verify it costs one atomic load.
func ProbeSaw(r *http.Request, who any) {
	if probing.Load() != 0 {
		probeSaw(r, who)
	}
}

func probeSaw(r *http.Request, who any) {
	if rec, ok := r.Context().Value(recorderKey{}).(*ProbeRecorder); ok {
		rec.add(who, r.URL.Path)
	}
}

type recorderKey struct{}

// ProbeRecorder collects which middlewares saw one probe request.
type ProbeRecorder struct {
	mu   sync.Mutex
	seen []ProbeSeen
}

// ProbeSeen is one middleware that saw a probe, and the path it saw.
type ProbeSeen struct {
	Who  any
	Path string
}

// Context returns ctx carrying rec.
func (rec *ProbeRecorder) Context(ctx context.Context) context.Context {
	return context.WithValue(ctx, recorderKey{}, rec)
}

func (rec *ProbeRecorder) add(who any, path string) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.seen = append(rec.seen, ProbeSeen{who, path})
}

// Seen returns the middlewares that saw the probe, outermost first.
func (rec *ProbeRecorder) Seen() []ProbeSeen {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.seen)
}

// ProbeToken is the argument of ProbeTargets. Its type is internal, so
// code outside this module can neither call ProbeTargets nor implement
// the interface protocorstest.Middleware embeds.
type ProbeToken struct{ _ [0]func() }

// Prober is implemented by both middlewares.
type Prober interface {
	ProbeTargets(ProbeToken) []ProbeTarget
}

// ProbeTarget is one RPC route as Verify probes it.
type ProbeTarget struct {
	// Middleware names the middleware's kind in messages:
	// "interceptor" or "gateway".
	Middleware string
	// RPC is the RPC's full name (for WithRoute routes, the route's name).
	RPC string
	// Service is the RPC's service full name; "" for WithRoute routes.
	Service string
	// Route is how the middleware knows it: "POST /pkg.Service/Method",
	// "GET /v1/things/{id}".
	Route string
	// Path is a request path that reaches the route; Query is added to
	// the POST probe's URL ("" for none).
	Path, Query string
	// Method is the HTTP method the RPC runs under.
	Method string
	// Origin is an origin the RPC's policy allows; "" when the RPC has no
	// CORS policy (no preflight probe).
	Origin string
	// Foreign is an origin the RPC's policy does not allow, for the
	// cross-origin POST probe; "" for none (no such probe: the protection
	// is off or reports only, the RPC is not a POST, or its policy allows
	// every origin).
	Foreign string
}

// ProbeForeign is the origin the cross-origin probe comes from: under
// .invalid (RFC 2606), so no real policy lists it, but "*" allows it.
const ProbeForeign = "https://protocors-verify.invalid"

// ProbeOrigin returns an origin the engine allows: its first exact origin,
// or one a pattern matches, or "" when it finds none.
func (e *Engine) ProbeOrigin() string {
	m := &e.origins
	if len(m.few) > 0 {
		return m.few[0]
	}
	if len(m.exact) > 0 {
		best := ""
		for o := range m.exact {
			if best == "" || o < best {
				best = o
			}
		}
		return best
	}
	for _, pt := range m.patterns {
		host := pt.host
		if pt.suffix != "" {
			host = "protocors-verify" + pt.suffix
		}
		for _, port := range []string{pt.port, "8080", ""} {
			o := pt.scheme + "://" + host
			if port != "" {
				o += ":" + port
			}
			if e.AllowsOrigin(o) {
				return o
			}
		}
	}
	if m.any {
		return "https://protocors-verify.example"
	}
	return ""
}

// ProbeForeignFor returns ProbeForeign when the engine (nil: no CORS
// policy) does not allow it, "" otherwise.
func ProbeForeignFor(e *Engine) string {
	if e != nil && e.AllowsOrigin(ProbeForeign) {
		return ""
	}
	return ProbeForeign
}

// IsCrossOriginRefusal reports whether a response is the cross-origin
// request protection's refusal: 403 and one of its bodies.
func IsCrossOriginRefusal(status int, body []byte) bool {
	if status != http.StatusForbidden {
		return false
	}
	for _, b := range refusalBodies {
		if bytes.Equal(body, b) {
			return true
		}
	}
	return false
}
