package core

import (
	"net/http"
	"net/url"
)

// Cross-origin request protection. CORS only decides what a page may read:
// a browser sends simple requests (GET, HEAD, and POST with a form,
// multipart or text/plain body) to any origin without asking first, and
// grpc-gateway decodes a text/plain JSON body like any other. So both
// middlewares refuse an unsafe request that the browser marks cross-origin
// when the policy of the RPC that would run does not allow its origin.
// The rule is net/http.CrossOriginProtection's (Go 1.25), with the trusted
// origins taken per RPC from its policy:
// https://pkg.go.dev/net/http#CrossOriginProtection and
// https://words.filippo.io/csrf/.

// Protection says what the middlewares do with a cross-origin request that
// the policy of its RPC does not allow.
type Protection uint8

const (
	// ProtectionOn refuses it with 403 before the wrapped handler runs.
	ProtectionOn Protection = iota
	// ProtectionOff lets it through.
	ProtectionOff
	// ProtectionReportOnly lets it through and logs (and counts) it.
	ProtectionReportOnly
)

// SafeMethod reports whether method is one the protection never refuses:
// GET, HEAD and OPTIONS, which must not change state.
func SafeMethod(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	return false
}

// CrossOrigin reports whether the browser marked r as cross-origin, as
// net/http.CrossOriginProtection decides: Sec-Fetch-Site "cross-site",
// "same-site" (or any value other than "same-origin" and "none"); without
// Sec-Fetch-Site (older browsers), an Origin whose host differs from the
// request's Host. Requests with neither header come from non-browser
// clients and are never cross-origin. q is r as ReadRequest read it, so
// the Origin lines are not looked up twice. It does not look at the method
// or the policy: [Gate.Actual] does, first.
func CrossOrigin(r *http.Request, q *Request) bool {
	if v := r.Header[hSecFetchSite]; len(v) > 0 && v[0] != "" {
		return v[0] != "same-origin" && v[0] != "none"
	}
	if len(q.origins) == 0 || q.origins[0] == "" {
		return false
	}
	host, ok := originHost(q.origins[0])
	return !ok || host != r.Host
}

// originHost returns the host (with port) of an Origin value as url.Parse
// would find it; ok is false where url.Parse fails. Serialized origins
// (scheme "://" host [":" port]) are read without allocating; anything else
// goes through url.Parse itself so that the verdict stays
// CrossOriginProtection's.
func originHost(origin string) (host string, ok bool) {
	if h, ok := plainOriginHost(origin); ok {
		return h, true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return "", false
	}
	return u.Host, true
}

// plainOriginHost reads origin of the form scheme "://" host [":" port]
// where scheme is [a-z][a-z0-9+.-]*, host is lower-case letters, digits,
// '.' and '-', and port is digits: the form browsers send, for which
// url.Parse's Host is exactly the text after "://".
func plainOriginHost(origin string) (string, bool) {
	i := 0
	for i < len(origin) {
		c := origin[i]
		if 'a' <= c && c <= 'z' || i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '.' || c == '-') {
			i++
			continue
		}
		break
	}
	if i == 0 || len(origin) < i+3 || origin[i:i+3] != "://" {
		return "", false
	}
	host := origin[i+3:]
	colon := -1
	for j := 0; j < len(host); j++ {
		c := host[j]
		switch {
		case colon < 0 && ('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-'):
		case colon < 0 && c == ':' && j > 0:
			colon = j
		case colon >= 0 && '0' <= c && c <= '9':
		default:
			return "", false
		}
	}
	if host == "" || colon == len(host)-1 {
		return "", false
	}
	return host, true
}

// hSecFetchSite is the Fetch Metadata request header that names the
// relation between the request's initiator and its target:
// https://w3c.github.io/webappsec-fetch-metadata/#sec-fetch-site-header
const hSecFetchSite = "Sec-Fetch-Site"

// refusalBodies are the bodies of a refusal, by reason: each says where to
// look, as the log line's reason does, so that a developer whose allowed
// origin was refused for its cookie is not sent to allow_origins.
var refusalBodies = [...][]byte{
	whyOrigin:      []byte("protocors: cross-origin request refused: the CORS policy of this RPC does not allow the request's origin\n"),
	whyCredentials: []byte("protocors: cross-origin request refused: the request carries credentials (a cookie, Authorization, a client certificate) and the CORS policy of this RPC does not set allow_credentials\n"),
	whyOverride:    []byte("protocors: cross-origin request refused: it carries X-HTTP-Method-Override, which the middleware was told the mux ignores\n"),
	whyUnknownPath: []byte("protocors: cross-origin request refused: no RPC is known at this path (WithUnknownPathProtection)\n"),
}

// refuseCrossOrigin answers a request the protection refuses for why: 403
// with a short text body, before the wrapped handler runs. It allocates
// nothing: net/http sniffs the body's type (text/plain) itself.
func refuseCrossOrigin(w http.ResponseWriter, why refusal) {
	w.WriteHeader(http.StatusForbidden)
	_, _ = w.Write(refusalBodies[why])
}

// Verdict is what the protection decided for a request.
type Verdict uint8

const (
	// Pass: the request may reach the handler.
	Pass Verdict = iota
	// Refuse: answer 403 (refuseCrossOrigin) and log.
	Refuse
	// Report: let it through, and log that it would have been refused.
	Report
)
