package gateway

import (
	"mime"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"
)

// formType is the media type for which the mux applies its method override
// and its POST to GET fallback.
const formType = "application/x-www-form-urlencoded"

// isForm reports whether the request body is a form exactly as the mux
// decides: mime.ParseMediaType of the first Content-Type line succeeds and
// gives formType. ParseMediaType lower-cases with strings.ToLower and trims
// with strings.TrimSpace, which both go beyond ASCII (U+212A KELVIN SIGN
// lower-cases to 'k', U+0130 to 'i'; U+00A0 and U+3000 are spaces), so the
// cheap test that spares other requests the parse applies the same
// functions rune by rune.
func isForm(h http.Header) bool {
	v := h["Content-Type"]
	// Every rune that lower-cases to ASCII takes a byte or more, so a
	// value shorter than formType cannot match (JSON bodies end here).
	if len(v) == 0 || len(v[0]) < len(formType) {
		return false
	}
	base, _, _ := strings.Cut(v[0], ";")
	if !lowerEquals(strings.TrimSpace(base), formType) {
		return false
	}
	mt, _, err := mime.ParseMediaType(v[0])
	return err == nil && mt == formType
}

// lowerEquals reports whether strings.ToLower(s) == lower, without
// allocating. lower is ASCII, and every rune that lower-cases to ASCII
// takes one byte or more, so a shorter s never matches.
func lowerEquals(s, lower string) bool {
	if len(s) < len(lower) {
		return false
	}
	i := 0
	for j := 0; j < len(s); {
		c := s[j]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if i >= len(lower) || c != lower[i] {
				return false
			}
			i++
			j++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[j:])
		l := unicode.ToLower(r)
		if l >= utf8.RuneSelf || i >= len(lower) || byte(l) != lower[i] {
			return false
		}
		i++
		j += size
	}
	return i == len(lower)
}

// upper is strings.ToUpper, as the mux applies it to X-HTTP-Method-Override,
// without allocating for the usual upper-case input.
func upper(s string) string {
	for i := 0; i < len(s); i++ {
		if 'a' <= s[i] && s[i] <= 'z' || s[i] >= 0x80 {
			return strings.ToUpper(s)
		}
	}
	return s
}
