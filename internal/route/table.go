package route

import (
	"net/http"
	"slices"
	"strings"
)

// Mode mirrors grpc-gateway's runtime.UnescapingMode; the values are equal.
type Mode uint8

const (
	// ModeLegacy matches on the unescaped URL path (runtime.UnescapingModeLegacy,
	// the mux's default).
	ModeLegacy Mode = iota
	// ModeAllExceptReserved matches on the raw path (runtime.UnescapingModeAllExceptReserved).
	ModeAllExceptReserved
	// ModeAllExceptSlash matches on the raw path (runtime.UnescapingModeAllExceptSlash).
	ModeAllExceptSlash
	// ModeAllCharacters matches on the raw path and also splits it at "%2F"
	// (runtime.UnescapingModeAllCharacters).
	ModeAllCharacters
)

// Path is a request path prepared for matching: split the way the mux
// splits it, without allocating. The split is counted only when a lookup
// has to walk the patterns: a path that the table's exact index holds is
// found by one hash of s.
type Path struct {
	s      string // the path without its leading '/'
	split3 bool   // "%2F" and "%2f" separate components too
	check  bool   // variables must hold well-formed percent-escapes
	ready  bool   // n and last are set
	n      int    // number of components
	last   string // the last component
}

// Reset prepares r's URL path as a ServeMux in mode would see it. It
// reports false when the mux would refuse the path outright (400: no
// leading '/').
func (p *Path) Reset(r *http.Request, mode Mode) bool {
	return p.reset(r.URL.Path, r.URL.RawPath, mode)
}

// PathOf is Reset for a URL's Path and RawPath.
func PathOf(path, rawPath string, mode Mode) (p Path, ok bool) {
	ok = p.reset(path, rawPath, mode)
	return p, ok
}

func (p *Path) reset(path, rawPath string, mode Mode) bool {
	*p = Path{}
	if len(path) == 0 || path[0] != '/' {
		return false
	}
	// Like the mux: the raw path only in the non-legacy modes, and only when
	// net/url kept one (otherwise Path was already unescaped once).
	if mode != ModeLegacy {
		if rawPath != "" {
			path = rawPath
		} else {
			mode = ModeLegacy
		}
	}
	p.s = path[1:]
	p.split3 = mode == ModeAllCharacters
	p.check = mode != ModeLegacy
	return true
}

// split counts p's components and finds the last one, once.
func (p *Path) split() {
	if p.ready {
		return
	}
	p.ready = true
	if !p.split3 {
		// One byte loop: request paths are short, and strings.Count and
		// LastIndexByte would each pay their vector setup.
		n, start := 1, 0
		for i := 0; i < len(p.s); i++ {
			if p.s[i] == '/' {
				n++
				start = i + 1
			}
		}
		p.n, p.last = n, p.s[start:]
		return
	}
	p.n = 1
	start := 0
	for i := 0; i < len(p.s); {
		if w := p.sep(i); w > 0 {
			p.n++
			i += w
			start = i
			continue
		}
		i++
	}
	p.last = p.s[start:]
}

// sep returns the length of the separator at s[i], 0 for none.
func (p *Path) sep(i int) int {
	switch c := p.s[i]; {
	case c == '/':
		return 1
	case c == '%' && p.split3 && i+2 < len(p.s) && p.s[i+1] == '2' && (p.s[i+2] == 'F' || p.s[i+2] == 'f'):
		return 3
	}
	return 0
}

// next returns the component of s that starts at off and the offset of the
// one after it.
func (p *Path) next(s string, off int) (string, int) {
	if off > len(s) {
		return "", off
	}
	if !p.split3 {
		// A byte loop: components are a few bytes long, shorter than
		// what strings.IndexByte's vector setup pays off for.
		for i := off; i < len(s); i++ {
			if s[i] == '/' {
				return s[off:i], i + 1
			}
		}
		return s[off:], len(s) + 1
	}
	for i := off; i < len(s); i++ {
		if w := p.sep(i); w > 0 {
			return s[off:i], i + w
		}
	}
	return s[off:], len(s) + 1
}

// Result says what matching a method and path found.
type Result uint8

const (
	// NotFound: no pattern of the method matches.
	NotFound Result = iota
	// Found: a pattern matches; the first one in precedence order is returned.
	Found
	// Malformed: before any pattern matched, one reached a variable holding a
	// malformed percent-escape; the mux answers 400 without running a handler.
	Malformed
)

// matchPath reports whether the template matches p.
func (t *Template) matchPath(p *Path, strict bool) Result {
	if v := t.Verb; v != "" {
		// The path's last component is a suffix of it: one that does not
		// end in ":verb" is refused before the path is split.
		if len(p.s) <= len(v)+1 || p.s[len(p.s)-len(v)-1] != ':' || p.s[len(p.s)-len(v):] != v {
			return NotFound
		}
	}
	if t.deep < 0 && !p.split3 {
		return t.matchFlat(p)
	}
	p.split()
	s := p.s
	if t.Verb != "" {
		// The last component must end in ":verb" with something before it.
		last, v := p.last, t.Verb
		if len(last) <= len(v)+1 || last[len(last)-len(v)-1] != ':' || last[len(last)-len(v):] != v {
			return NotFound
		}
		s = s[:len(s)-len(v)-1]
	}
	pos, off := 0, 0
	var comp string
	for _, seg := range t.Segments {
		if seg.Kind == DeepStar {
			end := p.n - t.tailLen
			if end < pos || strict && pos > 0 && pos == end {
				return NotFound
			}
			for ; pos < end; pos++ {
				comp, off = p.next(s, off)
				if p.check && malformed(comp) {
					return Malformed
				}
			}
			continue
		}
		if pos >= p.n {
			return NotFound
		}
		comp, off = p.next(s, off)
		pos++
		if seg.Kind == Literal {
			if comp != seg.Literal {
				return NotFound
			}
		} else if p.check && malformed(comp) {
			return Malformed
		}
	}
	if pos < p.n {
		return NotFound
	}
	return Found
}

// matchFlat is matchPath for a template without "**" and a path split at
// '/' only, whose verb (if any) the caller found at the end of p.s: the
// path need not be split first, since no segment needs the number of
// components, and the last component is what follows the last '/'.
func (t *Template) matchFlat(p *Path) Result {
	s := p.s
	if v := t.Verb; v != "" {
		// Something must precede ":verb" in the last component.
		s = s[:len(s)-len(v)-1]
		if s == "" || s[len(s)-1] == '/' {
			return NotFound
		}
	}
	off := 0
	var comp string
	for _, seg := range t.Segments {
		if off > len(s) {
			return NotFound // fewer components than segments
		}
		comp, off = p.next(s, off)
		if seg.Kind == Literal {
			if comp != seg.Literal {
				return NotFound
			}
		} else if p.check && malformed(comp) {
			return Malformed
		}
	}
	if off <= len(s) {
		return NotFound // more components than segments
	}
	return Found
}

// malformed reports whether s holds a '%' not followed by two hex digits.
func malformed(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return true
			}
			i += 2
		}
	}
	return false
}

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
