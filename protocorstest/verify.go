// Package protocorstest checks, in a test or at start-up, that protocors's
// middlewares are mounted where they serve every RPC they know.
//
// A middleware cannot see from inside a request that it was mounted wrongly:
// left out of the chain, swapped with the other one, behind an
// http.StripPrefix or an authentication layer that answers preflights. The
// browser then gets 401, 405 or 501 to its preflights, and a page on any
// origin can run POST RPCs again. [Verify] sends probe requests through the
// server's root handler, in process, and names each RPC whose answers do
// not come from protocors, with the likely cause.
package protocorstest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"

	"github.com/protocors/protocors/internal/core"
)

// Middleware is implemented by *interceptor.Middleware and
// *gateway.Middleware, and by nothing outside this module: its method
// takes an internal type.
type Middleware interface {
	core.Prober
}

// Verify sends probe requests, in process, through handler (the server's
// root http.Handler, as mounted) for every RPC the given middlewares know,
// and returns an error naming each RPC whose CORS answers or cross-origin
// protection do not come from one of them, with the likely cause. nil when
// every RPC is covered.
//
// For each RPC with a CORS policy it sends a preflight from an origin the
// policy allows, which the RPC's middleware must answer; for each POST RPC
// (every Connect procedure) it sends, while the cross-origin request
// protection is on, a text/plain POST from an origin no policy allows,
// which the protection must refuse before the handler runs. Gateway paths
// are filled from the route templates. The POST is one a correct wiring
// refuses and a wrong one hands to the handler in a form it cannot decode
// (Connect answers 415 to text/plain; grpc-gateway's generated handlers
// answer 400 to the probe's malformed query), but a handler registered
// with HandlePath would run: use Verify in tests, or against a server
// whose handlers are safe to call.
//
// Paths are probed as the RPCs' own paths ("/pkg.Service/Method",
// "/v1/things/x"): give the handler that receives them so. A service none
// of whose routes handler serves (404, seen by no middleware: a service
// linked into the binary but not mounted) is skipped, as long as some RPC
// of the same middleware is served.
//
// Nothing a remote client sends can put a middleware in probe mode: the
// probes carry a recorder in their context, which the middlewares consult
// only while a Verify runs in the process.
func Verify(handler http.Handler, mws ...Middleware) error {
	if handler == nil {
		return errors.New("protocorstest.Verify: handler is nil: give the server's root http.Handler")
	}
	if len(mws) == 0 {
		return errors.New("protocorstest.Verify: no middleware given: pass the *interceptor.Middleware and *gateway.Middleware the server mounts")
	}
	stop := core.StartProbe()
	defer stop()
	v := &verifier{handler: handler, mws: mws, kinds: map[any]string{}}
	var problems []Problem
	for i, mw := range mws {
		if mw == nil {
			return fmt.Errorf("protocorstest.Verify: middleware %d is nil", i)
		}
		problems = append(problems, v.middleware(mw)...)
	}
	if len(problems) == 0 {
		return nil
	}
	slices.SortStableFunc(problems, func(a, b Problem) int { return cmp.Compare(a.RPC, b.RPC) })
	var b strings.Builder
	fmt.Fprintf(&b, "protocorstest.Verify: %d RPC route(s) not served by protocors:", len(problems))
	for _, p := range problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return &Error{Problems: problems, msg: b.String()}
}

// Error is Verify's error: every probe that protocors did not answer as
// it should, by RPC.
type Error struct {
	Problems []Problem
	msg      string
}

func (e *Error) Error() string { return e.msg }

// Problem is one failed probe.
type Problem struct {
	// RPC is the RPC's full name ("pkg.v1.Service.Method"; for a
	// gateway.WithRoute route, "gateway.WithRoute METHOD template").
	RPC string
	// Route is how its middleware serves it: "POST /pkg.v1.Service/Method"
	// or "GET /v1/things/{id}".
	Route string
	// Probe is the request sent.
	Probe string
	// Cause says what answered instead and the likely mistake.
	Cause string
}

func (p Problem) String() string {
	return fmt.Sprintf("%s (%s): %s: %s", p.RPC, p.Route, p.Probe, p.Cause)
}

type verifier struct {
	handler http.Handler
	mws     []Middleware
	kinds   map[any]string // by middleware
}

// outcome is one probe's response and who saw it.
type outcome struct {
	code   int
	header http.Header
	body   []byte
	seen   []core.ProbeSeen
}

func (v *verifier) send(r *http.Request) outcome {
	rec := &core.ProbeRecorder{}
	r = r.WithContext(rec.Context(context.Background()))
	w := httptest.NewRecorder()
	v.handler.ServeHTTP(w, r)
	return outcome{code: w.Code, header: w.Header(), body: w.Body.Bytes(), seen: rec.Seen()}
}

// unserved reports a probe no middleware saw and the handler answered 404:
// nothing is mounted at that path.
func (o *outcome) unserved() bool { return len(o.seen) == 0 && o.code == http.StatusNotFound }

// middleware probes every target of mw.
func (v *verifier) middleware(mw Middleware) []Problem {
	targets := mw.ProbeTargets(core.ProbeToken{})
	type result struct {
		t        core.ProbeTarget
		problems []Problem
		unserved bool // every probe of the target was unserved
	}
	results := make([]result, len(targets))
	served := map[string]bool{} // services with a served route
	anyServed := false
	for i, t := range targets {
		res := result{t: t, unserved: true}
		if t.Origin != "" {
			o := v.send(preflight(t))
			if !(o.code/100 == 2 && allowsOrigin(o.header, t.Origin) && v.sawAt(o.seen, mw, t.Path)) {
				res.problems = append(res.problems, Problem{t.RPC, t.Route, "preflight from " + t.Origin,
					v.cause(o, mw, t, true)})
			}
			res.unserved = res.unserved && o.unserved()
		}
		if t.Foreign != "" {
			o := v.send(crossOriginPost(t))
			if !(core.IsCrossOriginRefusal(o.code, o.body) && v.sawAt(o.seen, mw, t.Path)) {
				res.problems = append(res.problems, Problem{t.RPC, t.Route, "cross-origin text/plain POST from " + t.Foreign,
					v.cause(o, mw, t, false)})
			}
			res.unserved = res.unserved && o.unserved()
		}
		if t.Origin == "" && t.Foreign == "" {
			continue // nothing to probe
		}
		if !res.unserved {
			served[t.Service] = true
			anyServed = true
		}
		results[i] = res
	}
	var out []Problem
	for _, res := range results {
		if res.unserved && anyServed && !served[res.t.Service] && res.t.Service != "" {
			continue // a service this server does not mount
		}
		out = append(out, res.problems...)
	}
	return out
}

func preflight(t core.ProbeTarget) *http.Request {
	r := httptest.NewRequest(http.MethodOptions, t.Path, nil)
	r.Header.Set("Origin", t.Origin)
	r.Header.Set("Access-Control-Request-Method", t.Method)
	return r
}

func crossOriginPost(t core.ProbeTarget) *http.Request {
	target := t.Path
	if t.Query != "" {
		target += "?" + t.Query
	}
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader("protocors-verify"))
	r.Header.Set("Origin", t.Foreign)
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	r.Header.Set("Content-Type", "text/plain")
	return r
}

func allowsOrigin(h http.Header, origin string) bool {
	v := h.Values("Access-Control-Allow-Origin")
	return len(v) == 1 && (v[0] == origin || v[0] == "*")
}

// sawAt reports whether mw saw the probe at path.
func (v *verifier) sawAt(seen []core.ProbeSeen, mw Middleware, path string) bool {
	for _, s := range seen {
		if s.Who == any(mw) && s.Path == path {
			return true
		}
	}
	return false
}

// kind names a middleware by the kind of its targets.
func (v *verifier) kind(p any) string {
	if k, ok := v.kinds[p]; ok {
		return k
	}
	k := "protocors"
	if pr, ok := p.(core.Prober); ok {
		if ts := pr.ProbeTargets(core.ProbeToken{}); len(ts) > 0 {
			k = ts[0].Middleware
		}
	}
	v.kinds[p] = k
	return k
}

// cause names the likely cause of a failed probe of t, a target of mw.
func (v *verifier) cause(o outcome, mw Middleware, t core.ProbeTarget, isPreflight bool) string {
	status := fmt.Sprintf("status %d", o.code)
	mine := v.kind(mw)
	for _, s := range o.seen {
		if s.Who == any(mw) && s.Path != t.Path {
			return fmt.Sprintf("the %s middleware saw the path %q, not the RPC's %q (%s): something in front of it rewrites the path (http.StripPrefix?); "+
				"the middleware must see the paths the mux matches", mine, s.Path, t.Path, status)
		}
	}
	for _, s := range o.seen {
		if s.Who == any(mw) {
			if isPreflight {
				return fmt.Sprintf("the %s middleware answered, but the response arrived as %s with Access-Control-Allow-Origin %q: something around it changes its answers",
					mine, status, o.header.Values("Access-Control-Allow-Origin"))
			}
			return fmt.Sprintf("the %s middleware saw the request, but the response arrived as %s, not its refusal: something around it changes its answers", mine, status)
		}
	}
	if len(o.seen) > 0 {
		other := o.seen[0].Who
		name := v.kind(other)
		given := false
		for _, m := range v.mws {
			if any(m) == other {
				given = true
			}
		}
		if given && name != mine {
			return fmt.Sprintf("middlewares swapped: the request went through the %s middleware, which does not serve this route (%s); "+
				"put interceptor's Handler (or Wrap) in front of the Connect handlers and gateway's Handler in front of the grpc-gateway mux", name, status)
		}
		return fmt.Sprintf("the request went through another %s middleware, not this one (%s): mount the middleware that knows this RPC in front of its handler", name, status)
	}
	// No protocors middleware saw it.
	switch {
	case o.code == http.StatusNotFound:
		return "not served here: no protocors middleware saw the request and the server answered 404; " +
			"if the API is mounted under a prefix with http.StripPrefix inside the middleware, put it outside (http.StripPrefix(prefix, mw.Handler(mux))) " +
			"so the middleware sees the paths the mux matches, and give Verify the handler that receives them"
	case o.code == http.StatusUnauthorized || o.code == http.StatusProxyAuthRequired || o.code == http.StatusForbidden && isPreflight:
		what := "answered the preflight"
		if !isPreflight {
			what = "answered the request"
		}
		return fmt.Sprintf("something in front of the middleware %s with %s (an authentication layer?): browsers send preflights without credentials, "+
			"so mount the CORS middleware outside it", what, status)
	case isPreflight && o.code/100 == 2:
		return fmt.Sprintf("something in front of the middleware answered the preflight (%s; another CORS handler?): mount protocors's middleware outside it, or remove it", status)
	case isPreflight:
		return fmt.Sprintf("not wrapped: the preflight reached a handler without passing through the %s middleware (%s, as connect-go and the grpc-gateway mux answer preflights): "+
			"mount the handler behind the middleware's Handler", mine, status)
	}
	return fmt.Sprintf("not protected: the request reached a handler without passing through the %s middleware (%s), so a page on any origin can send it: "+
		"mount the handler behind the middleware's Handler", mine, status)
}
