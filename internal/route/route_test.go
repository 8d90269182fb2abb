package route_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"

	testv1 "github.com/protocors/protocors/internal/gen/protocors/test/v1"
	"github.com/protocors/protocors/internal/route"
)

func TestParse(t *testing.T) {
	tests := []struct {
		tmpl  string
		shape string // "" when invalid
	}{
		{"/", "/"},
		{"/v1", "/v1"},
		{"/v1/flavors/{name}", "/v1/flavors/*"},
		{"/v1/{name=shelves/*/books/*}", "/v1/shelves/*/books/*"},
		{"/v1/{name=projects/*/resources/**}:inspect", "/v1/projects/*/resources/**:inspect"},
		{"/v1/files/**", "/v1/files/**"},
		{"/v1/**/tail/*", "/v1/**/tail/*"},
		{"/v1/a.b:c:d", "/v1/a.b:c:d"},
		{"/v1/{a.b.c}", "/v1/*"},
		{"/v1/{a=**}:x", "/v1/**:x"},
		{"/v1/foo:", "/v1/foo"},
		{"/*/**", "/*/**"},
		{"/v1/***", "/v1/***"},
		{"/v1/%2F", "/v1/%2F"},
		{"v1", ""},
		{"", ""},
		{"/v1/", ""},
		{"/v1//x", ""},
		{"/v1/{}", ""},
		{"/v1/{1a}", ""},
		{"/v1/{a", ""},
		{"/v1/{a=b", ""},
		{"/v1/**/**", ""},
		{"/v1/a b", ""},
		{"/v1/%zz", ""},
		{"/v1/x:%", ""},
		{"/v1/{a=b/}", ""},
	}
	for _, tt := range tests {
		tmpl, err := route.Parse(tt.tmpl)
		muxErr := runtime.NewServeMux().HandlePath("GET", tt.tmpl, func(http.ResponseWriter, *http.Request, map[string]string) {})
		if (err == nil) != (muxErr == nil) {
			t.Errorf("Parse(%q) error %v, but HandlePath error %v", tt.tmpl, err, muxErr)
		}
		switch {
		case tt.shape == "" && err == nil:
			t.Errorf("Parse(%q) = %q, want an error", tt.tmpl, tmpl.Shape())
		case tt.shape != "" && err != nil:
			t.Errorf("Parse(%q): %v", tt.tmpl, err)
		case tt.shape != "" && tmpl.Shape() != tt.shape:
			t.Errorf("Parse(%q).Shape() = %q, want %q", tt.tmpl, tmpl.Shape(), tt.shape)
		}
	}
}

// spec is a route of a differential test.
type spec struct {
	method, tmpl string
}

// corpus overlaps on purpose: same templates under several methods, later
// routes shadowing earlier ones, verbs, deep wildcards with tails.
var corpus = []spec{
	{"GET", "/**"},
	{"GET", "/"},
	{"GET", "/v1/flavors/{name}"},
	{"PUT", "/v1/flavors/{name}"},
	{"DELETE", "/v1/flavors/{name}"},
	{"GET", "/v1/flavors"},
	{"GET", "/v1/{parent=shops/*}/flavors"},
	{"GET", "/v1/{name=projects/*/resources/**}:inspect"},
	{"POST", "/v1/files/**"},
	{"GET", "/v1/files/{path=**}"},
	{"GET", "/v1/{a=*}/{b=*}"},
	{"GET", "/v1/flavors/special"},
	{"GET", "/v1/**/tail/{x}"},
	{"GET", "/v1/a:get"},
	{"GET", "/v1/{x}:get"},
	{"POST", "/v1/{x=**}:run"},
	{"GET", "/v2/{name=**}"},
	{"PATCH", "/v1/x:y"},
	{"SEARCH", "/v1/gadgets:search"},
	{"GET", "/v1/gadgets:search"},
	{"GET", "/v3/a%2Fb/{x}"},
	{"GET", "/v3/{x}/c"},
	{"DELETE", "/*"},
	{"POST", "/v4/*/x/**/y/{z}"},
}

// outcome is what a ServeMux did with a request: the route it ran, or the
// status it answered itself.
type outcome struct {
	route  int // -1: none
	status int // 0: a route ran
}

func (o outcome) String() string {
	if o.route >= 0 {
		return "route " + strconv.Itoa(o.route)
	}
	return "status " + strconv.Itoa(o.status)
}

// realMux registers specs on a runtime.ServeMux through its public API.
func realMux(tb testing.TB, specs []spec, opts ...runtime.ServeMuxOption) *runtime.ServeMux {
	tb.Helper()
	opts = append(opts,
		runtime.WithRoutingErrorHandler(func(_ context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, _ *http.Request, status int) {
			w.WriteHeader(status)
		}),
		runtime.WithErrorHandler(func(_ context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, _ *http.Request, _ error) {
			w.WriteHeader(http.StatusBadRequest) // a malformed escape
		}),
	)
	mux := runtime.NewServeMux(opts...)
	for i, s := range specs {
		id := strconv.Itoa(i)
		if err := mux.HandlePath(s.method, s.tmpl, func(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
			w.Header().Set("X-Route", id)
		}); err != nil {
			tb.Fatalf("HandlePath(%q, %q): %v", s.method, s.tmpl, err)
		}
	}
	return mux
}

func serve(mux http.Handler, r *http.Request) outcome {
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	if id := w.Header().Get("X-Route"); id != "" {
		n, _ := strconv.Atoi(id)
		return outcome{route: n}
	}
	return outcome{route: -1, status: w.Code}
}

func ourTable(tb testing.TB, specs []spec, strict bool) *route.Table {
	tb.Helper()
	tb2 := &route.Table{StrictDeepWildcard: strict}
	for i, s := range specs {
		t, err := route.Parse(s.tmpl)
		if err != nil {
			tb.Fatalf("Parse(%q): %v", s.tmpl, err)
		}
		tb2.Add(s.method, t, i)
	}
	tb2.Freeze()
	return tb2
}

// predict says what the mux does for a non-form request, from our table.
// When several other methods match, the mux's answer depends on map order
// (405, or 400 for a malformed escape), so both are accepted then.
func predict(tb *route.Table, method string, u *url.URL, mode route.Mode) []outcome {
	p, ok := route.PathOf(u.Path, u.RawPath, mode)
	if !ok {
		return []outcome{{-1, 400}}
	}
	switch id, res := tb.Lookup(method, &p); res {
	case route.Found:
		return []outcome{{id, 0}}
	case route.Malformed:
		return []outcome{{-1, 400}}
	}
	var out []outcome
	for _, m := range tb.Methods() {
		if m == method {
			continue
		}
		switch _, res := tb.Lookup(m, &p); res {
		case route.Found:
			out = append(out, outcome{-1, 405})
		case route.Malformed:
			out = append(out, outcome{-1, 400})
		}
	}
	if len(out) == 0 {
		return []outcome{{-1, 404}}
	}
	return out
}

// checkLookupAll asserts that one LookupAll finds, for every method, what
// Lookup finds for it alone (the preflight relies on it).
func checkLookupAll(t *testing.T, tb *route.Table, u *url.URL, mode route.Mode) {
	t.Helper()
	p, ok := route.PathOf(u.Path, u.RawPath, mode)
	if !ok {
		return
	}
	ms := tb.Methods()
	all := tb.LookupAll(&p, make([]int, len(ms)))
	for i, m := range ms {
		q, _ := route.PathOf(u.Path, u.RawPath, mode)
		id, res := tb.Lookup(m, &q)
		if res != route.Found {
			id = -1
		}
		if all[i] != id {
			t.Fatalf("path %q raw %q: LookupAll has %d for %s, Lookup %d", u.Path, u.RawPath, all[i], m, id)
		}
	}
}

var pieces = []string{"v1", "v2", "v3", "v4", "flavors", "special", "shops", "projects", "resources", "files", "tail",
	"gadgets:search", "a:get", "b:get", ":get", "x:y", "x", "y", "c", "a", "b", "", "a%2Fb", "a%2fb", "%2F", "a%20b",
	"%zz", "%", "%2", "q:run", ":run", "a b", "é", "inspect", "r:inspect"}

// randomPath returns a request URL built from pieces, either parsed from
// its escaped form (as a server would) or set directly (RawPath included),
// which reaches escapes a parser would refuse.
func randomPath(rng *rand.Rand) *url.URL {
	var parts []string
	if rng.IntN(4) > 0 {
		parts = instantiate(rng, corpus[rng.IntN(len(corpus))].tmpl)
	} else {
		parts = make([]string, rng.IntN(7))
		for i := range parts {
			parts[i] = pieces[rng.IntN(len(pieces))]
		}
	}
	raw := "/" + strings.Join(parts, "/")
	if rng.IntN(2) == 0 {
		if u, err := url.Parse(raw); err == nil {
			return u
		}
	}
	u := &url.URL{Path: raw}
	if rng.IntN(2) == 0 {
		u.Path, _ = url.PathUnescape(raw)
		if u.Path == "" {
			u.Path = raw
		}
		u.RawPath = raw
	}
	return u
}

// instantiate returns the components of a path that a template is meant
// to match, with the odd component changed now and then.
func instantiate(rng *rand.Rand, tmpl string) []string {
	t, err := route.Parse(tmpl)
	if err != nil {
		panic(err)
	}
	var parts []string
	for _, s := range t.Segments {
		switch s.Kind {
		case route.Literal:
			parts = append(parts, s.Literal)
		case route.Star:
			parts = append(parts, pieces[rng.IntN(len(pieces))])
		case route.DeepStar:
			for range rng.IntN(4) {
				parts = append(parts, pieces[rng.IntN(len(pieces))])
			}
		}
	}
	if len(parts) == 0 {
		parts = []string{""}
	}
	if t.Verb != "" {
		parts[len(parts)-1] += ":" + t.Verb
	}
	if rng.IntN(5) == 0 {
		parts[rng.IntN(len(parts))] = pieces[rng.IntN(len(pieces))]
	}
	return parts
}

func contains(list []outcome, o outcome) bool {
	for _, x := range list {
		if x == o {
			return true
		}
	}
	return false
}

// TestModeMirrorsRuntime holds route.Mode to runtime.UnescapingMode, which
// gateway.WithUnescapingMode converts: the same value for every mode, and
// the zero value the mux's default.
func TestModeMirrorsRuntime(t *testing.T) {
	tests := []struct {
		route   route.Mode
		runtime runtime.UnescapingMode
	}{
		{route.ModeLegacy, runtime.UnescapingModeLegacy},
		{route.ModeAllExceptReserved, runtime.UnescapingModeAllExceptReserved},
		{route.ModeAllExceptSlash, runtime.UnescapingModeAllExceptSlash},
		{route.ModeAllCharacters, runtime.UnescapingModeAllCharacters},
		{route.Mode(0), runtime.UnescapingModeDefault},
	}
	for _, tt := range tests {
		if route.Mode(tt.runtime) != tt.route {
			t.Errorf("runtime.UnescapingMode %d is route.Mode %d", tt.runtime, tt.route)
		}
	}
}

func TestDifferential(t *testing.T) {
	methods := []string{"GET", "PUT", "POST", "DELETE", "PATCH", "SEARCH", "OPTIONS"}
	for mode := route.ModeLegacy; mode <= route.ModeAllCharacters; mode++ {
		for _, strict := range []bool{false, true} {
			t.Run(fmt.Sprintf("mode=%d/strict=%t", mode, strict), func(t *testing.T) {
				opts := []runtime.ServeMuxOption{runtime.WithUnescapingMode(runtime.UnescapingMode(mode))}
				if strict {
					opts = append(opts, runtime.WithStrictDeepWildcardMatching())
				}
				mux := realMux(t, corpus, opts...)
				tb := ourTable(t, corpus, strict)
				rng := rand.New(rand.NewPCG(uint64(mode), 1))
				routesSeen := make(map[int]bool)
				for range 3000 {
					u := randomPath(rng)
					method := methods[rng.IntN(len(methods))]
					r := &http.Request{Method: method, URL: u, Header: http.Header{}}
					got := serve(mux, r.WithContext(context.Background()))
					want := predict(tb, method, u, mode)
					checkLookupAll(t, tb, u, mode)
					if !contains(want, got) {
						t.Fatalf("%s path %q raw %q: mux %v, table predicts %v", method, u.Path, u.RawPath, got, want)
					}
					routesSeen[got.route] = true
				}
				t.Logf("%d of %d routes reached", len(routesSeen)-1, len(corpus))
				if len(routesSeen) < len(corpus)*2/3 {
					t.Errorf("only %d of %d routes reached: the generator is too weak", len(routesSeen)-1, len(corpus))
				}
			})
		}
	}
}

// TestPrecedence checks the mux's order: of two matching patterns, the one
// registered last runs.
func TestPrecedence(t *testing.T) {
	specs := []spec{{"GET", "/v1/{x}"}, {"GET", "/v1/a"}, {"GET", "/v1/{y=*}"}}
	tb := ourTable(t, specs, false)
	mux := realMux(t, specs)
	for _, path := range []string{"/v1/a", "/v1/b"} {
		u, _ := url.Parse(path)
		p, _ := route.PathOf(u.Path, u.RawPath, route.ModeLegacy)
		id, res := tb.Lookup("GET", &p)
		got := serve(mux, httptest.NewRequest("GET", path, nil))
		if res != route.Found || id != 2 || got.route != 2 {
			t.Errorf("%s: table %d (%v), mux %v; want route 2 for both", path, id, res, got)
		}
	}
}

func TestLookupAllocatesNothing(t *testing.T) {
	tb := ourTable(t, corpus, false)
	for _, path := range []string{"/v1/flavors/x", "/v1/projects/p/resources/a/b:inspect", "/v4/a/x/b/c/y/z", "/nope"} {
		for mode := route.ModeLegacy; mode <= route.ModeAllCharacters; mode++ {
			allocs := testing.AllocsPerRun(100, func() {
				p, _ := route.PathOf(path, path, mode)
				tb.Lookup("GET", &p)
				tb.Lookup("POST", &p)
			})
			if allocs != 0 {
				t.Errorf("%s mode %d: %v allocs", path, mode, allocs)
			}
		}
	}
}

// FuzzMatch compares the table with a real ServeMux on a fuzzed template
// (added to the corpus) and a fuzzed path.
func FuzzMatch(f *testing.F) {
	f.Add("/v1/{name=**}:x", "/v1/a/b:x", "", uint8(0), "GET")
	f.Add("/v1/a%2Fb", "/v1/a/b", "/v1/a%2Fb", uint8(3), "GET")
	f.Add("/x/{y}", "/x/%zz", "/x/%zz", uint8(1), "PUT")
	f.Add("/", "/", "", uint8(2), "DELETE")
	f.Fuzz(func(t *testing.T, tmpl, path, raw string, mode uint8, method string) {
		mode %= 4
		if method == "" || strings.ContainsAny(method, " \t\r\n") {
			return
		}
		_, perr := route.Parse(tmpl)
		merr := runtime.NewServeMux().HandlePath("GET", tmpl, func(http.ResponseWriter, *http.Request, map[string]string) {})
		if (perr == nil) != (merr == nil) {
			t.Fatalf("template %q: Parse error %v, HandlePath error %v", tmpl, perr, merr)
		}
		specs := corpus
		if perr == nil {
			specs = append(append([]spec(nil), corpus...), spec{method, tmpl})
		}
		mux := realMux(t, specs, runtime.WithUnescapingMode(runtime.UnescapingMode(mode)))
		tb := ourTable(t, specs, false)
		u := &url.URL{Path: path, RawPath: raw}
		r := &http.Request{Method: method, URL: u, Header: http.Header{}}
		got := serve(mux, r.WithContext(context.Background()))
		checkLookupAll(t, tb, u, route.Mode(mode))
		if want := predict(tb, method, u, route.Mode(mode)); !contains(want, got) {
			t.Fatalf("%s path %q raw %q: mux %v, table predicts %v", method, path, raw, got, want)
		}
	})
}

func BenchmarkLookup(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		var specs []spec
		for i := 0; len(specs) < n; i++ {
			tmpl := fmt.Sprintf("/v1/projects/{project}/coll%d/{name}", i)
			specs = append(specs, spec{"GET", tmpl}, spec{"PATCH", tmpl}, spec{"DELETE", tmpl + ":undelete"})
		}
		tb := ourTable(b, specs, false)
		path := fmt.Sprintf("/v1/projects/p1/coll%d/item", n/3-1)
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p, _ := route.PathOf(path, "", route.ModeLegacy)
				if _, res := tb.Lookup("PATCH", &p); res != route.Found {
					b.Fatal("no match")
				}
			}
		})
	}
}

// TestMalformedBeforeLaterLiteral: the mux answers 400 at the first
// pattern whose match reaches a variable holding a malformed escape, even
// when a later literal of that pattern would not match; the search trie,
// keyed by that later literal too, must not leave the pattern out. With
// one method and no catch-all route, so that no other method's 400 masks
// the answer (found in review: Lookup said NotFound where the mux said
// 400).
func TestMalformedBeforeLaterLiteral(t *testing.T) {
	tests := []struct {
		specs  []spec
		method string
		path   string
		mode   route.Mode
	}{
		{[]spec{{"POST", "/v1/{x}/c"}}, "POST", "/v1/%zz/d", route.ModeAllExceptReserved},
		{[]spec{{"GET", "/v1/{x}"}, {"POST", "/v1/{x}/c"}}, "POST", "/v1/%zz/d", route.ModeAllExceptReserved},
		{[]spec{{"POST", "/v1/{x}/c/{y}"}}, "POST", "/v1/%zz/d/e", route.ModeAllCharacters},
		{[]spec{{"POST", "/v1/*/c/**"}}, "POST", "/v1/%zz/d/e", route.ModeAllExceptSlash},
		{[]spec{{"POST", "/v1/{x}/c"}, {"POST", "/v1/lit/d"}}, "POST", "/v1/%zz/d", route.ModeAllExceptReserved},
	}
	for _, tt := range tests {
		mux := realMux(t, tt.specs, runtime.WithUnescapingMode(runtime.UnescapingMode(tt.mode)))
		tb := ourTable(t, tt.specs, false)
		u := &url.URL{Path: tt.path, RawPath: tt.path}
		r := &http.Request{Method: tt.method, URL: u, Header: http.Header{}}
		got := serve(mux, r.WithContext(context.Background()))
		checkLookupAll(t, tb, u, tt.mode)
		if want := predict(tb, tt.method, u, tt.mode); !contains(want, got) {
			t.Errorf("%v, %s %s (mode %d): mux %v, table predicts %v", tt.specs, tt.method, tt.path, tt.mode, got, want)
		}
	}
}

// TestManyBranches: a path that reaches more trie nodes holding patterns
// than a search collects without allocating (every mix of a literal and a
// variable over six segments: 64 patterns, all matching "/a/a/a/a/a/a")
// falls back to trying every pattern, and still agrees with the mux.
func TestManyBranches(t *testing.T) {
	var specs []spec
	for mask := range 1 << 6 {
		var b strings.Builder
		for i := range 6 {
			if mask&(1<<i) != 0 {
				b.WriteString("/a")
			} else {
				fmt.Fprintf(&b, "/{v%d}", i)
			}
		}
		specs = append(specs, spec{"GET", b.String()}, spec{"POST", b.String() + ":x"})
	}
	mux := realMux(t, specs)
	tb := ourTable(t, specs, false)
	for _, path := range []string{"/a/a/a/a/a/a", "/a/b/a/a/a/a", "/b/b/b/b/b/b", "/a/a/a/a/a/a:x", "/a/a/a/a/a", "/a/a/a/a/a/a/a"} {
		for _, method := range []string{"GET", "POST"} {
			u := &url.URL{Path: path}
			r := &http.Request{Method: method, URL: u, Header: http.Header{}}
			got := serve(mux, r.WithContext(context.Background()))
			checkLookupAll(t, tb, u, route.ModeLegacy)
			if want := predict(tb, method, u, route.ModeLegacy); !contains(want, got) {
				t.Errorf("%s %s: mux %v, table predicts %v", method, path, got, want)
			}
		}
	}
}

// BenchmarkLookupAll is what a preflight does: every method's route at a
// path with variables (an AIP resource: Get, Update, Delete, and a custom
// verb on the same name).
func BenchmarkLookupAll(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		var specs []spec
		for i := 0; len(specs) < n; i++ {
			tmpl := fmt.Sprintf("/v1/projects/{project}/coll%d/{name}", i)
			specs = append(specs, spec{"GET", tmpl}, spec{"PATCH", tmpl}, spec{"DELETE", tmpl}, spec{"POST", tmpl + ":undelete"})
		}
		tb := ourTable(b, specs, false)
		path := fmt.Sprintf("/v1/projects/p1/coll%d/item", n/4-1)
		buf := make([]int, len(tb.Methods()))
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p, _ := route.PathOf(path, "", route.ModeLegacy)
				if ids := tb.LookupAll(&p, buf); ids[0] < 0 {
					b.Fatal("no match")
				}
			}
		})
	}
}

// Bindings reads a rule and its additional bindings in Handle order, and
// keeps a custom kind as written, as protoc-gen-grpc-gateway does.
func TestBindings(t *testing.T) {
	md := testv1.File_protocors_test_v1_test_proto.Services().ByName("FlavorService").Methods().ByName("ListFlavors")
	got := route.Bindings(md)
	want := []route.Binding{{Method: "GET", Path: "/v1/flavors"}, {Method: "GET", Path: "/v1/{parent=shops/*}/flavors"}}
	if !slices.Equal(got, want) {
		t.Errorf("Bindings(ListFlavors) = %v, want %v", got, want)
	}
	md = testv1.File_protocors_test_v1_gateway_proto.Services().ByName("GadgetService").Methods().ByName("SearchGadgets")
	if got := route.Bindings(md); len(got) != 2 || got[0].Method != "SEARCH" || got[0].Path != "/v1/gadgets:search" || got[1].Method != "GET" {
		t.Errorf("Bindings(SearchGadgets) = %v", got)
	}
	md = testv1.File_protocors_test_v1_test_proto.Services().ByName("FlavorService").Methods().ByName("WatchFlavors")
	if got := route.Bindings(md); got != nil {
		t.Errorf("Bindings(WatchFlavors) = %v, want none", got)
	}
}
