package route

import "slices"

// The search trie answers Lookup and LookupAll for paths that the exact
// index does not hold. The per-method tries that Add builds index a
// pattern by its leading literals only, so every pattern that starts
// "/v1/{name=projects/*/...}" sat at one node and a lookup tried them one
// by one, like the mux itself: at 1,000 such routes, a thousand template
// matches per method. The search trie is keyed by every segment a path
// component can be compared with directly (literals by value, "*" as a
// wildcard edge), for all methods at once, so a lookup follows the path
// down the branches that can still match, collects the few patterns at
// the nodes it reaches, and runs the template match (matchPath, which
// stays the judge) only on those, in precedence order, for one method or
// for every method in one walk.

// snode is a node of the search trie.
type snode struct {
	lits    map[string]*snode
	few     []skid // lits as a list when there are few
	star    *snode
	entries []sentry // patterns whose keys end here, highest precedence first, until Freeze moves them to Table.flat
	// lo and hi place entries in Table.flat, where a search reads them:
	// a search records ranges, which hold no pointers, so recording them
	// costs no write barrier while the collector runs.
	lo, hi int32
}

// fewKids is how many literal children are compared in turn rather than
// hashed: comparing short strings of different lengths costs a length
// check.
const fewKids = 8

type skid struct {
	key string
	n   *snode
}

// sentry is a pattern in the search trie, with its method's index in
// Methods order.
type sentry struct {
	entry
	m int
	// keyed: the trie keys every segment of the pattern (no "**", at
	// most maxDepth segments), so a path whose walk reaches the pattern's
	// node with no component left matches it: every component was
	// compared on the way, a literal by value, a variable by the "*" edge.
	// Only the verb (see match) and a percent-escape check (Path.check)
	// are left.
	keyed bool
}

// maxLists bounds how many trie nodes one search collects patterns from
// without allocating; past it, the search falls back to every pattern.
const maxLists = 16

// searchKeys returns how many leading segments of t key it in the search
// trie: up to "**" (which matches any number of components) and at most
// maxDepth; for a pattern with a verb, never a literal that can meet the
// path's last component, which carries the verb. A variable can: the "*"
// edge takes any component, "t1:cancel" included, so the commonest custom
// method, "/v1/{name=things/*}:cancel", is keyed whole.
func searchKeys(t *Template) int {
	k := len(t.Segments)
	if t.deep >= 0 {
		k = t.deep
	}
	if t.Verb != "" && (t.deep >= 0 || t.Segments[len(t.Segments)-1].Kind != Star) {
		k = min(k, t.min-1)
	}
	return max(0, min(k, maxDepth))
}

// buildSearch fills the search trie from the per-method tries.
func (tb *Table) buildSearch() {
	tb.search = &snode{}
	tb.all = snode{}
	tb.flat = tb.flat[:0]
	for m, root := range tb.roots {
		var walk func(*node)
		walk = func(n *node) {
			for _, e := range n.entries {
				tb.insert(sentry{entry: e, m: m})
			}
			for _, c := range n.children {
				walk(c)
			}
		}
		walk(root)
	}
	byPrio := func(a, b sentry) int { return b.prio - a.prio }
	place := func(n *snode) {
		n.lo = int32(len(tb.flat))
		tb.flat = append(tb.flat, n.entries...)
		n.hi = int32(len(tb.flat))
		n.entries = nil // read from flat from now on
	}
	var freeze func(*snode)
	freeze = func(n *snode) {
		slices.SortFunc(n.entries, byPrio)
		place(n)
		if len(n.lits) > 0 && len(n.lits) <= fewKids {
			for k, c := range n.lits {
				n.few = append(n.few, skid{k, c})
			}
		}
		for _, c := range n.lits {
			freeze(c)
		}
		if n.star != nil {
			freeze(n.star)
		}
	}
	freeze(tb.search)
	slices.SortFunc(tb.all.entries, byPrio)
	place(&tb.all)
}

func (tb *Table) insert(e sentry) {
	keys := searchKeys(e.t)
	e.keyed = e.t.deep < 0 && keys == len(e.t.Segments)
	tb.all.entries = append(tb.all.entries, e)
	n := tb.search
	for _, seg := range e.t.Segments[:keys] {
		if seg.Kind == Star {
			if n.star == nil {
				n.star = &snode{}
			}
			n = n.star
			continue
		}
		n = child(&n.lits, seg.Literal)
	}
	n.entries = append(n.entries, e)
}

func (n *snode) lit(key string) *snode {
	if n.few != nil {
		for i := range n.few {
			if n.few[i].key == key {
				return n.few[i].n
			}
		}
		return nil
	}
	return n.lits[key]
}

// lists collects the pattern lists of every node the path reaches, as
// ranges of Table.flat. Small and free of pointers, because every lookup
// off the exact index zeroes one and fills it.
type lists struct {
	// r[i] is the i-th list's next pattern and its end in Table.flat.
	r [maxLists][2]int32
	// ended has bit i set when the walk reached list i's node with every
	// component of the path compared, so its keyed patterns match.
	ended    uint16
	k        uint8
	overflow bool
}

// collect walks the trie from n, at depth components into p (the next one
// at offset off of p.s, past its end when none is left). It loops down
// while one child matches and recurses only where the path can follow
// both a literal and a variable.
func (ls *lists) collect(n *snode, p *Path, depth, off int) {
	for {
		ended := off > len(p.s)
		if n.hi > n.lo {
			if ls.k == maxLists {
				ls.overflow = true
				return
			}
			ls.r[ls.k] = [2]int32{n.lo, n.hi}
			if ended {
				ls.ended |= 1 << ls.k
			}
			ls.k++
		}
		if depth >= maxDepth || ended || (n.lits == nil && n.star == nil) {
			return
		}
		comp, next := p.next(p.s, off)
		var c *snode
		if n.lits != nil {
			c = n.lit(comp)
		}
		switch {
		case c == nil:
			c = n.star
			if c == nil {
				return
			}
		case n.star != nil:
			ls.collect(c, p, depth+1, next)
			c = n.star
		}
		n, depth, off = c, depth+1, next
	}
}

// next returns the collected pattern of highest precedence not returned
// yet (from flat, the table's), and whether the walk proved it matches
// (see sentry.keyed) when the path needs no percent-escape check.
func (ls *lists) next(flat []sentry) (e *sentry, ended bool) {
	best, prio := -1, 0
	for i := range int(ls.k) {
		if h := ls.r[i][0]; h < ls.r[i][1] && (best < 0 || flat[h].prio > prio) {
			best, prio = i, flat[h].prio
		}
	}
	if best < 0 {
		return nil, false
	}
	e = &flat[ls.r[best][0]]
	ls.r[best][0]++
	return e, ls.ended&(1<<best) != 0
}

// match reports whether e matches p, where ended says the trie walk
// reached e's node with every component of p compared.
func (tb *Table) match(e *sentry, ended bool, p *Path) Result {
	if ended && e.keyed && !p.check {
		v := e.t.Verb
		if v == "" {
			return Found
		}
		if !p.split3 {
			// The last component, which the "*" edge took whole, must
			// end in ":verb" with something before it.
			s := p.s
			if len(s) > len(v)+1 && s[len(s)-len(v)-1] == ':' && s[len(s)-len(v):] == v && s[len(s)-len(v)-2] != '/' {
				return Found
			}
			return NotFound
		}
	}
	return e.t.matchPath(p, tb.StrictDeepWildcard)
}

// gather collects the patterns that can match p.
//
// A path with a malformed percent-escape, in the modes that check them,
// gets every pattern: the mux stops with 400 at the first pattern (by
// precedence) whose match reaches a variable holding it, and a pattern
// can reach it and fail only later, on a literal that the trie would have
// used to leave it out. So does a path that reaches more nodes holding
// patterns than ls has room for. Either way the work is what the mux
// itself does for such a path: every pattern of the method, in order.
func (tb *Table) gather(p *Path, ls *lists) {
	all := [2]int32{tb.all.lo, tb.all.hi}
	if p.check && malformed(p.s) {
		ls.r[0], ls.k = all, 1
		return
	}
	ls.collect(tb.search, p, 0, 0)
	if ls.overflow {
		ls.r[0], ls.ended, ls.k = all, 0, 1
	}
}

// findOne returns the pattern the mux runs for method index m at p.
func (tb *Table) findOne(p *Path, m int) (id int, res Result) {
	var ls lists
	tb.gather(p, &ls)
	for {
		e, ended := ls.next(tb.flat)
		if e == nil {
			return -1, NotFound
		}
		if e.m != m {
			continue
		}
		switch tb.match(e, ended, p) {
		case Found:
			return e.id, Found
		case Malformed:
			return -1, Malformed
		}
	}
}

// findAll sets ids[m] to the pattern the mux runs for every method index
// m at p, or -1 for none (NotFound, or Malformed: the mux stops there),
// in one walk of the trie.
func (tb *Table) findAll(p *Path, ids []int) {
	var buf [16]bool
	var decided []bool
	if len(ids) <= len(buf) {
		decided = buf[:len(ids)]
	} else {
		decided = make([]bool, len(ids))
	}
	for i := range ids {
		ids[i] = -1
	}
	open := len(ids)
	var ls lists
	tb.gather(p, &ls)
	for open > 0 {
		e, ended := ls.next(tb.flat)
		if e == nil {
			return
		}
		if decided[e.m] {
			continue
		}
		switch tb.match(e, ended, p) {
		case Found:
			ids[e.m] = e.id
		case NotFound:
			continue
		}
		decided[e.m] = true
		open--
	}
}
