package interceptor

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/protocors/protocors/internal/core"
)

// Content types of gRPC (which also prefixes gRPC-Web's) and gRPC-Web.
const (
	grpcContentTypePrefix    = "application/grpc"
	grpcWebContentTypePrefix = "application/grpc-web"
)

// Handler returns next behind the middleware: put it in front of a mux of
// Connect handlers (or one handler). This is where every request enters.
// Requests for procedures with a CORS policy are answered (preflights) or
// decorated (everything else) before next runs. Unsafe cross-origin
// requests to any procedure of the descriptor source from an origin its
// policy does not allow are refused (see protocors.WithCrossOriginProtection);
// all other requests reach next untouched.
func (m *Middleware) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := m.state.Load() // one configuration for the whole request
		e := st.entries[r.URL.Path]
		if e == nil {
			next.ServeHTTP(w, r)
			return
		}
		q := core.ReadRequest(r)
		if q.IsPreflight() {
			if e.engine == nil {
				next.ServeHTTP(w, r)
				return
			}
			st.preflight(w, r, &q, e)
			return
		}
		ct := r.Header["Content-Type"]
		if nativeGRPC(ct) {
			// gRPC over HTTP/2 with trailers: no browser can send it (that
			// is what gRPC-Web is for), and a client that does is not
			// subject to CORS. Leave it untouched, so that nothing (a Vary,
			// say) leaks into responses a gateway relays to browsers.
			next.ServeHTTP(w, r)
			return
		}
		if !st.actual(w, r, &q, e, ct) {
			return
		}
		next.ServeHTTP(w, r)
	})
}

// preflight answers a preflight for a CORS-enabled procedure: POST always,
// GET where Connect GET is allowed.
func (st *state) preflight(w http.ResponseWriter, r *http.Request, q *core.Request, e *entry) {
	methods := ""
	switch q.Method {
	case http.MethodPost:
		methods = e.allowMethods
	case http.MethodGet:
		if e.get {
			methods = e.allowMethods
		}
	}
	out := e.engine.Preflight(w, q, core.Answer{Methods: methods})
	e.counts.Preflight(r.Context(), out)
	if out.Reason != core.Allowed && st.logger != nil {
		st.logger.LogAttrs(r.Context(), slog.LevelInfo, "protocors: CORS preflight refused",
			slog.String("procedure", e.procedure),
			slog.String("origin", strings.Join(q.Origins(), ", ")),
			slog.String("method", q.Method),
			slog.String("reason", out.Reason.String()),
			slog.String("value", out.Value),
		)
	}
}

// actual decorates the response to a request that is not a preflight, and
// reports whether the request may reach the handler: false when the
// cross-origin request protection refused it (the 403 is written).
func (st *state) actual(w http.ResponseWriter, r *http.Request, q *core.Request, e *entry, ct []string) bool {
	granted := false
	if e.engine != nil {
		// The exposed headers depend on the protocol; look only when they
		// can be sent.
		expose := ""
		if q.Origin != "" || e.engine.AnyOrigin() {
			expose = e.expose(r.Method, ct)
		}
		granted = e.engine.Actual(w.Header(), q, expose)
		if q.HasOrigin() {
			e.counts.Actual(r.Context(), granted)
			if !granted && st.logger != nil {
				core.LogNotGranted(st.logger, r, q, slog.String("procedure", e.procedure))
			}
		}
	}
	v := core.Judge(st.protection, r, q, r.Method, granted)
	e.counts.CrossOrigin(r.Context(), v)
	if v != core.Pass && st.logger != nil {
		core.LogCrossOrigin(st.logger, r, q, v, slog.String("procedure", e.procedure))
	}
	if v == core.Refuse {
		core.RefuseCrossOrigin(w)
		return false
	}
	return true
}

// expose returns the Access-Control-Expose-Headers value for a request of
// this method and Content-Type, which depends on the protocol. A GET is
// always the Connect protocol (Connect GET); other requests are gRPC-Web or
// gRPC by their Content-Type.
func (e *entry) expose(method string, ct []string) string {
	if method != http.MethodGet && len(ct) > 0 && hasPrefixFold(ct[0], grpcContentTypePrefix) {
		return e.exposeGRPC
	}
	return e.exposeOther
}

// nativeGRPC reports whether a request with Content-Type lines ct is
// native gRPC (application/grpc, not gRPC-Web).
func nativeGRPC(ct []string) bool {
	return len(ct) > 0 && hasPrefixFold(ct[0], grpcContentTypePrefix) && !hasPrefixFold(ct[0], grpcWebContentTypePrefix)
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
