package protocors_test

import (
	"errors"
	"testing"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/internal/core"
)

// The middlewares convert core's kinds to the public ones by value, so
// every public constant must equal its core twin and print the same.
func TestKindMatchesCore(t *testing.T) {
	pairs := []struct {
		public protocors.Kind
		core   core.Kind
		name   string
	}{
		{protocors.KindOrigin, core.KindOrigin, "origin"},
		{protocors.KindWildcard, core.KindWildcard, "wildcard"},
		{protocors.KindNullOrigin, core.KindNullOrigin, "null origin"},
		{protocors.KindInsecureOrigin, core.KindInsecureOrigin, "insecure origin"},
		{protocors.KindCredentials, core.KindCredentials, "credentials"},
		{protocors.KindHeader, core.KindHeader, "header"},
		{protocors.KindMaxAge, core.KindMaxAge, "max age"},
		{protocors.KindMissingOrigins, core.KindMissingOrigins, "missing origins"},
		{protocors.KindRoute, core.KindRoute, "route"},
		{protocors.KindAmbiguousRoute, core.KindAmbiguousRoute, "ambiguous route"},
		{protocors.KindOption, core.KindOption, "option"},
		{protocors.KindOriginSet, core.KindOriginSet, "origin set"},
	}
	for _, p := range pairs {
		if uint8(p.public) != uint8(p.core) {
			t.Errorf("protocors.Kind %q = %d, core's = %d", p.name, p.public, p.core)
		}
		if got := p.public.String(); got != p.name {
			t.Errorf("Kind(%d).String() = %q, want %q", p.public, got, p.name)
		}
	}
	// One past the last constant: a core kind added without its public
	// twin shows up here.
	next := protocors.KindOriginSet + 1
	if got, want := next.String(), "Kind(13)"; got != want {
		t.Errorf("Kind(13).String() = %q, want %q (a core kind without a public constant?)", got, want)
	}
}

func TestErrorNilSafe(t *testing.T) {
	var e *protocors.Error
	if got := e.Error(); got != "<nil>" {
		t.Errorf("(*Error)(nil).Error() = %q", got)
	}
	if got := e.Unwrap(); got != nil {
		t.Errorf("(*Error)(nil).Unwrap() = %v", got)
	}
	var p *protocors.Problem
	if got := p.Error(); got != "<nil>" {
		t.Errorf("(*Problem)(nil).Error() = %q", got)
	}
}

func TestErrorText(t *testing.T) {
	first := &protocors.Problem{Descriptor: "shop.v1.Shop.Buy", Field: "allow_origins[0]", Value: "https://a.example/",
		Message: "has a path or trailing slash", Kind: protocors.KindOrigin}
	second := &protocors.Problem{Descriptor: "runtime default", Field: "allow_origins",
		Message: "CORS is enabled but no origin is allowed", Kind: protocors.KindMissingOrigins}
	err := error(&protocors.Error{Problems: []*protocors.Problem{first, second}})
	want := `protocors: shop.v1.Shop.Buy: allow_origins[0] "https://a.example/": has a path or trailing slash` + "\n" +
		`protocors: runtime default: allow_origins: CORS is enabled but no origin is allowed`
	if got := err.Error(); got != want {
		t.Errorf("Error() =\n%s\nwant\n%s", got, want)
	}
	var p *protocors.Problem
	if !errors.As(err, &p) || p != first {
		t.Errorf("errors.As(*Problem) = %v, want the first problem", p)
	}
	if !errors.Is(err, second) {
		t.Error("errors.Is does not reach the second problem")
	}
}
