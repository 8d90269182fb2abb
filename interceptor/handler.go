package interceptor

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/protocors/protocors/internal/core"
)

// grpcContentTypePrefix is gRPC's media type, which also prefixes
// gRPC-Web's ("application/grpc-web").
const grpcContentTypePrefix = "application/grpc"

// Handler returns next behind the middleware: put it in front of a mux of
// Connect handlers (or one handler). This is where every request enters.
// Requests for procedures with a CORS policy are answered (preflights) or
// decorated (everything else) before next runs. Unsafe cross-origin
// requests to any procedure of the descriptor source from an origin its
// policy does not allow are refused (see protocors.WithCrossOriginProtection);
// all other requests reach next untouched.
func (m *Middleware) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		core.ProbeSaw(r, m)  // protocorstest.Verify only: one atomic load otherwise
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
		grpc, native := grpcContentType(r.Header["Content-Type"])
		if native {
			// gRPC over HTTP/2 with trailers: no browser can send it (that
			// is what gRPC-Web is for), and a client that does is not
			// subject to CORS. Leave it untouched, so that nothing (a Vary,
			// say) leaks into responses a gateway relays to browsers.
			next.ServeHTTP(w, r)
			return
		}
		if !st.actual(w, r, &q, e, grpc) {
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
// cross-origin request protection refused it (the 403 is written, and
// nothing else: a refusal costs no header values).
func (st *state) actual(w http.ResponseWriter, r *http.Request, q *core.Request, e *entry, grpc bool) bool {
	granted := e.engine != nil && e.engine.Grants(q)
	v := core.Judge(st.protection, r, q, r.Method, granted)
	if e.engine != nil {
		if v != core.Refuse {
			expose := ""
			if granted {
				// The exposed headers depend on the protocol. A GET is
				// always the Connect protocol (Connect GET).
				expose = e.exposeOther
				if grpc && r.Method != http.MethodGet {
					expose = e.exposeGRPC
				}
			}
			e.engine.Decorate(w.Header(), q, expose, granted)
		}
		if q.HasOrigin() {
			e.counts.Actual(r.Context(), granted)
			if !granted && st.logger != nil {
				core.LogNotGranted(st.logger, r, q, slog.String("procedure", e.procedure))
			}
		}
	}
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

// grpcContentType classifies a request by its Content-Type lines: gRPC or
// gRPC-Web (grpc), and of those native gRPC, which no browser can send
// (native). It runs on every request to a procedure, so it rejects other
// types on one byte: "application/grpc" is the only prefix it looks for,
// and its 13th byte is a 'g'.
func grpcContentType(ct []string) (grpc, native bool) {
	if len(ct) == 0 {
		return false, false
	}
	v := ct[0]
	const prefix, web = grpcContentTypePrefix, "-web"
	if len(v) < len(prefix) || v[12]|0x20 != 'g' || !strings.EqualFold(v[:len(prefix)], prefix) {
		return false, false
	}
	rest := v[len(prefix):]
	return true, !(len(rest) >= len(web) && strings.EqualFold(rest[:len(web)], web))
}
