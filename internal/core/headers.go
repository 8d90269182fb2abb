package core

import (
	"slices"
	"strings"
)

// maxRequestedHeaders bounds how many names a preflight may ask for. Browsers
// ask for the non-safelisted headers a page set, a handful in practice; a
// longer list is refused rather than echoed back.
const maxRequestedHeaders = 100

// maxEmptyElements bounds the empty list elements ("a,,b", ",,,,")
// tolerated in Access-Control-Request-Headers. RFC 9110 allows them and
// browsers never send them; past this many the list is refused rather than
// walked.
const maxEmptyElements = 16

// maxHeaderNameLen bounds one requested header name; longer names can only
// match a "*" policy and are refused.
const maxHeaderNameLen = 256

// isTokenChar reports whether c may appear in an RFC 9110 token.
func isTokenChar(c byte) bool {
	return tokenTable[c] != 0
}

// tokenTable classifies bytes: 0 not a token character, tokenChar, or
// tokenChar|upperChar for 'A'-'Z', so one lookup per byte both validates a
// name and tells whether it needs lower-casing.
var tokenTable = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = tokenChar
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = tokenChar
		t[c-'a'+'A'] = tokenChar | upperChar
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = tokenChar
	}
	return t
}()

const (
	tokenChar = 1 << iota
	upperChar
)

// IsToken reports whether s is an RFC 9110 token (a valid header name or
// method).
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

func isOWS(c byte) bool { return c == ' ' || c == '\t' }

func lowerByte(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// headerSet is a set of lower-case header names, looked up without
// allocating: by a walk of the sorted names for the sorted, lower-case lists
// browsers send, by hashing otherwise.
type headerSet struct {
	sorted []string
	names  map[string]struct{}
	maxLen int
}

func newHeaderSet(names []string) headerSet {
	s := headerSet{names: make(map[string]struct{}, len(names))}
	for _, n := range names {
		s.names[strings.ToLower(n)] = struct{}{}
		s.maxLen = max(s.maxLen, len(n))
	}
	for n := range s.names {
		s.sorted = append(s.sorted, n)
	}
	slices.Sort(s.sorted)
	return s
}

// hasFrom reports whether the lower-case name is in the set, searching the
// sorted names from *cursor on, and moves *cursor past what it searched: a
// sorted list of n names against m allowed costs at most n+m string
// comparisons and no hashing. A name before *cursor is not found.
func (s *headerSet) hasFrom(name string, cursor *int) bool {
	for i := *cursor; i < len(s.sorted); i++ {
		if c := strings.Compare(s.sorted[i], name); c >= 0 {
			if c == 0 {
				*cursor = i + 1
				return true
			}
			*cursor = i
			return false
		}
	}
	*cursor = len(s.sorted)
	return false
}

// has reports whether name (any case) is in the set, without allocating.
func (s *headerSet) has(name string) bool {
	if len(name) > s.maxLen {
		return false
	}
	if isLower(name) {
		_, ok := s.names[name]
		return ok
	}
	var buf [maxHeaderNameLen]byte
	for i := 0; i < len(name); i++ {
		buf[i] = lowerByte(name[i])
	}
	_, ok := s.names[string(buf[:len(name)])]
	return ok
}

func isLower(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			return false
		}
	}
	return true
}

// requestedHeaders is the parse of Access-Control-Request-Headers.
type requestedHeaders struct {
	// canonical is the single field value when it is already in the form
	// browsers send (lower-case names, sorted, "," without spaces, no empty
	// elements): it can be echoed as is. Empty otherwise.
	canonical string
	// count is the number of non-empty names.
	count int
}

// scanRequestHeaders walks the comma-separated lists in lines (one string
// per field line), as RFC 9110 section 5.6.1 allows: optional whitespace
// around elements, empty elements, the list split over several field lines,
// names in any case. Each non-empty name is checked against p, stopping at
// the first name p refuses, which it returns. bad reports a malformed
// element (not a token) or more than maxRequestedHeaders names. Work is
// linear in the input, and nothing is allocated.
func scanRequestHeaders(lines []string, p *Engine) (rh requestedHeaders, refused string, bad bool) {
	canonical := len(lines) == 1
	prev := ""
	empties, cursor := 0, 0
	for _, line := range lines {
		i := 0
		for i <= len(line) {
			if canonical {
				// The list as browsers send it: an element that is exactly
				// the next allowed name is a lower-case token with no
				// whitespace, so it needs no byte-by-byte look.
				e := strings.IndexByte(line[i:], ',')
				if e < 0 {
					e = len(line)
				} else {
					e += i
				}
				if el := line[i:e]; el != "" && len(el) <= maxHeaderNameLen && p.headers.hasFrom(el, &cursor) {
					if rh.count++; rh.count > maxRequestedHeaders {
						return rh, el, true
					}
					prev = el
					i = e + 1
					continue
				}
			}
			// One element: OWS token OWS, up to ',' or the end.
			j := i
			for j < len(line) && isOWS(line[j]) {
				j++
			}
			start := j
			var class uint8
			for j < len(line) {
				t := tokenTable[line[j]]
				if t == 0 {
					break
				}
				class |= t
				j++
			}
			name := line[start:j]
			if start != i {
				canonical = false
			}
			k := j
			for k < len(line) && isOWS(line[k]) {
				k++
			}
			if k != j {
				canonical = false
			}
			if k < len(line) && line[k] != ',' {
				return rh, line[start:min(len(line), k+1)], true
			}
			if name == "" {
				canonical = false
				empties++
				if empties > maxEmptyElements {
					return rh, "", true
				}
			} else {
				rh.count++
				if rh.count > maxRequestedHeaders || len(name) > maxHeaderNameLen {
					return rh, name, true
				}
				if class&upperChar != 0 {
					canonical = false
				}
				ok := false
				if canonical {
					// Lower case and, so far, sorted: walk the sorted set.
					// A name not found there is out of order, repeated, or
					// not in the set: the slow path below tells which.
					ok = p.headers.hasFrom(name, &cursor)
				}
				if !ok {
					if name <= prev {
						canonical = false
					}
					ok = p.headerAllowed(name)
				}
				prev = name
				if !ok {
					return rh, name, false
				}
			}
			i = k + 1
		}
	}
	if canonical && rh.count > 0 {
		rh.canonical = lines[0]
	}
	return rh, "", false
}

// joinRequestHeaders builds the echo of an allowed but non-canonical
// Access-Control-Request-Headers: the distinct names, lower case, joined by
// ",". Called only after scanRequestHeaders accepted every name, so the
// input is bounded.
func joinRequestHeaders(lines []string, count int) string {
	names := make([]string, 0, count)
	var b strings.Builder
	for _, line := range lines {
		for _, el := range strings.Split(line, ",") {
			el = strings.ToLower(strings.Trim(el, " \t"))
			if el == "" {
				continue
			}
			dup := false
			for _, n := range names {
				if n == el {
					dup = true
					break
				}
			}
			if dup {
				continue
			}
			if len(names) > 0 {
				b.WriteByte(',')
			}
			b.WriteString(el)
			names = append(names, el)
		}
	}
	return b.String()
}

// HeaderList joins header names for Access-Control-Expose-Headers or
// -Allow-Headers: the given lists in order, duplicates (in any case)
// dropped, "*" alone if any list holds it. It returns "" for no names.
func HeaderList(lists ...[]string) string {
	seen := make(map[string]bool)
	var out []string
	for _, l := range lists {
		for _, n := range l {
			if n == "*" {
				return "*"
			}
			k := strings.ToLower(n)
			if seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, n)
		}
	}
	return strings.Join(out, ",")
}
