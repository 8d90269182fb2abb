package core

import (
	"log/slog"
	"net/http"
	"strconv"
)

// MaxLogValue is how many bytes of a request value (an origin, a method, a
// header, a path) a log line holds. Request values are attacker-chosen and
// a JSON handler escapes a non-UTF-8 byte to six characters, so an
// unbounded value would let one request write megabytes of log.
const MaxLogValue = 512

// LogValue returns s cut at [MaxLogValue] bytes, with a marker that says
// how long it was.
func LogValue(s string) string {
	if len(s) <= MaxLogValue {
		return s
	}
	return s[:MaxLogValue] + "…[cut: " + strconv.Itoa(len(s)) + " bytes]"
}

// originAttrs log a request's Origin once: its first line, cut, and how
// many lines there were when a request sent several (no browser does).
func originAttrs(q *Request) []slog.Attr {
	first := ""
	if len(q.origins) > 0 {
		first = q.origins[0]
	}
	attrs := []slog.Attr{slog.String("origin", LogValue(first))}
	if n := len(q.origins); n > 1 {
		attrs = append(attrs, slog.Int("origin_lines", n))
	}
	return attrs
}

// logCrossOrigin logs, at Info, a request the protection refused (v
// Refuse) or would have refused (v Report), with why and the attributes
// that name its route.
func (g *Gate) logCrossOrigin(r *http.Request, q *Request, v Verdict, why refusal, route []slog.Attr) {
	msg := "protocors: cross-origin request refused"
	if v == Report {
		msg = "protocors: cross-origin request would be refused (report only)"
	}
	attrs := append(route, originAttrs(q)...)
	attrs = append(attrs,
		slog.String("method", LogValue(r.Method)),
		slog.String("sec_fetch_site", LogValue(r.Header.Get(hSecFetchSite))),
		slog.String("reason", why.String()),
	)
	g.logger.LogAttrs(r.Context(), slog.LevelInfo, msg, attrs...)
}

// logNotGranted logs, at Debug (such requests are routine: a page's
// no-cors fetch, a link from another site), an actual request whose Origin
// the route's policy does not grant. It costs nothing unless Debug is
// enabled.
func (g *Gate) logNotGranted(r *http.Request, q *Request, name Namer) {
	ctx := r.Context()
	if !g.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := append(name.LogAttrs(r), originAttrs(q)...)
	attrs = append(attrs, slog.String("method", LogValue(r.Method)))
	g.logger.LogAttrs(ctx, slog.LevelDebug, "protocors: cross-origin request not granted", attrs...)
}
