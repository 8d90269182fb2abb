package route

import "net/http"

// Mode mirrors grpc-gateway's runtime.UnescapingMode: the values are equal,
// and so is the underlying type, so that converting the mode a user passes
// loses nothing and an out-of-range one stays visible (as the same number)
// to the check that refuses it.
type Mode int

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
