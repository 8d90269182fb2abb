package core

import (
	"log/slog"
	"net/http"
	"strings"
)

// Gate is the request path both middlewares share once they have found the
// RPC a request reaches: for an actual request it grants, judges the
// cross-origin request protection, decorates, counts, logs and refuses, in
// that order and once; for a preflight it counts and logs the answer. Each
// middleware keeps only what is its own: finding the route (for the
// gateway, the mux's method override and form fallback too) and the
// protocol's expose list. Keeping the sequence here is what makes a fix or
// an exemption land in both middlewares at once.
//
// A Gate is part of a middleware's immutable compiled state.
type Gate struct {
	protection Protection
	logger     *slog.Logger
	// overrideOff: the middleware was told the mux honours no
	// X-HTTP-Method-Override (gateway.WithDisableHTTPMethodOverride or
	// WithDisablePathLengthFallback). A browser sends that header only
	// after a preflight granted it, so a cross-origin request carrying it
	// here can only be a page betting that the mux honours it after all.
	overrideOff bool
	// unknown extends the protection to requests no route knows
	// (WithUnknownPathProtection).
	unknown bool
	// anyOrigin: some RPC's policy answers Access-Control-Allow-Origin: *
	// on every response, Origin or not (NoteAnyOrigin).
	anyOrigin bool
}

// NoteAnyOrigin tells g that some RPC's policy is "*" without credentials,
// whose responses all carry Access-Control-Allow-Origin: *: a request
// without Origin then needs its route found (Unmarked says false).
func (g *Gate) NoteAnyOrigin() { g.anyOrigin = true }

// Unmarked reports whether r may reach the wrapped handler untouched
// before its route is even looked up, as jub0bs/cors and rs/cors never
// look one up: whatever RPC it reaches, nothing would be written for it
// and nothing counted or logged. That holds for a request
//   - with no Origin and no Sec-Fetch-Site: no browser marked it, so it is
//     not cross-origin and the protection lets it through (CrossOrigin),
//     and no policy grants it anything;
//   - whose method is neither GET nor HEAD: the one header such a request
//     could get is Vary: Origin, which may be left off responses that
//     caches never reuse for another request (RFC 9111 §4: a stored
//     response serves only requests of a method that allows it; a POST
//     response can serve a later GET only with explicit freshness and a
//     Content-Location, RFC 9110 §9.3.3, and even then it carries no CORS
//     header to leak: at worst a later cross-origin GET fails);
//   - where no policy answers Access-Control-Allow-Origin: * to everyone
//     (NoteAnyOrigin), which would go on this response too.
//
// This is the no-Origin request of a non-browser client calling an RPC:
// the commonest request a middleware sees, left at a few header reads.
func (g *Gate) Unmarked(r *http.Request, q *Request) bool {
	return !g.anyOrigin && r.Method != http.MethodGet && r.Method != http.MethodHead && !BrowserMarked(r, q)
}

// BrowserMarked reports whether r carries a marker only browsers set:
// Origin or Sec-Fetch-Site. These two alone decide that a request comes
// from no browser, never its Content-Type: a page can send any
// Content-Type a cached preflight granted ("application/grpc+json"
// included), and connect-go serves unary gRPC over HTTP/1.1.
func BrowserMarked(r *http.Request, q *Request) bool {
	return q.HasOrigin() || len(r.Header[hSecFetchSite]) > 0
}

// NewGate returns the Gate the settings ask for. overrideOff is the
// gateway's: the mux was said to ignore X-HTTP-Method-Override.
func NewGate(s *Settings, overrideOff bool) Gate {
	return Gate{protection: s.Protection(), logger: s.Logger, overrideOff: overrideOff, unknown: s.ProtectUnknown}
}

// Protection returns the cross-origin request protection's mode.
func (g *Gate) Protection() Protection { return g.protection }

// Logger returns the configured logger, nil for none.
func (g *Gate) Logger() *slog.Logger { return g.logger }

// Namer names a route in log lines: the procedure, or the gateway route,
// its RPC and the request's path. It is called only when a line is
// written, and values taken from r must go through [LogValue].
type Namer interface {
	LogAttrs(r *http.Request) []slog.Attr
}

// Target is the RPC an actual request reaches, as the middleware found it.
type Target struct {
	// Engine is the RPC's compiled policy; nil for an RPC without CORS,
	// which the protection still covers.
	Engine *Engine
	// Counts counts the RPC's decisions; nil without metrics.
	Counts *Counts
	// Name names the RPC in log lines.
	Name Namer
	// Method is the HTTP method the RPC binds: the request's for Connect;
	// for the gateway, the method of the handler the mux will run, after
	// method override and form fallback.
	Method string
	// Expose is the Access-Control-Expose-Headers value for a granted
	// request ("" for none).
	Expose string
}

// Actual runs an actual (non-preflight) request to t and reports whether
// it may reach the wrapped handler. When it returns false the refusal has
// been written (403 and a short body, no CORS header, no Vary: a forged
// request costs no header values). The request counts under exactly one
// outcome and writes at most one log line.
func (g *Gate) Actual(w http.ResponseWriter, r *http.Request, q *Request, t Target) bool {
	e := t.Engine
	granted := e != nil && e.Grants(q)
	v, why := g.judge(r, q, &t, granted)
	if v != Refuse && e != nil {
		expose := t.Expose
		if !granted {
			expose = ""
		}
		e.Decorate(w.Header(), q, expose, granted)
	}
	switch {
	case v != Pass:
		t.Counts.CrossOrigin(r.Context(), v)
		if g.logger != nil {
			g.logCrossOrigin(r, q, v, why, t.Name.LogAttrs(r))
		}
	case e != nil && q.HasOrigin():
		t.Counts.Actual(r.Context(), granted)
		if !granted && g.logger != nil {
			g.logNotGranted(r, q, t.Name)
		}
	}
	if v == Refuse {
		refuseCrossOrigin(w, why)
		return false
	}
	return true
}

// Unknown runs a request to a path no route knows, and reports whether it
// may reach the wrapped handler. Without WithUnknownPathProtection it
// always may. With it, an unsafe request the browser marks cross-origin is
// refused (or reported) as net/http.CrossOriginProtection does: no policy
// trusts any origin there. Such requests are logged but not counted (the
// counter's attributes name RPCs).
func (g *Gate) Unknown(w http.ResponseWriter, r *http.Request) bool {
	if !g.unknown || g.protection == ProtectionOff || SafeMethod(r.Method) {
		return true
	}
	q := ReadRequest(r)
	if !CrossOrigin(r, &q) {
		return true
	}
	v := Refuse
	if g.protection == ProtectionReportOnly {
		v = Report
	}
	if g.logger != nil {
		g.logCrossOrigin(r, &q, v, whyUnknownPath, []slog.Attr{slog.String("path", LogValue(r.URL.Path))})
	}
	if v == Refuse {
		refuseCrossOrigin(w, whyUnknownPath)
		return false
	}
	return true
}

// Why the protection refused a request, for the log line.
type refusal uint8

const (
	whyOrigin refusal = iota
	whyCredentials
	whyOverride
	whyUnknownPath
)

func (w refusal) String() string {
	switch w {
	case whyCredentials:
		return "credentials not allowed"
	case whyOverride:
		return "X-HTTP-Method-Override sent, but the mux was said to ignore it"
	case whyUnknownPath:
		return "no route at this path"
	}
	return "origin not allowed"
}

// judge applies the cross-origin request protection to r, whose RPC is t
// and whose origin t's policy granted or not. A request passes when the
// protection is off, when the RPC's method is safe, when its origin is
// granted (with credentials only where the policy allows them), or when
// the browser did not mark it cross-origin.
//
// The usual allowed request costs the method switch and, for an unsafe
// method, the credential lookups; CrossOrigin runs only for a request
// that would otherwise be refused.
func (g *Gate) judge(r *http.Request, q *Request, t *Target, granted bool) (Verdict, refusal) {
	if g.protection == ProtectionOff {
		return Pass, 0
	}
	why := whyOrigin
	switch {
	case g.overrideOff && !SafeMethod(r.Method) && hasOverride(r):
		// Judged on the request's own method: the middleware did not
		// apply the override, so t.Method may be a GET fallback.
		why = whyOverride
	case SafeMethod(t.Method):
		return Pass, 0
	case granted:
		if t.Engine.credentials || !hasCredentials(r, t.Engine) {
			return Pass, 0
		}
		why = whyCredentials
	}
	if !CrossOrigin(r, q) {
		return Pass, 0
	}
	if g.protection == ProtectionReportOnly {
		return Report, why
	}
	return Refuse, why
}

// hasCredentials reports whether r carries credentials a browser attaches
// by itself to a credentialed request: cookies, HTTP authentication, or a
// TLS client certificate. A page's no-cors request sends them without a
// preflight, so a policy that does not allow credentials must not let such
// a request run: the browser would have blocked its preflighted form.
//
// An Authorization header may be the browser's own (HTTP authentication
// it cached after a 401: the Basic, Digest, Negotiate and NTLM schemes)
// or the page's (a bearer token it set). A page can set it only after a
// preflight granted it, which needs a policy that lists Authorization by
// name (Fetch: "*" never covers it). So where e lists Authorization, a
// header with a scheme browsers never send by themselves is the page's own
// and does not count; one with those schemes does, whatever the policy
// lists, since a simple credentialed request carries it with no preflight.
func hasCredentials(r *http.Request, e *Engine) bool {
	h := r.Header
	if len(h[hCookie]) > 0 || r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		return true
	}
	auth := h[hAuthorization]
	if len(auth) == 0 {
		return false
	}
	if !e.allowAuth {
		return true
	}
	for _, v := range auth {
		if ambientAuthScheme(v) {
			return true
		}
	}
	return false
}

// ambientAuthScheme reports whether an Authorization value uses a scheme a
// browser sends by itself once the user has authenticated to the origin:
// Basic (RFC 7617), Digest (RFC 7616), Negotiate (RFC 4559) or NTLM. An
// empty or unparsable value counts too.
func ambientAuthScheme(v string) bool {
	scheme, _, _ := strings.Cut(strings.TrimLeft(v, " \t"), " ")
	switch {
	case scheme == "",
		strings.EqualFold(scheme, "Basic"),
		strings.EqualFold(scheme, "Digest"),
		strings.EqualFold(scheme, "Negotiate"),
		strings.EqualFold(scheme, "NTLM"):
		return true
	}
	return false
}

// hasOverride reports whether r carries X-HTTP-Method-Override.
func hasOverride(r *http.Request) bool { return len(r.Header[hOverride]) > 0 }

// Request header keys the protection reads, in canonical form.
const (
	hCookie        = "Cookie"
	hAuthorization = "Authorization"
	hOverride      = "X-Http-Method-Override"
)

// Preflighted counts a preflight answered with out for t and logs a
// refusal at Info, with the reason and the offending value.
func (g *Gate) Preflighted(r *http.Request, q *Request, t Target, out Outcome) {
	t.Counts.Preflight(r.Context(), out)
	if out.Reason == Allowed || g.logger == nil {
		return
	}
	attrs := append(t.Name.LogAttrs(r), originAttrs(q)...)
	attrs = append(attrs,
		slog.String("method", LogValue(q.Method)),
		slog.String("reason", out.Reason.String()),
	)
	if out.Reason != OriginNotAllowed && out.Reason != MethodNotAllowed {
		// For an origin or a method refusal the value is the origin or
		// the requested method, already logged: each request value once.
		attrs = append(attrs, slog.String("value", LogValue(out.Value)))
	}
	g.logger.LogAttrs(r.Context(), slog.LevelInfo, "protocors: CORS preflight refused", attrs...)
}
