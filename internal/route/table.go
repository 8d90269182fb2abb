package route

import (
	"slices"
	"strings"
)

// maxDepth bounds how many leading segments index a pattern, in the
// per-method tries and in the search trie.
const maxDepth = 8

// Table holds patterns per HTTP method and finds the one the mux would run.
// Build it with Add, then call Freeze; lookups are safe for concurrent use
// and allocate nothing.
type Table struct {
	// StrictDeepWildcard mirrors runtime.WithStrictDeepWildcardMatching.
	StrictDeepWildcard bool
	// Rank, if set before Freeze, orders Methods (ties by name); by name
	// otherwise.
	Rank func(method string) int

	methods map[string]*node
	n       int
	// Freeze:
	order []string // the methods, in Methods order
	roots []*node  // their roots, in the same order
	// exact maps every path that some pattern without wildcards matches
	// exactly (without its leading '/') to what each method (Methods
	// order) runs there: a pattern id, or -1 for none. Freeze walks the
	// patterns for these paths once, so one hash answers a lookup there
	// for every method at once.
	exact map[string][]int
	// exactLens has bit l%64 set for every length l of a key of exact: a
	// path of another length (most templated paths) skips the hash.
	exactLens uint64
	// search answers lookups of other paths, for every method at once
	// (search.go); all is every pattern by precedence, its fallback.
	search *snode
	all    snode    // every pattern, in its entries only
	flat   []sentry // every node's entries, all's last (snode.lo, hi)
}

type entry struct {
	t    *Template
	prio int // registration order; higher is tried first
	id   int
}

// node indexes one method's patterns by their leading literal segments: a
// pattern lives at the node of its first few literals. Ambiguities walks
// it (patterns on different branches cannot overlap); lookups use the
// search trie (search.go), which also follows wildcards.
type node struct {
	children map[string]*node
	entries  []entry
}

// child returns the node under key in *m, making it (and the map) when
// missing: how each of the package's tries grows.
func child[N any](m *map[string]*N, key string) *N {
	c := (*m)[key]
	if c == nil {
		if *m == nil {
			*m = make(map[string]*N)
		}
		c = new(N)
		(*m)[key] = c
	}
	return c
}

// Add registers t for method with the caller's id. Like ServeMux.Handle,
// a later Add takes precedence over earlier ones when both match.
func (tb *Table) Add(method string, t *Template, id int) {
	if tb.methods == nil {
		tb.methods = make(map[string]*node)
	}
	n := tb.methods[method]
	if n == nil {
		n = &node{}
		tb.methods[method] = n
	}
	depth := 0
	for depth < len(t.Segments) && depth < maxDepth && t.Segments[depth].Kind == Literal {
		depth++
	}
	if t.Verb != "" {
		// A literal matched against the last component would see it with
		// its verb: index only literals that can never be last.
		depth = max(0, min(depth, t.min-1))
	}
	for _, seg := range t.Segments[:depth] {
		n = child(&n.children, seg.Literal)
	}
	n.entries = append(n.entries, entry{t: t, prio: tb.n, id: id})
	tb.n++
}

// Freeze orders every node's patterns by precedence and builds the exact
// index. Call it once after the last Add.
func (tb *Table) Freeze() {
	var walk func(*node)
	walk = func(n *node) {
		slices.SortFunc(n.entries, func(a, b entry) int { return b.prio - a.prio })
		for _, c := range n.children {
			walk(c)
		}
	}
	for _, n := range tb.methods {
		walk(n)
	}
	tb.order = make([]string, 0, len(tb.methods))
	for m := range tb.methods {
		tb.order = append(tb.order, m)
	}
	slices.SortFunc(tb.order, func(a, b string) int {
		if tb.Rank != nil {
			if d := tb.Rank(a) - tb.Rank(b); d != 0 {
				return d
			}
		}
		return strings.Compare(a, b)
	})
	tb.roots = make([]*node, len(tb.order))
	for i, m := range tb.order {
		tb.roots[i] = tb.methods[m]
	}
	tb.buildSearch()
	tb.indexLiterals()
}

// indexLiterals fills the exact index: for the one path of every pattern
// without wildcards, what each method runs there, found once by findAll.
// Such a path holds no '%' (literalKey), so neither the unescaping
// mode nor percent-escape checks change the answer.
func (tb *Table) indexLiterals() {
	keys := make(map[string]bool)
	for _, root := range tb.roots {
		var walk func(*node)
		walk = func(n *node) {
			for _, e := range n.entries {
				if key, ok := literalKey(e.t); ok {
					keys[key] = true
				}
			}
			for _, c := range n.children {
				walk(c)
			}
		}
		walk(root)
	}
	if len(keys) == 0 {
		return
	}
	tb.exact = make(map[string][]int, len(keys))
	ids := make([]int, len(keys)*len(tb.roots))
	for key := range keys {
		at := ids[:len(tb.roots):len(tb.roots)]
		ids = ids[len(tb.roots):]
		p := Path{s: key}
		tb.findAll(&p, at)
		tb.exact[key] = at
		tb.exactLens |= 1 << (len(key) % 64)
	}
}

// literalKey returns the one path (without its leading '/') a pattern
// without wildcards matches, and false for other patterns or for literals
// with '%', whose matching depends on the unescaping mode.
func literalKey(t *Template) (string, bool) {
	var b strings.Builder
	for i, seg := range t.Segments {
		if seg.Kind != Literal || strings.IndexByte(seg.Literal, '%') >= 0 {
			return "", false
		}
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(seg.Literal)
	}
	if t.Verb != "" {
		if strings.IndexByte(t.Verb, '%') >= 0 {
			return "", false
		}
		b.WriteByte(':')
		b.WriteString(t.Verb)
	}
	return b.String(), true
}

// Methods returns the methods that have patterns, in the order of Rank
// (then by name). LookupAll reports in this order.
func (tb *Table) Methods() []string {
	return slices.Clone(tb.order)
}

// methodIndex returns method's position in Methods, -1 for none.
func (tb *Table) methodIndex(method string) int {
	for i, m := range tb.order {
		if m == method {
			return i
		}
	}
	return -1
}

// Lookup finds the pattern the mux would run for method and p: of the
// method's matching patterns, the last added. It stops at Malformed as the
// mux does.
func (tb *Table) Lookup(method string, p *Path) (id int, res Result) {
	i := tb.methodIndex(method)
	if i < 0 {
		return -1, NotFound
	}
	if at, ok := tb.exactAt(p); ok {
		if at[i] < 0 {
			return -1, NotFound
		}
		return at[i], Found
	}
	return tb.findOne(p, i)
}

// exactAt returns what every method runs at p when the exact index holds
// it.
func (tb *Table) exactAt(p *Path) ([]int, bool) {
	if tb.exactLens&(1<<(len(p.s)%64)) == 0 {
		return nil, false
	}
	at, ok := tb.exact[p.s]
	return at, ok
}

// LookupAll is Lookup for every method at once: element i of the result
// is the id of the pattern the mux would run for Methods()[i] at p, or -1
// when it would run none (NotFound or Malformed). buf must have room for
// every method; the result is buf. A path in the exact index costs one
// hash for every method, the others one walk of the search trie.
func (tb *Table) LookupAll(p *Path, buf []int) []int {
	ids := buf[:len(tb.roots)]
	if at, ok := tb.exactAt(p); ok {
		copy(ids, at)
		return ids
	}
	tb.findAll(p, ids)
	return ids
}
