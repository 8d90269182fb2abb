package route

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
