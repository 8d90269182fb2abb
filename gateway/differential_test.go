package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"golang.org/x/net/http/httpguts"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/grpclog"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/gateway"
)

// The differential test runs the whole middleware in front of a real
// grpc-gateway ServeMux and checks, request by request, that the route
// whose policy the middleware applied is the route whose handler the mux
// ran. Every route's policy allows diffOrigin and exposes a header naming
// the route ("X-Route-7"), so the response tells which policy was applied;
// every handler names itself in diffRanHeader.

const (
	diffOrigin     = "https://app.example"
	diffRanHeader  = "X-Diff-Ran"
	diffFormHeader = "X-Diff-Form-Error"
)

// diffRoutes overlap on purpose: literals against {id}, {name=**} against
// literals and verbs, several methods at one path, custom methods. The mux
// tries later registrations first, and so does WithRoute.
var diffRoutes = []struct{ method, template string }{
	{"GET", "/v1/items"},
	{"POST", "/v1/items"},
	{"GET", "/v1/items/{id}"},
	{"PUT", "/v1/items/{id}"},
	{"DELETE", "/v1/items/{id}"},
	{"PATCH", "/v1/items/{id}"},
	{"GET", "/v1/items/{id}:watch"},
	{"POST", "/v1/items/{id}:run"},
	{"POST", "/v1/items/{id}:cancel"},
	{"GET", "/v1/items/special"},
	{"POST", "/v1/items/special"},
	{"GET", "/v1/items:search"},
	{"SEARCH", "/v1/items"},
	{"LIST", "/v1/items"},
	{"LOCK", "/v1/items/{id}"},
	{"GET", "/v1/items/{id}/sub/{sub}"},
	{"GET", "/v1/{name=shelves/*/books/*}"},
	{"PATCH", "/v1/{book.name=shelves/*/books/*}"},
	{"GET", "/v1/{name=files/**}"},
	{"DELETE", "/v1/{name=files/**}"},
	{"POST", "/v1/{name=files/**}:upload"},
	{"GET", "/v1/files/{id}/meta"},
	{"PURGE", "/v1/{name=**}"},
	{"GET", "/v2/{rest=**}"},
	{"POST", "/v2/{rest=**}"},
	{"GET", "/v2/literal"},
	{"GET", "/v1/a/{x}/b/{y=**}:verb"},
	{"GET", "/v1/items/{id=*}:a:b"},
	{"PUT", "/"},
}

// The mux logs every Content-Type it cannot parse at level ERROR, which
// drowns a failing run of these tests: drop those lines, unless the grpclog
// severity was chosen in the environment.
func init() {
	if os.Getenv("GRPC_GO_LOG_SEVERITY_LEVEL") == "" {
		grpclog.SetLoggerV2(quietContentType{grpclog.NewLoggerV2(io.Discard, io.Discard, os.Stderr)})
	}
}

type quietContentType struct{ grpclog.LoggerV2 }

func (q quietContentType) Errorf(format string, args ...any) {
	if !strings.HasPrefix(format, "Failed to parse Content-Type") {
		q.LoggerV2.Errorf(format, args...)
	}
}

// diffConfig is one mux configuration and the gateway options mirroring it.
type diffConfig struct {
	mode       runtime.UnescapingMode
	noFallback bool
	noOverride bool
	strict     bool
}

func (c diffConfig) String() string {
	s := fmt.Sprintf("mode=%d", c.mode)
	if c.noFallback {
		s += ",noFallback"
	}
	if c.noOverride {
		s += ",noOverride"
	}
	if c.strict {
		s += ",strictWildcard"
	}
	return s
}

var diffModes = []runtime.UnescapingMode{
	runtime.UnescapingModeLegacy,
	runtime.UnescapingModeAllExceptReserved,
	runtime.UnescapingModeAllExceptSlash,
	runtime.UnescapingModeAllCharacters,
}

// diffVariants are the option sets tried in every mode besides the default.
var diffVariants = []diffConfig{
	{noFallback: true},
	{noOverride: true},
	{noFallback: true, noOverride: true},
	{strict: true},
}

type diffHarness struct {
	cfg diffConfig
	mux http.Handler // the mux alone: the reference
	mw  http.Handler // the middleware in front of an identical mux
}

func newDiffHarness(tb testing.TB, cfg diffConfig) *diffHarness {
	tb.Helper()
	newMux := func() http.Handler {
		opts := []runtime.ServeMuxOption{
			runtime.WithUnescapingMode(cfg.mode),
			// A form the mux fails to parse (the body or the query) is
			// reported as InvalidArgument; mark it so the check can tell.
			// Only the status is written: encoding error bodies would
			// double the run time.
			runtime.WithErrorHandler(func(_ context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, _ *http.Request, err error) {
				if he := (*runtime.HTTPStatusError)(nil); errors.As(err, &he) {
					w.WriteHeader(he.HTTPStatus)
					return
				}
				if status.Code(err) == codes.InvalidArgument {
					w.Header().Set(diffFormHeader, "1")
				}
				w.WriteHeader(runtime.HTTPStatusFromCode(status.Code(err)))
			}),
		}
		if cfg.noFallback {
			opts = append(opts, runtime.WithDisablePathLengthFallback())
		}
		if cfg.noOverride {
			opts = append(opts, runtime.WithDisableHTTPMethodOverride())
		}
		if cfg.strict {
			opts = append(opts, runtime.WithStrictDeepWildcardMatching())
		}
		mux := runtime.NewServeMux(opts...)
		for i, rt := range diffRoutes {
			ran := strconv.Itoa(i)
			if err := mux.HandlePath(rt.method, rt.template, func(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
				w.Header().Set(diffRanHeader, ran)
			}); err != nil {
				tb.Fatalf("HandlePath(%s, %s): %v", rt.method, rt.template, err)
			}
		}
		return mux
	}
	// An empty registry: the package's tests link protos whose rules would
	// add routes this mux does not have.
	opts := []gateway.Option{protocors.WithFiles(new(protoregistry.Files)), gateway.WithUnescapingMode(cfg.mode)}
	if cfg.noFallback {
		opts = append(opts, gateway.WithDisablePathLengthFallback())
	}
	if cfg.noOverride {
		opts = append(opts, gateway.WithDisableHTTPMethodOverride())
	}
	if cfg.strict {
		opts = append(opts, gateway.WithStrictDeepWildcardMatching())
	}
	for i, rt := range diffRoutes {
		opts = append(opts, gateway.WithRoute(rt.method, rt.template, &corspb.Policy{
			AllowOrigins:  []string{diffOrigin},
			ExposeHeaders: []string{"X-Route-" + strconv.Itoa(i)},
		}))
	}
	m, err := gateway.New(opts...)
	if err != nil {
		tb.Fatalf("gateway.New(%v): %v", cfg, err)
	}
	return &diffHarness{cfg: cfg, mux: newMux(), mw: m.Handler(newMux())}
}

// diffInput is one actual (non-preflight) request from diffOrigin.
type diffInput struct {
	method       string
	target       string   // request target: path and optional query
	contentType  []string // field lines; nil: no Content-Type
	override     []string // X-HTTP-Method-Override lines; nil: none
	body         string
	secFetchSite string
}

func (in diffInput) String() string {
	s := fmt.Sprintf("%s %q", in.method, in.target)
	if in.contentType != nil {
		s += fmt.Sprintf(" Content-Type=%q", in.contentType)
	}
	if in.override != nil {
		s += fmt.Sprintf(" X-HTTP-Method-Override=%q", in.override)
	}
	if in.body != "" {
		s += fmt.Sprintf(" body=%q", in.body)
	}
	if in.secFetchSite != "" {
		s += " Sec-Fetch-Site=" + in.secFetchSite
	}
	return s
}

// request builds the request as net/http's server would (ParseRequestURI).
// A target it refuses (a malformed escape) is kept raw in both Path and
// RawPath, as a handler behind another front end may see it.
func (in diffInput) request(target string) *http.Request {
	r := &http.Request{
		Method: in.method, RequestURI: target,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: make(http.Header, 4), Host: "api.example", RemoteAddr: "192.0.2.1:1234",
		Body: io.NopCloser(strings.NewReader(in.body)), ContentLength: int64(len(in.body)),
	}
	if u, err := url.ParseRequestURI(target); err == nil {
		r.URL = u
	} else {
		p, q, _ := strings.Cut(target, "?")
		r.URL = &url.URL{Path: p, RawPath: p, RawQuery: q}
	}
	r.Header.Set("Origin", diffOrigin)
	for _, v := range in.contentType {
		r.Header.Add("Content-Type", v)
	}
	for _, v := range in.override {
		r.Header.Add("X-HTTP-Method-Override", v)
	}
	if in.secFetchSite != "" {
		r.Header.Set("Sec-Fetch-Site", in.secFetchSite)
	}
	return r
}

// diffOutcome is what one response shows: the handler the mux ran and the
// route whose policy the middleware applied (-1: none).
type diffOutcome struct {
	ran, applied int
	code         int
	formErr      bool
	problem      string // an unreadable answer
}

func diffServe(h http.Handler, r *http.Request) diffOutcome {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	hd := w.Header()
	o := diffOutcome{ran: -1, applied: -1, code: w.Code, formErr: hd.Get(diffFormHeader) != ""}
	if v := hd.Get(diffRanHeader); v != "" {
		o.ran, _ = strconv.Atoi(v)
	}
	for _, line := range hd.Values("Access-Control-Expose-Headers") {
		for _, name := range strings.Split(line, ",") {
			name = strings.ToLower(strings.TrimSpace(name))
			if n, ok := strings.CutPrefix(name, "x-route-"); ok {
				i, err := strconv.Atoi(n)
				if err != nil || (o.applied >= 0 && o.applied != i) {
					o.problem = fmt.Sprintf("Access-Control-Expose-Headers %q", hd.Values("Access-Control-Expose-Headers"))
				}
				o.applied = i
			}
		}
	}
	acao := hd.Values("Access-Control-Allow-Origin")
	switch {
	case o.applied >= 0 && (len(acao) != 1 || acao[0] != diffOrigin):
		o.problem = fmt.Sprintf("route %d applied with Access-Control-Allow-Origin %q", o.applied, acao)
	case o.applied < 0 && len(acao) > 0:
		o.problem = fmt.Sprintf("Access-Control-Allow-Origin %q without a route's Expose-Headers", acao)
	}
	return o
}

func diffRouteName(i int) string {
	if i < 0 {
		return "none"
	}
	return fmt.Sprintf("#%d %s %s", i, diffRoutes[i].method, diffRoutes[i].template)
}

// check sends in to the mux alone and through the middleware and returns
// what is wrong, or "".
func (h *diffHarness) check(in diffInput) string {
	ref := diffServe(h.mux, in.request(in.target))
	got := diffServe(h.mw, in.request(in.target))
	if got.problem != "" {
		return got.problem
	}
	// The middleware must never stop (or change) what the mux runs: every
	// route's policy allows the origin, so cross-origin request protection
	// has nothing to refuse, except a cross-origin unsafe request that
	// carries X-HTTP-Method-Override where the middleware was told the mux
	// ignores it (a browser sends it only after a preflight granted it).
	if got.ran == -1 && got.code == http.StatusForbidden && h.overrideRefused(in) {
		return ""
	}
	if got.ran != ref.ran {
		return fmt.Sprintf("through the middleware the mux ran %s (status %d), alone it runs %s", diffRouteName(got.ran), got.code, diffRouteName(ref.ran))
	}
	if got.applied == ref.ran {
		return ""
	}
	if ref.formErr {
		// The mux refused a form it could not parse (body or query), which
		// the middleware cannot read: accept no policy, or the policy of
		// the route the mux would have run with a well-formed form.
		clean := in
		clean.body = ""
		target, _, _ := strings.Cut(in.target, "?")
		if alt := diffServe(h.mux, clean.request(target)); got.applied == -1 || got.applied == alt.ran {
			return ""
		}
	}
	return fmt.Sprintf("middleware applied the policy of %s, the mux ran %s (status %d)", diffRouteName(got.applied), diffRouteName(ref.ran), ref.code)
}

// overrideRefused reports whether the protection refuses in because it
// carries X-HTTP-Method-Override while the middleware believes the mux
// ignores it: an unsafe method, marked cross-origin (diffOrigin's host is
// not the request's Host without Sec-Fetch-Site).
func (h *diffHarness) overrideRefused(in diffInput) bool {
	if !h.cfg.noFallback && !h.cfg.noOverride || len(in.override) == 0 {
		return false
	}
	switch in.method {
	case "GET", "HEAD", "OPTIONS":
		return false
	}
	return in.secFetchSite == "" || in.secFetchSite == "cross-site" || in.secFetchSite == "same-site"
}

// diffGen draws requests.
type diffGen struct{ r *rand.Rand }

func (g diffGen) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }

var (
	diffMethods = []string{
		"GET", "GET", "POST", "POST", "POST", "POST", "PUT", "DELETE", "PATCH",
		"HEAD", "OPTIONS", "SEARCH", "LIST", "LOCK", "PURGE", "post", "Get",
	}
	diffPrefixes = []string{"/v1/", "/v1/", "/v1/", "/v2/", "/", "//v1/", "/V1/", "v1/", "/v1//", "*"}
	diffSegments = []string{
		"items", "items", "items", "files", "files", "shelves", "books", "42", "7", "special", "meta", "sub",
		"literal", "a", "b", "x", "", "a%2Fb", "%2F", "%2f", "%2", "%zz", "%", "%4", "%41", "a%20b", "%25",
		"%25zz", "%252F", "\u00e9", "%C3%A9", "items:search", "42:watch", "42:run", "42:cancel", ":run",
		"a:b", "x:upload", "42:a:b", "%3Arun", "42%3Awatch", "..", ".", "special:run", "meta:watch",
	}
	diffVerbs     = []string{"", "", "", ":watch", ":run", ":cancel", ":upload", ":search", ":verb", ":a:b", ":", "::run", "%3Awatch"}
	diffQueries   = []string{"", "", "", "?a=b", "?a=%zz", "?x=1;y=2", "?", "?a=%2F"}
	diffFormTypes = []string{
		"application/x-www-form-urlencoded",
		"application/x-www-form-urlencoded",
		"APPLICATION/X-WWW-FORM-URLENCODED",
		"Application/X-Www-Form-Urlencoded",
		"appl\u0130cation/x-www-form-urlencoded",
		"APPL\u0130CAT\u0130ON/X-WWW-FORM-URLENCODED",
		"appl\u0131cation/x-www-form-urlencoded",
		"application/x-www-form-urlencoded\u212a",
		"application/x-www-form-urlencode",
		"application/x-www-form-urlencodedx",
		"application /x-www-form-urlencoded",
		"application/ x-www-form-urlencoded",
		"application/json",
		"text/plain",
		"multipart/form-data; boundary=x",
		"",
	}
	diffParams = []string{
		"", "", "", "; charset=utf-8", ";charset=UTF-8", "; charset", "; charset=", ";", "; a=b; a=c",
		"; q=\"x y\"", "; charset=utf-8 ", "; \u212aey=v", "; \u017fet=1", " ;charset=utf-8", "; charset=\u0130",
	}
	diffSpaces = []string{
		"", "", "", " ", "\t", "  ", "\u00a0", "\u0085", "\u2000", "\u3000", "\ufeff",
	}
	diffOverrides = []string{
		"", "GET", "get", "Get", "PUT", "put", "POST", "post", "po\u017ft", "DELETE", "delete", "patch", "PATCH",
		"search", "l\u0131st", "l\u0130st", "list", "lock", "loc\u212a", "purge", " PUT", "PUT ", "P UT",
		"\u00a0PUT", "G\u0130T", "HEAD", "options",
	}
	diffBodies = []string{"", "", "a=b", "a=b", "a=%zz"}
	diffSites  = []string{"", "", "cross-site", "same-site", "same-origin", "none"}
)

func (g diffGen) target() string {
	if g.r.IntN(40) == 0 {
		return g.pick([]string{"*", "v1/items", "", "/", "/v1", "/v1/"})
	}
	var b strings.Builder
	b.WriteString(g.pick(diffPrefixes))
	n := g.r.IntN(5)
	for i := range n {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(g.pick(diffSegments))
	}
	b.WriteString(g.pick(diffVerbs))
	if g.r.IntN(10) == 0 {
		b.WriteByte('/')
	}
	b.WriteString(g.pick(diffQueries))
	return b.String()
}

func (g diffGen) contentType() string {
	return g.pick(diffSpaces) + g.pick(diffFormTypes) + g.pick(diffParams) + g.pick(diffSpaces)
}

func (g diffGen) input() diffInput {
	in := diffInput{
		method:       g.pick(diffMethods),
		target:       g.target(),
		body:         g.pick(diffBodies),
		secFetchSite: g.pick(diffSites),
	}
	if g.r.IntN(5) > 0 {
		in.contentType = []string{g.contentType()}
		if g.r.IntN(10) == 0 {
			in.contentType = append(in.contentType, g.contentType())
		}
	}
	if g.r.IntN(5) < 3 {
		in.override = []string{g.pick(diffOverrides)}
		if g.r.IntN(8) == 0 {
			in.override = append(in.override, g.pick(diffOverrides))
		}
	}
	return in
}

// diffReport collects failures and prints a few of each kind.
type diffReport struct {
	t      *testing.T
	total  int
	byKind map[string]int
}

func (rep *diffReport) add(cfg diffConfig, in diffInput, msg string) {
	rep.total++
	kind := msg
	if i := strings.Index(kind, " (status"); i >= 0 {
		kind = kind[:i]
	}
	rep.byKind[kind]++
	if rep.byKind[kind] <= 2 && rep.total <= 40 {
		rep.t.Errorf("%v: %v: %s", cfg, in, msg)
	}
}

// TestDifferential sends 20,000 random actual requests per unescaping mode
// (and 2,500 per mode and option variant) through the middleware and a
// bare mux, with a fixed seed.
func TestDifferential(t *testing.T) {
	const perMode, perVariant = 20000, 2500
	rep := &diffReport{t: t, byKind: map[string]int{}}
	requests := 0
	for mi, mode := range diffModes {
		cfgs := []diffConfig{{mode: mode}}
		counts := []int{perMode}
		for _, v := range diffVariants {
			v.mode = mode
			cfgs = append(cfgs, v)
			counts = append(counts, perVariant)
		}
		for ci, cfg := range cfgs {
			h := newDiffHarness(t, cfg)
			g := diffGen{rand.New(rand.NewPCG(20260317, uint64(mi*16+ci)))}
			for range counts[ci] {
				in := g.input()
				requests++
				if msg := h.check(in); msg != "" {
					rep.add(cfg, in, msg)
				}
			}
		}
	}
	if rep.total > 0 {
		t.Errorf("%d of %d requests diverged", rep.total, requests)
	}
}

// TestDifferentialCases are the inputs most likely to diverge, in every
// mode and option variant.
func TestDifferentialCases(t *testing.T) {
	rep := &diffReport{t: t, byKind: map[string]int{}}
	n := 0
	for _, mode := range diffModes {
		for _, cfg := range append([]diffConfig{{}}, diffVariants...) {
			cfg.mode = mode
			h := newDiffHarness(t, cfg)
			for _, in := range diffSeeds() {
				n++
				if msg := h.check(in); msg != "" {
					rep.add(cfg, in, msg)
				}
			}
		}
	}
	if rep.total > 0 {
		t.Errorf("%d of %d requests diverged", rep.total, n)
	}
}

func diffSeeds() []diffInput {
	form := []string{"application/x-www-form-urlencoded"}
	var seeds []diffInput
	for _, ct := range []string{
		"application/x-www-form-urlencoded",
		"Application/X-WWW-Form-Urlencoded; charset=utf-8",
		"application/x-www-form-urlencoded; charset",
		"application/x-www-form-urlencoded;",
		" application/x-www-form-urlencoded\t",
		"\u00a0application/x-www-form-urlencoded",
		"\u0085application/x-www-form-urlencoded",
		"\u2000application/x-www-form-urlencoded",
		"\u3000application/x-www-form-urlencoded\u3000",
		"\ufeffapplication/x-www-form-urlencoded",
		"application/x-www-form-urlencoded\u00a0",
		"appl\u0130cation/x-www-form-urlencoded",
		"application/x-www-form-urlencoded; \u212a=v",
		"application/json",
	} {
		seeds = append(seeds,
			diffInput{method: "POST", target: "/v1/items/42", contentType: []string{ct}, body: "a=b"},
			diffInput{method: "POST", target: "/v1/items/42", contentType: []string{ct}, override: []string{"put"}},
		)
	}
	for _, ov := range []string{"", "delete", "po\u017ft", "PATCH", "lock", "loc\u212a", "l\u0131st", " PUT"} {
		seeds = append(seeds,
			diffInput{method: "POST", target: "/v1/items/42", contentType: form, override: []string{ov}},
			diffInput{method: "POST", target: "/v1/items", contentType: form, override: []string{ov, "GET"}},
		)
	}
	for _, target := range []string{
		"/v1/items/a%2Fb", "/v1/files/a%2Fb/c", "/v1/files/x%2F:upload", "/v1/items/%zz", "/v1/items/%zz:watch",
		"/v1/files/%2", "/v1/items/42:watch", "/v1/items:search", "/v1/items/:run", "/v1/items/42:a:b",
		"/v1/shelves/1/books/2", "/v1/shelves%2F1/books/2", "/v1/files", "/v1/files/", "/v2/", "/v2",
		"/v1/a/1/b/c/d:verb", "/v1/a/1/b:verb", "/v1/items?a=%zz", "*", "v1/items",
	} {
		seeds = append(seeds,
			diffInput{method: "GET", target: target},
			diffInput{method: "POST", target: target, contentType: form, body: "a=b"},
			diffInput{method: "POST", target: target, contentType: form, override: []string{"PURGE"}, secFetchSite: "cross-site"},
		)
	}
	return seeds
}

// FuzzDifferential checks the same property on fuzzed (method, path,
// Content-Type, X-HTTP-Method-Override) in every mode and option variant.
// A "\n" in the Content-Type or override separates field lines; "" sends
// no such field.
func FuzzDifferential(f *testing.F) {
	for _, in := range diffSeeds() {
		ct, ov := strings.Join(in.contentType, "\n"), strings.Join(in.override, "\n")
		if in.override != nil && ov == "" {
			ov = "\n"
		}
		f.Add(in.method, in.target, ct, ov)
	}
	var hs []*diffHarness
	for _, mode := range diffModes {
		for _, cfg := range append([]diffConfig{{}}, diffVariants...) {
			cfg.mode = mode
			hs = append(hs, newDiffHarness(f, cfg))
		}
	}
	f.Fuzz(func(t *testing.T, method, target, contentType, override string) {
		if method == "" || !httpguts.ValidHeaderFieldName(method) {
			return
		}
		in := diffInput{method: method, target: target, body: "a=b"}
		if contentType != "" {
			in.contentType = strings.Split(contentType, "\n")
		}
		if override != "" {
			in.override = strings.Split(override, "\n")
		}
		for _, v := range append(in.contentType, in.override...) {
			if !httpguts.ValidHeaderFieldValue(v) {
				return
			}
		}
		for _, h := range hs {
			if msg := h.check(in); msg != "" {
				t.Fatalf("%v: %v: %s", h.cfg, in, msg)
			}
		}
	})
}
