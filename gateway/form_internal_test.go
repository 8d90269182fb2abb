package gateway

import (
	"strings"
	"testing"
)

// FuzzLowerEquals holds the allocation-free comparison to what the mux
// computes: strings.ToLower.
func FuzzLowerEquals(f *testing.F) {
	for _, s := range []string{formType, "APPLİCATION/X-WWW-FORM-URLENCODED", "application/x-www-form-urlencoded", "ſ", "\xff", "application/json"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, lower := range []string{formType, "ab", ""} {
			if got, want := lowerEquals(s, lower), strings.ToLower(s) == lower; got != want {
				t.Errorf("lowerEquals(%q, %q) = %t, strings.ToLower gives %t", s, lower, got, want)
			}
		}
	})
}
