package route

import (
	"cmp"
	"slices"
)

// Overlap reports whether some request path is matched by both a and b on a
// runtime.ServeMux (without strict deep wildcard matching), so that the mux
// would run whichever was registered last.
//
// It is exact for ModeLegacy, ModeAllExceptReserved and ModeAllExceptSlash:
// true means a path exists that both match. It is conservative (true when
// no path exists) in two cases, never the other way round:
//   - ModeAllCharacters also splits at "%2F", so no component holds "%2F" or
//     "%2f" there: a literal or verb containing one matches nothing in that
//     mode, and overlaps reported for it do not happen.
//   - With runtime.WithStrictDeepWildcardMatching a "**" after the first
//     segment matches one component at least, which Overlap ignores; use
//     OverlapStrict to be exact there.
//
// Paths with malformed percent-escapes, which the mux answers with 400 in
// the non-legacy modes, are never needed as witnesses: a witness can fill
// every wildcard with plain letters.
func Overlap(a, b *Template) bool { return overlap(a, b, false) }

// OverlapStrict is Overlap for a mux with
// runtime.WithStrictDeepWildcardMatching, where a "**" that is not the
// first segment matches one component at least. It is exact in the same
// modes as Overlap.
func OverlapStrict(a, b *Template) bool { return overlap(a, b, true) }

// constraint is what one template requires of the last path component.
type constraint struct {
	kind cKind
	// exact: the component is lit, or lit+":"+verb when verb != "".
	// suffix: the component ends with ":"+verb (lit is "") and has something
	// before it.
	lit, verb string
}

type cKind uint8

const (
	cNone   cKind = iota // nothing: a verb after the root's empty literal
	cAny                 // any component, the empty one included
	cExact               // one component
	cSuffix              // ":"+verb with a non-empty stem
)

// lastOf is the constraint that segment seg, covering the last component,
// and the template's verb put on that component: the mux compares a
// verbless template's segments with the raw component, and strips ":verb"
// from it for a template with a verb, requiring a non-empty stem.
func lastOf(seg Segment, verb string) constraint {
	switch {
	case seg.Kind == Literal && verb == "":
		return constraint{kind: cExact, lit: seg.Literal}
	case seg.Kind == Literal && seg.Literal == "":
		return constraint{kind: cNone}
	case seg.Kind == Literal:
		return constraint{kind: cExact, lit: seg.Literal, verb: verb}
	case verb == "":
		return constraint{kind: cAny}
	}
	return constraint{kind: cSuffix, verb: verb}
}

// size and at read the string a constraint names (the component for
// cExact, the required suffix ":"+verb for cSuffix) without building it.
func (c *constraint) size() int {
	if c.kind == cExact && c.verb == "" {
		return len(c.lit)
	}
	return len(c.lit) + 1 + len(c.verb)
}

func (c *constraint) at(k int) byte {
	switch {
	case k < len(c.lit):
		return c.lit[k]
	case k == len(c.lit):
		return ':'
	}
	return c.verb[k-len(c.lit)-1]
}

// endsWith reports whether x's string ends with s's string.
func endsWith(x, s *constraint) bool {
	nx, ns := x.size(), s.size()
	if ns > nx {
		return false
	}
	for k := 1; k <= ns; k++ {
		if x.at(nx-k) != s.at(ns-k) {
			return false
		}
	}
	return true
}

// both reports whether some component satisfies x and y.
func both(x, y constraint) bool {
	if x.kind > y.kind {
		x, y = y, x
	}
	switch {
	case x.kind == cNone:
		return false
	case x.kind == cAny:
		return true // "a:"+verb satisfies a cSuffix
	case y.kind == cExact: // and x too
		return x.size() == y.size() && endsWith(&x, &y)
	case x.kind == cExact: // y is cSuffix
		return x.size() > y.size() && endsWith(&x, &y)
	}
	// Two suffixes: "a" + the longer satisfies both when one ends with the
	// other, and nothing does otherwise.
	return endsWith(&x, &y) || endsWith(&y, &x)
}

// side is a template as the automaton reads it. With strict deep wildcard
// matching a "**" that is not the first segment must match a component,
// so it reads as "*" followed by "**".
type side struct {
	t     *Template
	split bool // the DeepStar at t.deep is read as Star, DeepStar
	m     int  // number of segments read
}

func sideOf(t *Template, strict bool) side {
	s := side{t: t, split: strict && t.deep > 0, m: len(t.Segments)}
	if s.split {
		s.m++
	}
	return s
}

func (s *side) seg(k int) Segment {
	if s.split && k >= s.t.deep {
		if k == s.t.deep {
			return Segment{Kind: Star}
		}
		k--
	}
	return s.t.Segments[k]
}

// skips reports whether the automaton can move from k to k+1 without
// consuming a component: segment k is "**".
func (s *side) skips(k int) bool { return k < s.m && s.seg(k).Kind == DeepStar }

// step returns where consuming a component at segment k leads.
func (s *side) step(k int) int {
	if s.seg(k).Kind == DeepStar {
		return k
	}
	return k + 1
}

// ends reports whether k is, or skips to, the end of the template.
func (s *side) ends(k int) bool { return k == s.m || k+1 == s.m && s.skips(k) }

// counts returns the fewest and most components the template matches;
// most is -1 for no bound.
func (s *side) counts() (fewest, most int) {
	fewest = s.t.min
	if s.split {
		fewest++
	}
	if s.t.deep >= 0 {
		return max(fewest, 1), -1
	}
	return max(fewest, 1), fewest
}

// overlap decides Overlap on a mux with or without strict deep wildcard
// matching. A request path is a sequence of one or more components; it runs
// a product automaton whose states are pairs of positions in the two
// templates' segments: "**" loops on any component and can be skipped, a
// literal consumes one equal component, and the last component is checked
// against both templates' constraints for it (segment and verb together).
func overlap(a, b *Template, strict bool) bool {
	sa, sb := sideOf(a, strict), sideOf(b, strict)
	fa, ma := sa.counts()
	fb, mb := sb.counts()
	if ma >= 0 && ma < fb || mb >= 0 && mb < fa {
		return false
	}
	if a.deep < 0 && b.deep < 0 {
		// Same number of components, one segment each.
		n := len(a.Segments)
		for k := 0; k < n-1; k++ {
			x, y := a.Segments[k], b.Segments[k]
			if x.Kind == Literal && y.Kind == Literal && x.Literal != y.Literal {
				return false
			}
		}
		return both(lastOf(a.Segments[n-1], a.Verb), lastOf(b.Segments[n-1], b.Verb))
	}

	// Every move goes from (i, j) to a pair not smaller in either position,
	// so one pass in order visits each reachable state after all the states
	// that reach it.
	w := sb.m + 1
	nbits := (sa.m + 1) * w
	var buf [64]uint64
	var reach []uint64
	if words := (nbits + 63) / 64; words <= len(buf) {
		reach = buf[:words]
	} else {
		reach = make([]uint64, words)
	}
	set := func(i, j int) { k := i*w + j; reach[k/64] |= 1 << (k % 64) }
	set(0, 0)
	for i := 0; i <= sa.m; i++ {
		for j := 0; j <= sb.m; j++ {
			if k := i*w + j; reach[k/64]&(1<<(k%64)) == 0 {
				continue
			}
			if sa.skips(i) {
				set(i+1, j)
			}
			if sb.skips(j) {
				set(i, j+1)
			}
			if i == sa.m || j == sb.m {
				continue
			}
			x, y := sa.seg(i), sb.seg(j)
			ni, nj := sa.step(i), sb.step(j)
			// Consume the last component and stop?
			if sa.ends(ni) && sb.ends(nj) && both(lastOf(x, a.Verb), lastOf(y, b.Verb)) {
				return true
			}
			// Consume a component that is not the last: compared raw.
			if x.Kind != Literal || y.Kind != Literal || x.Literal == y.Literal {
				set(ni, nj)
			}
		}
	}
	return false
}

// Ambiguities calls fn for every two patterns of one method that some
// request path matches both of (see Overlap), with their ids as given to
// Add; a was added before b, so b is the one the mux runs for such a path.
// Calls come in order of method, then of b's and a's registration. It
// honours StrictDeepWildcard exactly and, like Overlap, does not know the
// paths' Mode: under ModeAllCharacters it may report patterns with "%2F"
// in a literal or verb that cannot match there.
//
// It reads the table without changing it, so call it before or after
// Freeze (after Freeze, alongside Lookup too).
func (tb *Table) Ambiguities(fn func(method string, a, b int)) { tb.AmbiguitiesAmong(nil, fn) }

// Owner says what the caller knows of a pattern's registration, so that
// [Table.AmbiguitiesAmong] can leave out, before deciding them, the pairs
// whose order or answer does not matter.
type Owner struct {
	// Group: patterns of one group are registered in an order the caller
	// knows (one service's generated Register function). 0 is a pattern
	// whose order against every other is known (registered last).
	Group int
	// Declared: the order of two groups that are both declared is known.
	Declared bool
	// Answer: two patterns with the same answer give the same result
	// whichever the mux runs.
	Answer int
}

// known reports whether the order of two patterns does not matter.
func known(x, y Owner) bool {
	return x.Group == 0 || y.Group == 0 || x.Group == y.Group || x.Declared && y.Declared || x.Answer == y.Answer
}

// AmbiguitiesAmong is Ambiguities for the pairs whose order matters:
// owner (nil for none) tells, by id, what is known of each pattern, and a
// pair that [Owner] settles is neither decided nor reported. A method
// whose patterns all share a group, an answer, or a known order costs
// one pass over its patterns, however many of them overlap.
func (tb *Table) AmbiguitiesAmong(owner func(id int) Owner, fn func(method string, a, b int)) {
	var pairs []ambiguity
	for m, root := range tb.methods {
		var pf *pairFilter
		if owner != nil {
			pf = &pairFilter{own: make(map[int]Owner)}
			if root = pf.live(root, owner); root == nil {
				continue
			}
		}
		if tb.fewAmbiguities(m, root, pf, &pairs) {
			continue
		}
		pairs = tb.indexedAmbiguities(m, root, pf, pairs)
	}
	slices.SortFunc(pairs, func(x, y ambiguity) int {
		return cmp.Or(cmp.Compare(x.method, y.method), cmp.Compare(x.b.prio, y.b.prio), cmp.Compare(x.a.prio, y.a.prio))
	})
	for i, p := range pairs {
		if i > 0 && p.method == pairs[i-1].method && p.a.prio == pairs[i-1].a.prio && p.b.prio == pairs[i-1].b.prio {
			continue
		}
		fn(p.method, p.a.id, p.b.id)
	}
}

// pairFilter leaves out the pairs of patterns whose order is known; a nil
// *pairFilter leaves out none.
type pairFilter struct {
	own map[int]Owner // by prio
}

// skip reports whether the pair e, f is settled by its owners.
func (pf *pairFilter) skip(e, f entry) bool {
	return pf != nil && known(pf.own[e.prio], pf.own[f.prio])
}

// live returns a copy of one method's trie holding only the patterns that
// can be in a pair whose order matters, nil when there is no such pair:
// patterns of group 0 are dropped, and a method whose other patterns share
// one group or one answer, or all have a declared order, has none.
func (pf *pairFilter) live(root *node, owner func(id int) Owner) *node {
	var first Owner
	n, groups, answers, declared := 0, false, false, true
	var keep func(*node) *node
	keep = func(x *node) *node {
		c := &node{}
		for _, e := range x.entries {
			o := owner(e.id)
			if o.Group == 0 {
				continue
			}
			if n == 0 {
				first = o
			}
			n++
			groups = groups || o.Group != first.Group
			answers = answers || o.Answer != first.Answer
			declared = declared && o.Declared
			pf.own[e.prio] = o
			c.entries = append(c.entries, e)
		}
		for k, ch := range x.children {
			if kc := keep(ch); kc != nil {
				if c.children == nil {
					c.children = make(map[string]*node)
				}
				c.children[k] = kc
			}
		}
		if len(c.entries) == 0 && c.children == nil {
			return nil
		}
		return c
	}
	live := keep(root)
	if !groups || !answers || declared {
		return nil
	}
	return live
}

// fewAmbiguities compares, in the table's own trie, each pattern with the
// patterns at its node and its ancestors: patterns on different branches
// differ in a leading literal, which no path can match for both (Add keeps
// a verb's last component out of the trie). It gives up, dropping what it
// found, once that takes more than a few comparisons per pattern, as when
// most patterns share one node ("/v1/{name=projects/*/...}"); the index
// then looks deeper.
func (tb *Table) fewAmbiguities(method string, root *node, pf *pairFilter, pairs *[]ambiguity) bool {
	budget := 16*tb.n + 1024
	start := len(*pairs)
	var anc [][]entry
	check := func(e, f entry) {
		if !pf.skip(e, f) && overlap(e.t, f.t, tb.StrictDeepWildcard) {
			if e.prio > f.prio {
				e, f = f, e
			}
			*pairs = append(*pairs, ambiguity{method, e, f})
		}
	}
	var walk func(n *node) bool
	walk = func(n *node) bool {
		if k := len(n.entries); k > 0 {
			cost := k * (k - 1) / 2
			for _, list := range anc {
				cost += k * len(list)
			}
			if budget -= cost; budget < 0 {
				return false
			}
			for x, e := range n.entries {
				for _, list := range anc {
					for _, f := range list {
						check(e, f)
					}
				}
				for _, f := range n.entries[x+1:] {
					check(e, f)
				}
			}
			anc = append(anc, n.entries)
		}
		for _, c := range n.children {
			if !walk(c) {
				return false
			}
		}
		if len(n.entries) > 0 {
			anc = anc[:len(anc)-1]
		}
		return true
	}
	if !walk(root) {
		*pairs = (*pairs)[:start]
		return false
	}
	return true
}

// indexedAmbiguities appends the overlapping pairs of one method's
// patterns, found with an index.
func (tb *Table) indexedAmbiguities(method string, root *node, pf *pairFilter, pairs []ambiguity) []ambiguity {
	ix := &index{method: method, strict: tb.StrictDeepWildcard, root: &anode{}, pairs: pairs, pf: pf}
	var add func(n *node)
	add = func(n *node) {
		for _, e := range n.entries {
			ix.add(e)
		}
		for _, c := range n.children {
			add(c)
		}
	}
	add(root)
	ix.pair(ix.root, ix.root)
	return ix.pairs
}

type ambiguity struct {
	method string
	a, b   entry // a.prio < b.prio
}

// index finds one method's overlapping patterns without comparing them all.
// Its trie is keyed by every segment up to the "**" or the last segment
// (literals by value, "*" as a wildcard edge), and only keys that stand for
// a component that cannot be the path's last one, so that the mux compares
// it raw. Two patterns overlap only if their keys agree at each depth both
// have (equal literals, or a "*"), so a walk over pairs of trie nodes
// reached by agreeing keys finds every candidate pair:
//   - patterns without "**" ("ends") have one length: they can overlap only
//     with an end at the partner node;
//   - a pattern with "**" ("deep") at node x can overlap with anything below
//     the partner node y, and with an end one level above.
//
// Each candidate is then decided exactly by overlap.
type index struct {
	method string
	strict bool
	root   *anode
	pairs  []ambiguity
	pf     *pairFilter
}

type anode struct {
	lits        map[string]*anode
	star        *anode
	ends, deeps []entry
	byLast      *buckets // ends by last constraint, when there are many
	deepByLast  *buckets // deeps by last constraint, when there are many
}

// buckets groups patterns by what they require of the last component.
type buckets struct {
	any    []entry            // cAny
	exact  map[string][]entry // cExact, by the component
	suffix map[string][]entry // cSuffix, by the verb
}

// lastConstraint is what t requires of a path's last component: exact for
// a template without "**", and for one whose "**" is followed by segments
// (the last of them meets the last component); nothing (cAny) for a "**"
// that can reach the last component. It is a necessary condition, so
// patterns whose constraints no component satisfies do not overlap.
func lastConstraint(t *Template) constraint {
	if t.deep >= 0 && t.tailLen == 0 {
		return constraint{kind: cAny}
	}
	return lastOf(t.Segments[len(t.Segments)-1], t.Verb)
}

// bucketsOf groups es by lastConstraint.
func bucketsOf(es []entry) *buckets {
	b := &buckets{exact: make(map[string][]entry), suffix: make(map[string][]entry)}
	for _, e := range es {
		switch c := lastConstraint(e.t); c.kind {
		case cAny:
			b.any = append(b.any, e)
		case cExact:
			k := c.lit
			if c.verb != "" {
				k += ":" + c.verb
			}
			b.exact[k] = append(b.exact[k], e)
		case cSuffix:
			b.suffix[c.verb] = append(b.suffix[c.verb], e)
		}
	}
	return b
}

func (n *anode) buckets() *buckets {
	if n.byLast == nil {
		n.byLast = bucketsOf(n.ends)
	}
	return n.byLast
}

func (n *anode) deepBuckets() *buckets {
	if n.deepByLast == nil {
		n.deepByLast = bucketsOf(n.deeps)
	}
	return n.deepByLast
}

// join calls fn for the pairs of xs and ys (grouped in bx and by) whose
// last constraints some component can satisfy together: anything with a
// cAny, equal components, a component with a verb it ends with (after a
// ':' past its start), and verbs one of which ends the other after a ':'.
// When xs and ys are one list, a pair may come twice, and (e, e) too.
func join(xs, ys []entry, bx, by *buckets, fn func(e, f entry)) {
	all := func(es, fs []entry) {
		for _, e := range es {
			for _, f := range fs {
				fn(e, f)
			}
		}
	}
	all(bx.any, ys)
	for _, f := range by.any {
		for _, e := range xs {
			if lastConstraint(e.t).kind != cAny {
				fn(e, f)
			}
		}
	}
	for k, es := range bx.exact {
		all(es, by.exact[k])
	}
	// colonTails calls f with what follows each ':' of s at from or later.
	colonTails := func(s string, from int, f func(string)) {
		for i := from; i < len(s); i++ {
			if s[i] == ':' {
				f(s[i+1:])
			}
		}
	}
	for k, es := range bx.exact {
		colonTails(k, 1, func(v string) { all(es, by.suffix[v]) })
	}
	for k, fs := range by.exact {
		colonTails(k, 1, func(v string) { all(bx.suffix[v], fs) })
	}
	for v, es := range bx.suffix {
		all(es, by.suffix[v])
		colonTails(v, 0, func(w string) { all(es, by.suffix[w]) })
	}
	for w, fs := range by.suffix {
		colonTails(w, 0, func(v string) { all(bx.suffix[v], fs) })
	}
}

// checkAll compares every pattern of xs with every one of ys that its last
// constraint lets it overlap, deciding each candidate with overlap: in
// turn for few pairs, through buckets for many, so that many patterns
// differing only in their last component ("/v1/**/t/{x}/y7") cost about
// one comparison each. bx and by, when not nil, are the lists' buckets.
func (ix *index) checkAll(xs, ys []entry, bx, by func() *buckets) {
	if len(xs)*len(ys) <= manyEnds {
		for _, e := range xs {
			for _, f := range ys {
				ix.check(e, f)
			}
		}
		return
	}
	var x, y *buckets
	if bx != nil {
		x = bx()
	} else {
		x = bucketsOf(xs)
	}
	if by != nil {
		y = by()
	} else {
		y = bucketsOf(ys)
	}
	join(xs, ys, x, y, ix.check)
}

// below lists the patterns at n and under it, the deep ones at n itself
// only when top is set: what ix.all compares a deep pattern with.
func below(n *anode, top bool, out []entry) []entry {
	out = append(out, n.ends...)
	if top {
		out = append(out, n.deeps...)
	}
	for _, c := range n.lits {
		out = below(c, true, out)
	}
	if n.star != nil {
		out = below(n.star, true, out)
	}
	return out
}

func (ix *index) add(e entry) {
	t := e.t
	keys := len(t.Segments) - 1 // all but the last
	if t.deep >= 0 {
		keys = t.deep
		if t.Verb != "" && t.tailLen == 0 {
			// "**" may match nothing, so the segment before it may
			// meet the last component, verb and all.
			keys = max(0, keys-1)
		}
	}
	n := ix.root
	for _, s := range t.Segments[:keys] {
		if s.Kind == Star {
			if n.star == nil {
				n.star = &anode{}
			}
			n = n.star
			continue
		}
		n = child(&n.lits, s.Literal)
	}
	if t.deep >= 0 {
		n.deeps = append(n.deeps, e)
	} else {
		n.ends = append(n.ends, e)
	}
}

func (ix *index) check(e, f entry) {
	if e.prio != f.prio && !ix.pf.skip(e, f) && overlap(e.t, f.t, ix.strict) {
		ix.found(e, f)
	}
}

// manyEnds is how many pairs of ends are compared in turn rather than
// looked up by their last constraint.
const manyEnds = 256

// pairEnds compares the ends at x with those at y (x and y reached by
// agreeing keys, or the same node). With many, it pairs only ends whose
// last constraints can agree: anything with a cAny, equal components,
// a component with a verb it ends with (after a ':' past its start), and
// verbs one of which ends the other after a ':'.
func (ix *index) pairEnds(x, y *anode) {
	if x == y && len(x.ends)*len(x.ends) <= 2*manyEnds {
		for i, e := range x.ends {
			for _, f := range x.ends[i+1:] {
				ix.checkEnds(e, f)
			}
		}
		return
	}
	if x != y && len(x.ends)*len(y.ends) <= manyEnds {
		for _, e := range x.ends {
			for _, f := range y.ends {
				ix.checkEnds(e, f)
			}
		}
		return
	}
	// Each pair below may come twice when x == y; Ambiguities drops repeats.
	join(x.ends, y.ends, x.buckets(), y.buckets(), ix.checkEnds)
}

// checkEnds compares two ends at nodes reached by agreeing keys: they have
// one length and agree on all but the last component, so only that one
// is left to decide.
func (ix *index) checkEnds(e, f entry) {
	x, y := e.t, f.t
	if e.prio != f.prio && !ix.pf.skip(e, f) && both(lastOf(x.Segments[len(x.Segments)-1], x.Verb), lastOf(y.Segments[len(y.Segments)-1], y.Verb)) {
		ix.found(e, f)
	}
}

func (ix *index) found(e, f entry) {
	if e.prio == f.prio {
		return
	}
	if e.prio > f.prio {
		e, f = f, e
	}
	ix.pairs = append(ix.pairs, ambiguity{ix.method, e, f})
}

// endsVsChildDeeps compares the ends at x with the deep patterns one level
// below y.
func (ix *index) endsVsChildDeeps(x, y *anode) {
	if len(x.ends) == 0 {
		return
	}
	kid := func(c *anode) {
		if len(c.deeps) > 0 {
			ix.checkAll(x.ends, c.deeps, x.buckets, c.deepBuckets)
		}
	}
	for _, c := range y.lits {
		kid(c)
	}
	if y.star != nil {
		kid(y.star)
	}
}

// pair visits two nodes at one depth reached by agreeing keys; each
// unordered pair is visited once.
func (ix *index) pair(x, y *anode) {
	if x == y {
		ix.pairEnds(x, x)
		if len(x.deeps) > 0 {
			ix.checkAll(x.deeps, x.deeps, x.deepBuckets, x.deepBuckets)
			ix.checkAll(x.deeps, x.ends, x.deepBuckets, x.buckets)
			var under []entry
			for _, c := range x.lits {
				under = below(c, true, under)
			}
			if x.star != nil {
				under = below(x.star, true, under)
			}
			ix.checkAll(x.deeps, under, x.deepBuckets, nil)
		}
		ix.endsVsChildDeeps(x, x)
		for _, c := range x.lits {
			ix.pair(c, c)
			if x.star != nil {
				ix.pair(c, x.star)
			}
		}
		if x.star != nil {
			ix.pair(x.star, x.star)
		}
		return
	}
	ix.pairEnds(x, y)
	if len(x.deeps) > 0 {
		ix.checkAll(x.deeps, below(y, true, nil), x.deepBuckets, nil)
	}
	if len(y.deeps) > 0 {
		ix.checkAll(y.deeps, below(x, false, nil), y.deepBuckets, nil)
	}
	ix.endsVsChildDeeps(x, y)
	ix.endsVsChildDeeps(y, x)
	small, large := x, y
	if len(x.lits) > len(y.lits) {
		small, large = y, x
	}
	for k, c := range small.lits {
		if d := large.lits[k]; d != nil {
			ix.pair(c, d)
		}
	}
	if y.star != nil {
		for _, c := range x.lits {
			ix.pair(c, y.star)
		}
	}
	if x.star != nil {
		for _, c := range y.lits {
			ix.pair(x.star, c)
		}
		if y.star != nil {
			ix.pair(x.star, y.star)
		}
	}
}
