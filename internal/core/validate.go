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
	if len(pol.AllowOrigins) == 0 {
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

// ConfigOf turns a validated effective policy into a Config, with the
// protocol's own request headers always allowed.
func ConfigOf(e *Effective, opts OriginOptions, protocolHeaders []string) Config {
	pol := e.Policy
	c := Config{
		Origins:         pol.AllowOrigins,
		OriginOptions:   opts,
		Credentials:     pol.GetAllowCredentials(),
		AllowHeaders:    pol.AllowHeaders,
		ProtocolHeaders: protocolHeaders,
		MaxAge:          -1,
	}
	if pol.MaxAgeSeconds != nil {
		c.MaxAge = int(pol.GetMaxAgeSeconds())
	}
	return c
}

// key returns a string that is equal for two Configs exactly when they
// compile to policies that answer every request alike.
func (c *Config) key() string {
	var b strings.Builder
	list := func(l []string, lower bool) {
		s := append([]string(nil), l...)
		if lower {
			for i := range s {
				s[i] = strings.ToLower(s[i])
			}
		}
		sort.Strings(s)
		b.WriteString(strings.Join(s, ","))
		b.WriteByte('|')
	}
	list(c.Origins, false)
	list(append(append([]string(nil), c.AllowHeaders...), c.ProtocolHeaders...), true)
	fmt.Fprintf(&b, "%t|%t|%t|%d|%t", c.Credentials, c.OriginOptions.AllowNull, c.OriginOptions.AllowInsecure, c.MaxAge, c.Debug)
	return b.String()
}

// Interner compiles Configs, sharing one *Engine between equal ones, so
// routes can compare their answers by pointer and a large registry compiles
// each distinct policy once. Methods that inherit their lists from the same
// scope share the slices, so most lookups are by identity and only the
// first of each kind computes the content key.
type Interner struct {
	byIdentity map[identity]*Engine
	byContent  map[string]*Engine
}

// identity is a Config by the slices it points to.
type identity struct {
	origins, headers, protocol  listID
	credentials, null, insecure bool
	debug                       bool
	maxAge                      int
}

type listID struct {
	first *string
	n     int
}

func idOf(l []string) listID {
	if len(l) == 0 {
		return listID{}
	}
	return listID{&l[0], len(l)}
}

// Compile returns the shared Engine for c, which must have passed
// validation.
func (in *Interner) Compile(c Config) *Engine {
	if in.byIdentity == nil {
		in.byIdentity = make(map[identity]*Engine)
		in.byContent = make(map[string]*Engine)
	}
	id := identity{idOf(c.Origins), idOf(c.AllowHeaders), idOf(c.ProtocolHeaders),
		c.Credentials, c.OriginOptions.AllowNull, c.OriginOptions.AllowInsecure, c.Debug, c.MaxAge}
	if p := in.byIdentity[id]; p != nil {
		return p
	}
	k := c.key()
	p := in.byContent[k]
	if p == nil {
		p = compile(c)
		in.byContent[k] = p
	}
	in.byIdentity[id] = p
	return p
}
