package core

import (
	"strings"
)

// maxRequestedHeaders bounds how many names a preflight may ask for. Browsers
// ask for the non-safelisted headers a page set, a handful in practice; a
// longer list is refused rather than echoed back.
const maxRequestedHeaders = 100

// maxHeaderNameLen bounds one requested header name; longer names can only
// match a "*" policy and are refused.
const maxHeaderNameLen = 256

// isTokenChar reports whether c may appear in an RFC 9110 token.
func isTokenChar(c byte) bool {
	return tokenTable[c]
}

var tokenTable = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

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
// allocating.
type headerSet struct {
	names  map[string]struct{}
	maxLen int
}

func newHeaderSet(names []string) headerSet {
	s := headerSet{names: make(map[string]struct{}, len(names))}
	for _, n := range names {
		s.names[strings.ToLower(n)] = struct{}{}
		s.maxLen = max(s.maxLen, len(n))
	}
	return s
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
func scanRequestHeaders(lines []string, p *Policy) (rh requestedHeaders, refused string, bad bool) {
	canonical := len(lines) == 1
	prev := ""
	for _, line := range lines {
		i := 0
		for i <= len(line) {
			// One element: OWS token OWS, up to ',' or the end.
			j := i
			for j < len(line) && isOWS(line[j]) {
				j++
			}
			start := j
			for j < len(line) && isTokenChar(line[j]) {
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
			} else {
				rh.count++
				if rh.count > maxRequestedHeaders || len(name) > maxHeaderNameLen {
					return rh, name, true
				}
				if canonical && (!isLower(name) || name <= prev) {
					canonical = false
				}
				prev = name
				if !p.headerAllowed(name) {
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
