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
// policy does not allow, or carrying credentials it does not allow, are
// refused (see [github.com/protocors/protocors.WithCrossOriginProtection]);
// all other requests reach next untouched.
func (m *Middleware) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		core.ProbeSaw(r, m)  // protocorstest.Verify only: one atomic load otherwise
		st := m.state.Load() // one configuration for the whole request
		q := core.ReadRequest(r)
		if st.gate.Unmarked(r, &q) {
			// No browser marked it and its response is not reused:
			// nothing to write, whatever the procedure.
			next.ServeHTTP(w, r)
			return
		}
		e := st.entries[r.URL.Path]
		if e == nil {
			if st.gate.Unknown(w, r) {
				next.ServeHTTP(w, r)
			}
			return
		}
		if q.IsPreflight() {
			if e.engine == nil {
				next.ServeHTTP(w, r)
				return
			}
			st.preflight(w, r, &q, e)
			return
		}
		// The exposed headers depend on the protocol. A GET is always the
		// Connect protocol (Connect GET), whatever its Content-Type.
		expose := e.exposeOther
		if r.Method != http.MethodGet {
			if grpc, native := grpcContentType(r.Header["Content-Type"]); grpc {
				if native && !core.BrowserMarked(r, &q) {
					// A gRPC client (HTTP/2 with trailers), which no
					// browser can be: nothing to decorate, and nothing for
					// the protection, which judges browsers only.
					next.ServeHTTP(w, r)
					return
				}
				expose = e.exposeGRPC
			}
		}
		t := core.Target{Engine: e.engine, Counts: e.counts, Name: e, Method: r.Method, Expose: expose}
		if st.gate.Actual(w, r, &q, t) {
			next.ServeHTTP(w, r)
		}
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
	st.gate.Preflighted(r, q, core.Target{Engine: e.engine, Counts: e.counts, Name: e}, out)
}

// LogAttrs names the procedure in log lines ([core.Namer]).
func (e *entry) LogAttrs(*http.Request) []slog.Attr {
	return []slog.Attr{slog.String("procedure", e.procedure)}
}

// grpcContentType classifies a request by its Content-Type lines: gRPC or
// gRPC-Web (grpc), and of those native gRPC (native). It runs on every
// request to a procedure, so it rejects other types on one byte:
// "application/grpc" is the only prefix it looks for, and its 13th byte is
// a 'g'.
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
