package core

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/protocors/protocors/corspb"
)

// MaxMaxAge is the largest accepted max_age_seconds: one day. Browsers cap
// the preflight cache lower still (Chromium: 2 hours, Firefox: 1 day).
const MaxMaxAge = 86400

// Validate checks the effective policy of an enabled method and returns
// every problem, each attributed to the scope that set the field.
func Validate(e *Effective, opts OriginOptions) Problems {
	if !e.Enabled {
		return nil
	}
	var ps Problems
	pol := e.Policy
	at := func(field int) string { return e.SourceName(field) }
	add := func(kind Kind, field int, name string, value, msg string) {
		ps = append(ps, &Problem{Descriptor: at(field), Field: name, Value: value, Message: msg, Kind: kind})
	}
	creds := pol.GetAllowCredentials()
	withCreds := func() string { return " [with allow_credentials (set by " + at(FieldAllowCredentials) + ")]" }
	if len(pol.AllowOrigins) == 0 && len(pol.AllowOriginSets) == 0 {
		ps = append(ps, &Problem{
			Descriptor: e.Names[ScopeMethod],
			Field:      "allow_origins",
			Message:    "CORS is enabled but no scope lists an origin: set allow_origins in the proto options, or pass the deployment's origins with WithOrigins",
			Kind:       KindMissingOrigins,
		})
	}
	for i, o := range pol.AllowOrigins {
		p, err := ParseOrigin(o, opts)
		if err != nil {
			add(kindOf(err, KindOrigin), FieldAllowOrigins, elem("allow_origins", i), o, err.Error())
			continue
		}
		if creds {
			if err := p.checkCredentials(opts); err != nil {
				ps = append(ps, &Problem{Descriptor: innermost(e, FieldAllowOrigins, FieldAllowCredentials), Field: elem("allow_origins", i), Value: o, Message: err.Error() + withCreds(), Kind: kindOf(err, KindCredentials)})
			}
		}
	}
	for i, name := range pol.AllowOriginSets {
		field := elem("allow_origin_sets", i)
		if !ValidSetName(name) {
			add(KindOriginSet, FieldAllowOriginSets, field, name, setNameRule)
			continue
		}
		if !opts.CheckBindings {
			continue // bindings unknown: a lint of the protos alone
		}
		members, ok := opts.Sets[name]
		if !ok {
			msg := fmt.Sprintf("origin set %q (named by %s) is not bound: give its origins at run time with protocors.WithOriginSet(%q, origins...)", name, at(FieldAllowOriginSets), name)
			if near := nearSetName(name, opts.Sets); near != "" {
				msg += fmt.Sprintf("; did you mean the bound set %q? (fix the name in the proto or in WithOriginSet)", near)
			}
			ps = append(ps, &Problem{Descriptor: e.Names[ScopeMethod], Field: field, Value: name, Kind: KindOriginSet, Message: msg})
			continue
		}
		if opts.named != nil {
			opts.named[name] = true
		}
		if !creds {
			continue
		}
		// Members were checked on their own where they were bound; what
		// only this RPC can tell is whether they go with credentials.
		for _, o := range members {
			if p, err := ParseOrigin(o, opts); err == nil {
				if err := p.checkCredentials(opts); err != nil {
					ps = append(ps, &Problem{Descriptor: innermost(e, FieldAllowOriginSets, FieldAllowCredentials), Field: field, Value: o, Kind: kindOf(err, KindCredentials),
						Message: fmt.Sprintf("%s [member of origin set %q, bound with protocors.WithOriginSet]%s", err, name, withCreds())})
				}
			}
		}
	}
	checkNames := func(field int, fname string, names []string, isExpose bool) {
		for i, h := range names {
			name := func() string { return elem(fname, i) }
			switch {
			case h == "*":
				if creds {
					msg := `"*" cannot be used with allow_credentials: browsers take it as a literal name then; list the headers`
					ps = append(ps, &Problem{Descriptor: innermost(e, field, FieldAllowCredentials), Field: name(), Value: h, Message: msg + withCreds(), Kind: KindCredentials})
				}
			case !IsToken(h):
				add(KindHeader, field, name(), h, "not a valid header name (RFC 9110 token)")
			case len(h) > maxHeaderNameLen:
				add(KindHeader, field, name(), h, fmt.Sprintf("header name longer than %d bytes", maxHeaderNameLen))
			case isExpose && (strings.EqualFold(h, "Set-Cookie") || strings.EqualFold(h, "Set-Cookie2")):
				add(KindHeader, field, name(), h, "browsers never let a page read Set-Cookie, whatever the server says; remove it")
			}
		}
	}
	checkNames(FieldAllowHeaders, "allow_headers", pol.AllowHeaders, false)
	checkNames(FieldExposeHeaders, "expose_headers", pol.ExposeHeaders, true)
	if pol.MaxAgeSeconds != nil && pol.GetMaxAgeSeconds() > MaxMaxAge {
		add(KindMaxAge, FieldMaxAgeSeconds, "max_age_seconds", fmt.Sprint(pol.GetMaxAgeSeconds()), fmt.Sprintf("above %d (one day); browsers cap it anyway (Chromium at 7200)", MaxMaxAge))
	}
	return ps
}

// elem names element i of a list field: "allow_origins[1]".
func elem(field string, i int) string {
	return field + "[" + strconv.Itoa(i) + "]"
}

// innermost names the innermost of the scopes that set fields a and b: the
// place where the conflicting combination was made.
func innermost(e *Effective, a, b int) string {
	if e.Source(b) > e.Source(a) {
		return e.SourceName(b)
	}
	return e.SourceName(a)
}

// ValidateDefault checks a runtime default policy on its own, so mistakes
// in WithDefaultPolicy or WithOrigins are reported even when no method uses
// them.
func ValidateDefault(p *corspb.Policy, opts OriginOptions) Problems {
	if p == nil {
		return nil
	}
	var ps Problems
	for i, o := range p.AllowOrigins {
		if _, err := ParseOrigin(o, opts); err != nil {
			ps = append(ps, &Problem{Descriptor: "runtime default", Field: fmt.Sprintf("allow_origins[%d]", i), Value: o, Message: err.Error(), Kind: kindOf(err, KindOrigin)})
		}
	}
	return ps
}

// setNameRule says what an origin set name is.
const setNameRule = "not an origin set name: 1 to 64 characters, lower-case letters, digits, '_' and '-', starting with a letter"

// ValidSetName reports whether name can name an origin set: 1 to 64
// characters, lower-case ASCII letters, digits, '_' and '-', starting with a
// letter.
func ValidSetName(name string) bool {
	if name == "" || len(name) > 64 || name[0] < 'a' || name[0] > 'z' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Origins returns the effective origins of pol: its allow_origins, then the
// members of each set it names, in order, each once. Sets not bound in
// opts contribute nothing.
func Origins(pol *corspb.Policy, opts OriginOptions) []string {
	if len(pol.AllowOriginSets) == 0 {
		return pol.AllowOrigins // shared, so equal policies intern by identity
	}
	seen := make(map[string]bool)
	var out []string
	add := func(o string) {
		if !seen[o] {
			seen[o] = true
			out = append(out, o)
		}
	}
	for _, o := range pol.AllowOrigins {
		add(o)
	}
	for _, name := range pol.AllowOriginSets {
		for _, o := range opts.Sets[name] {
			add(o)
		}
	}
	return out
}

// ValidateSets checks origin set bindings on their own: each name, and each
// member as allow_origins would be checked. Credentials are checked per RPC
// by Validate.
func ValidateSets(sets map[string][]string, opts OriginOptions) Problems {
	names := make([]string, 0, len(sets))
	for name := range sets {
		names = append(names, name)
	}
	sort.Strings(names)
	var ps Problems
	for _, name := range names {
		at := fmt.Sprintf("protocors.WithOriginSet(%q)", name)
		if !ValidSetName(name) {
			ps = append(ps, &Problem{Field: at, Kind: KindOption, Message: setNameRule})
			continue
		}
		for i, o := range sets[name] {
			if _, err := ParseOrigin(o, opts); err != nil {
				ps = append(ps, &Problem{Descriptor: at, Field: elem("origins", i), Value: o, Message: err.Error(), Kind: kindOf(err, KindOrigin)})
			}
		}
	}
	return ps
}
