package route

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
)

// These tests are in package route to reach both of Ambiguities' ways;
// the helpers of route_test.go are not visible here.

// oneMux is a real ServeMux with tmpl as its only (GET) pattern.
func oneMux(tb testing.TB, tmpl string, strict bool) *runtime.ServeMux {
	tb.Helper()
	opts := []runtime.ServeMuxOption{
		runtime.WithRoutingErrorHandler(func(_ context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, _ *http.Request, status int) {
			w.WriteHeader(status)
		}),
	}
	if strict {
		opts = append(opts, runtime.WithStrictDeepWildcardMatching())
	}
	mux := runtime.NewServeMux(opts...)
	if err := mux.HandlePath("GET", tmpl, func(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
		w.Header().Set("X-Matched", "1")
	}); err != nil {
		tb.Fatalf("HandlePath(%q): %v", tmpl, err)
	}
	return mux
}

// matches reports whether mux runs its pattern for path (set as the
// request's URL.Path, as a server does after unescaping).
func matches(mux http.Handler, path string) bool {
	r := &http.Request{Method: "GET", URL: &url.URL{Path: path}, Header: http.Header{}}
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	return w.Header().Get("X-Matched") != ""
}

func mustParse(tb testing.TB, tmpl string) *Template {
	tb.Helper()
	t, err := Parse(tmpl)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

func TestOverlap(t *testing.T) {
	tests := []struct {
		a, b           string
		want, wantSt   bool   // Overlap, OverlapStrict
		witness, witSt string // a path both match ("" when none), for each
	}{
		{"/v1/items", "/v1/items", true, true, "/v1/items", "/v1/items"},
		{"/v1/items", "/v1/item", false, false, "", ""},
		{"/v1/items/{id}", "/v1/items/special", true, true, "/v1/items/special", "/v1/items/special"},
		{"/v1/{name=**}", "/v1/items/{id}", true, true, "/v1/items/7", "/v1/items/7"},
		{"/v1/{name=**}", "/v1", true, false, "/v1", ""},
		{"/v1/items/{id}", "/v1/items/{id}:cancel", true, true, "/v1/items/7:cancel", "/v1/items/7:cancel"},
		{"/v1/items/{id}:cancel", "/v1/items/{id}:get", false, false, "", ""},
		{"/v1/items/{id}:b", "/v1/items/{id}:a:b", true, true, "/v1/items/7:a:b", "/v1/items/7:a:b"},
		{"/v1/items/{id}:b", "/v1/items/x:b", true, true, "/v1/items/x:b", "/v1/items/x:b"},
		{"/v1/items:cancel", "/v1/items", false, false, "", ""},
		{"/v1/{x}:get", "/v1/a:get", true, true, "/v1/a:get", "/v1/a:get"},
		{"/v1/a:get", "/v1/{x}", true, true, "/v1/a:get", "/v1/a:get"},
		{"/v1/a:get", "/v1/b:get", false, false, "", ""},
		{"/v1/*/x", "/v1/y/*", true, true, "/v1/y/x", "/v1/y/x"},
		{"/v1/*/x", "/v1/y/z", false, false, "", ""},
		{"/v1/*", "/v1/*/*", false, false, "", ""},
		{"/**", "/", true, true, "/", "/"},
		{"/**", "/v1/a/b:c", true, true, "/v1/a/b:c", "/v1/a/b:c"},
		{"/**/a", "/a/**", true, true, "/a", "/a/a"},
		{"/a/**/b", "/a/b/**", true, true, "/a/b", "/a/b/b"},
		{"/a/**/b", "/a/c/**", true, true, "/a/c/b", "/a/c/b"},
		{"/a/**/b", "/a/*", true, false, "/a/b", ""},
		{"/a/**/b", "/c/**", false, false, "", ""},
		{"/v1/**/tail/{x}", "/v1/a/b", false, false, "", ""},
		{"/v1/**/tail/{x}", "/v1/tail/*", true, false, "/v1/tail/x", ""},
		{"/v1/**/tail/{x}", "/v1/*/*/*/tail/q", true, true, "/v1/a/b/c/tail/q", "/v1/a/b/c/tail/q"},
		{"/v1/**:run", "/v1/a", false, false, "", ""},
		{"/v1/**:run", "/v1/{x}", true, true, "/v1/a:run", "/v1/a:run"},
		{"/v1/**:run", "/v1:run", true, false, "/v1:run", ""},
		{"/**:a", "/**:b", false, false, "", ""},
		{"/**:b", "/**:a:b", true, true, "/**:a:b", "/**:a:b"}, // literal "**:a", verb "b"
		{"/{x=**}:b", "/{x=**}:a:b", true, true, "/q:a:b", "/q:a:b"},
		{"/", "/{x}", true, true, "/", "/"},
		{"/", "/v1", false, false, "", ""},
		{"/", "/**:v", false, false, "", ""},
		{"/:v", "/**", false, false, "", ""}, // matches nothing: no stem
		{"/{x}", "/{y}:v", true, true, "/a:v", "/a:v"},
		{"/*/**", "/a", true, false, "/a", ""},
		{"/*/**", "/", true, false, "/", ""},
	}
	for _, tt := range tests {
		a, b := mustParse(t, tt.a), mustParse(t, tt.b)
		for _, strict := range []bool{false, true} {
			f, want, witness := Overlap, tt.want, tt.witness
			if strict {
				f, want, witness = OverlapStrict, tt.wantSt, tt.witSt
			}
			if got := f(a, b); got != want {
				t.Errorf("%q vs %q (strict %t): got %t, want %t", tt.a, tt.b, strict, got, want)
			}
			if got := f(b, a); got != want {
				t.Errorf("%q vs %q (strict %t): got %t, want %t", tt.b, tt.a, strict, got, want)
			}
			if witness != "" && !(matches(oneMux(t, tt.a, strict), witness) && matches(oneMux(t, tt.b, strict), witness)) {
				t.Errorf("%q vs %q (strict %t): witness %q is not matched by both muxes", tt.a, tt.b, strict, witness)
			}
		}
	}
}

// TestOverlapLong covers templates too long for the automaton's stack
// buffer.
func TestOverlapLong(t *testing.T) {
	long := "/" + strings.Repeat("a/", 70)
	a, b := mustParse(t, long+"**"), mustParse(t, "/**/"+strings.Repeat("a/", 70)+"b")
	if !Overlap(a, b) || !OverlapStrict(a, b) || !Overlap(b, a) {
		t.Error("long templates: no overlap")
	}
	c := mustParse(t, long+"**/c")
	if Overlap(c, b) || Overlap(b, c) {
		t.Error("long templates: overlap")
	}
}

// randomTemplate returns a template from a small alphabet, so that pairs
// overlap often; it may be one grpc-gateway refuses.
func randomTemplate(rng *rand.Rand) string {
	if rng.IntN(20) == 0 {
		return []string{"/", "/:v", "/**", "/{x=**}:v"}[rng.IntN(4)]
	}
	pieces := []string{"a", "b", "a", "*", "**", "{x}", "{x=a/*}", "{y=**}", "{z=*/b}", "a:b"}
	parts := make([]string, 1+rng.IntN(4))
	for i := range parts {
		parts[i] = pieces[rng.IntN(len(pieces))]
	}
	s := "/" + strings.Join(parts, "/")
	if v := []string{"", "", "v", "w", "v:w", "b"}[rng.IntN(6)]; v != "" {
		s += ":" + v
	}
	return s
}

// candidates returns paths meant to be matched by t and perhaps by o:
// t's wildcards filled with o's literals, verbs and the like.
func candidates(rng *rand.Rand, t, o *Template, n int, out map[string]bool) {
	fillers := []string{"", "x", "a", "b", "v", "w", ":v", "a:v", "x:w", "x:v:w", "a:b", "a:b:v"}
	verbs := []string{"v", "w", "b"}
	for _, tt := range []*Template{t, o} {
		if tt.Verb != "" {
			verbs = append(verbs, tt.Verb)
		}
	}
	for _, tt := range []*Template{t, o} {
		for _, s := range tt.Segments {
			if s.Kind == Literal {
				fillers = append(fillers, s.Literal)
				for _, v := range verbs {
					fillers = append(fillers, s.Literal+":"+v)
				}
			}
		}
	}
	for _, v := range verbs {
		fillers = append(fillers, "x:"+v, ":"+v)
	}
	// fill returns a component for a wildcard at component k: often what o
	// has there, counted from the start or from the end.
	fill := func(k int, fromEnd bool) string {
		if i := k; rng.IntN(2) == 0 {
			if fromEnd {
				i = len(o.Segments) - k
			}
			if i >= 0 && i < len(o.Segments) && o.Segments[i].Kind == Literal {
				return o.Segments[i].Literal
			}
		}
		return fillers[rng.IntN(len(fillers))]
	}
	for range n {
		var parts []string
		tail := false
		for i, s := range t.Segments {
			k := len(parts)
			if tail {
				k = len(t.Segments) - i
			}
			switch s.Kind {
			case Literal:
				parts = append(parts, s.Literal)
			case Star:
				parts = append(parts, fill(k, tail))
			case DeepStar:
				for range rng.IntN(4) {
					parts = append(parts, fill(len(parts), false))
				}
				tail = true
			}
		}
		if len(parts) == 0 {
			parts = []string{fill(0, false)}
		}
		if t.Verb != "" {
			parts[len(parts)-1] += ":" + t.Verb
		}
		out["/"+strings.Join(parts, "/")] = true
	}
}

// TestOverlapDifferential compares Overlap with real muxes: whenever a
// candidate path is matched by two patterns, each registered alone, Overlap
// must say true. It also reports how often Overlap says true without a
// witness among the candidates (a lower bound on its precision).
func TestOverlapDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	pairs := 1500
	if testing.Short() {
		pairs = 300
	}
	type tally struct{ pairs, witnessed, claimed, unwitnessed int }
	var counts [2]tally
	var unwitnessed [2][]string
	for done := 0; done < pairs; {
		sa, sb := randomTemplate(rng), randomTemplate(rng)
		a, errA := Parse(sa)
		b, errB := Parse(sb)
		if errA != nil || errB != nil {
			continue
		}
		done++
		paths := make(map[string]bool)
		candidates(rng, a, b, 150, paths)
		candidates(rng, b, a, 150, paths)
		for si, strict := range []bool{false, true} {
			ma, mb := oneMux(t, sa, strict), oneMux(t, sb, strict)
			witness := ""
			for p := range paths {
				if matches(ma, p) && matches(mb, p) {
					witness = p
					break
				}
			}
			got := Overlap(a, b)
			if strict {
				got = OverlapStrict(a, b)
			}
			c := &counts[si]
			c.pairs++
			if witness != "" {
				c.witnessed++
				if !got {
					t.Errorf("%q vs %q (strict %t): Overlap false, but both muxes match %q", sa, sb, strict, witness)
				}
			}
			if got {
				c.claimed++
				if witness == "" {
					c.unwitnessed++
					unwitnessed[si] = append(unwitnessed[si], sa+" vs "+sb)
				}
			}
		}
	}
	for si, c := range counts {
		t.Logf("strict=%t: %d pairs, %d with a witness, Overlap true for %d, of which %d without a witness found",
			si == 1, c.pairs, c.witnessed, c.claimed, c.unwitnessed)
		if n := len(unwitnessed[si]); n > 0 {
			t.Logf("  e.g. %q", unwitnessed[si][:min(n, 5)])
		}
	}
}

type amb struct {
	method string
	a, b   int
}

func ambiguities(tb *Table) []amb {
	var out []amb
	tb.Ambiguities(func(m string, a, b int) { out = append(out, amb{m, a, b}) })
	return out
}

func TestAmbiguities(t *testing.T) {
	routes := []struct{ method, tmpl string }{
		{"GET", "/v1/items/{id}"},        // 0
		{"GET", "/v1/items/{id}:cancel"}, // 1: overlaps 0
		{"POST", "/v1/items/{id}"},       // 2: other method
		{"GET", "/v1/other/{id}"},        // 3
		{"GET", "/v1/{name=**}"},         // 4: overlaps 0, 1, 3
		{"GET", "/v2/x"},                 // 5
		{"POST", "/v1/items/special"},    // 6: overlaps 2
		{"GET", "/v1/items/a:get"},       // 7: overlaps 0, 4
	}
	want := []amb{{"GET", 0, 1}, {"GET", 0, 4}, {"GET", 1, 4}, {"GET", 3, 4}, {"GET", 0, 7}, {"GET", 4, 7}, {"POST", 2, 6}}
	for _, strict := range []bool{false, true} {
		tb := &Table{StrictDeepWildcard: strict}
		for i, r := range routes {
			tb.Add(r.method, mustParse(t, r.tmpl), i)
		}
		if got := ambiguities(tb); !slices.Equal(got, want) {
			t.Errorf("strict %t, before Freeze: %v, want %v", strict, got, want)
		}
		tb.Freeze()
		if got := ambiguities(tb); !slices.Equal(got, want) {
			t.Errorf("strict %t, after Freeze: %v, want %v", strict, got, want)
		}
	}
}

// manyEndsTemplate returns templates that share all but their last segment
// often, so that one index node holds many ends.
func manyEndsTemplate(rng *rand.Rand) string {
	mids := []string{"a", "*", "{p=a/*}"}
	lasts := []string{"a", "b", "{x}", "a:b", "{x}:v", "{x}:w", "{x}:v:w", "{x}::w", "a:v", "a:b:v", "b:w", "v:w", "{x=**}:w"}
	return "/v1/" + mids[rng.IntN(len(mids))] + "/" + lasts[rng.IntN(len(lasts))]
}

// manyDeepsTemplate returns templates with a "**" before their last
// segments, so that one index node holds many deep patterns that differ
// in what follows it.
func manyDeepsTemplate(rng *rand.Rand) string {
	mids := []string{"**", "{p=**}", "a/**", "*/**"}
	tails := []string{"", "/a", "/b", "/{x}", "/t/{x}/y", "/t/{x}/z", "/a:v", "/{x}:v", "/{x}:w", ":v", ":v:w", "/b:w"}
	return "/v1/" + mids[rng.IntN(len(mids))] + tails[rng.IntN(len(tails))]
}

// TestAmbiguitiesComplete checks that neither way Ambiguities finds pairs
// (the table's trie, and the index) drops one: each must report exactly the
// pairs that comparing all with overlap finds.
func TestAmbiguitiesComplete(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	methods := []string{"GET", "POST"}
	sorted := func(pairs []ambiguity) []amb {
		slices.SortFunc(pairs, func(x, y ambiguity) int {
			return cmp.Or(cmp.Compare(x.method, y.method), cmp.Compare(x.b.prio, y.b.prio), cmp.Compare(x.a.prio, y.a.prio))
		})
		var out []amb
		for _, p := range pairs {
			a := amb{p.method, p.a.id, p.b.id}
			if len(out) == 0 || out[len(out)-1] != a {
				out = append(out, a)
			}
		}
		return out
	}
	indexUsed, fewUsed := 0, 0
	for round := range 60 {
		n := []int{10, 60, 300}[round%3]
		var tmpls []*Template
		var meth []string
		for len(tmpls) < n {
			var s string
			switch rng.IntN(5) {
			case 0, 3 - round%2*3: // every other round, mostly one shape
				s = manyEndsTemplate(rng)
			case 4:
				s = manyDeepsTemplate(rng)
			case 1:
				s = "/v1" + randomTemplate(rng)
			default:
				s = randomTemplate(rng)
			}
			tm, err := Parse(s)
			if err != nil {
				continue
			}
			tmpls = append(tmpls, tm)
			meth = append(meth, methods[rng.IntN(2)])
		}
		for _, strict := range []bool{false, true} {
			var all []ambiguity
			tb := &Table{StrictDeepWildcard: strict}
			for i, tm := range tmpls {
				tb.Add(meth[i], tm, 100+i)
			}
			tb.Freeze()
			var es []entry
			for _, m := range methods {
				es = es[:0]
				var collect func(*node)
				collect = func(n *node) {
					es = append(es, n.entries...)
					for _, c := range n.children {
						collect(c)
					}
				}
				if root := tb.methods[m]; root != nil {
					collect(root)
				}
				for j := range es {
					for i := range j {
						if overlap(es[i].t, es[j].t, strict) {
							e, f := es[i], es[j]
							if e.prio > f.prio {
								e, f = f, e
							}
							all = append(all, ambiguity{m, e, f})
						}
					}
				}
			}
			want := sorted(all)
			var indexed, few []ambiguity
			fewOK := true
			for m, root := range tb.methods {
				indexed = tb.indexedAmbiguities(m, root, nil, indexed)
				fewOK = tb.fewAmbiguities(m, root, nil, &few) && fewOK
			}
			if got := sorted(indexed); !slices.Equal(got, want) {
				t.Fatalf("round %d strict %t: index %v\nall pairs %v", round, strict, got, want)
			}
			if fewOK {
				fewUsed++
				if got := sorted(few); !slices.Equal(got, want) {
					t.Fatalf("round %d strict %t: trie %v\nall pairs %v", round, strict, got, want)
				}
			} else {
				indexUsed++
			}
			if got := ambiguities(tb); !slices.Equal(got, want) {
				t.Fatalf("round %d strict %t: Ambiguities %v\nall pairs %v", round, strict, got, want)
			}
		}
	}
	t.Logf("the trie sufficed %d times, the index was needed %d times", fewUsed, indexUsed)
}

// FuzzOverlap checks that Overlap is symmetric, never panics, and is true
// whenever both muxes match the fuzzed path.
func FuzzOverlap(f *testing.F) {
	f.Add("/v1/items/{id}", "/v1/items/{id}:cancel", "/v1/items/7:cancel")
	f.Add("/v1/{name=**}", "/v1/items/{id}", "/v1/items/x")
	f.Add("/**/a", "/a/**", "/a")
	f.Add("/", "/**", "/")
	f.Add("/{x=**}:b", "/{x=**}:a:b", "/q:a:b")
	f.Fuzz(func(t *testing.T, sa, sb, path string) {
		a, errA := Parse(sa)
		b, errB := Parse(sb)
		if errA != nil || errB != nil {
			return
		}
		for _, strict := range []bool{false, true} {
			ov := Overlap
			if strict {
				ov = OverlapStrict
			}
			got := ov(a, b)
			if got != ov(b, a) {
				t.Fatalf("%q vs %q (strict %t): not symmetric", sa, sb, strict)
			}
			if !got && strings.HasPrefix(path, "/") && matches(oneMux(t, sa, strict), path) && matches(oneMux(t, sb, strict), path) {
				t.Fatalf("%q vs %q (strict %t): Overlap false, but both muxes match %q", sa, sb, strict, path)
			}
		}
	})
}

func BenchmarkAmbiguities(b *testing.B) {
	shapes := []struct{ name, format string }{
		// Distinct leading literals: one pattern per trie branch.
		{"svc-method-id", "/v1/svc%d/method%d/{id}"},
		// AIP style: every pattern shares "/v1/projects/*/locations/*".
		{"aip", "/v1/{name=projects/*/locations/*/res%d/*/sub%d/*}"},
		// AIP List methods: one node, the collections differing last.
		{"aip-list", "/v1/{parent=projects/*/locations/*}/res%d_%d"},
		// Variables first: literals only after a wildcard.
		{"var-first", "/v1/{parent=*}/res%d/{id}:verb%d"},
	}
	for _, sh := range shapes {
		tb := &Table{}
		for i := range 10_000 {
			tb.Add("GET", mustParse(b, fmt.Sprintf(sh.format, i/100, i%100)), i)
		}
		tb.Freeze()
		b.Run(sh.name+"/n=10000", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				n := 0
				tb.Ambiguities(func(string, int, int) { n++ })
				if n != 0 {
					b.Fatalf("%d ambiguities", n)
				}
			}
		})
	}
}

func BenchmarkOverlap(b *testing.B) {
	x, y := mustParse(b, "/v1/{name=projects/*/things/**}:get"), mustParse(b, "/v1/projects/p/things/a/b/c:get")
	b.ReportAllocs()
	for b.Loop() {
		if !Overlap(x, y) {
			b.Fatal("no overlap")
		}
	}
}

// TestAmbiguitiesAmong checks that the pairs left out by owners are
// exactly those Owner settles: AmbiguitiesAmong reports what Ambiguities
// reports minus the known pairs, whatever shortcut it takes.
func TestAmbiguitiesAmong(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 4))
	for round := range 80 {
		tb := &Table{StrictDeepWildcard: round%2 == 1}
		owners := map[int]Owner{}
		n := []int{8, 40, 400}[round%3]
		groups, answers := 1+rng.IntN(4), 1+rng.IntN(3)
		for i := 0; i < n; {
			var s string
			switch rng.IntN(3) {
			case 0:
				s = manyEndsTemplate(rng)
			case 1:
				s = manyDeepsTemplate(rng)
			default:
				s = randomTemplate(rng)
			}
			tm, err := Parse(s)
			if err != nil {
				continue
			}
			tb.Add([]string{"GET", "POST"}[rng.IntN(2)], tm, i)
			owners[i] = Owner{Group: rng.IntN(groups + 1), Declared: rng.IntN(3) == 0, Answer: rng.IntN(answers)}
			i++
		}
		tb.Freeze()
		var want []amb
		for _, p := range ambiguities(tb) {
			if !known(owners[p.a], owners[p.b]) {
				want = append(want, p)
			}
		}
		var got []amb
		tb.AmbiguitiesAmong(func(id int) Owner { return owners[id] }, func(m string, a, b int) { got = append(got, amb{m, a, b}) })
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: AmbiguitiesAmong %v\nwant %v", round, got, want)
		}
	}
}

// BenchmarkAmbiguitiesOnePrefix measures the shapes of issue 20: many
// patterns under one prefix that all overlap ("/l0/**", one owner or
// known order), and many "**" patterns differing in their last segment.
func BenchmarkAmbiguitiesOnePrefix(b *testing.B) {
	const n = 4000
	for _, sh := range []struct {
		name   string
		tmpl   func(i int) string
		owner  func(i int) Owner
		report int
	}{
		{"l0-2-deep/one-group", func(i int) string { return fmt.Sprintf("/l%d/**", i%3) }, func(int) Owner { return Owner{Group: 1} }, 0},
		{"l0-2-deep/known-order", func(i int) string { return fmt.Sprintf("/l%d/**", i%3) }, func(int) Owner { return Owner{} }, 0},
		{"deep-tail/other-answers", func(i int) string { return fmt.Sprintf("/v1/**/t/{x}/y%d", i) }, func(i int) Owner { return Owner{Group: 1 + i, Answer: i} }, 0},
	} {
		tb := &Table{}
		for i := range n {
			tb.Add("GET", mustParse(b, sh.tmpl(i)), i)
		}
		tb.Freeze()
		b.Run(fmt.Sprintf("%s/n=%d", sh.name, n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				k := 0
				tb.AmbiguitiesAmong(sh.owner, func(string, int, int) { k++ })
				if k != sh.report {
					b.Fatalf("%d ambiguities, want %d", k, sh.report)
				}
			}
		})
	}
}
