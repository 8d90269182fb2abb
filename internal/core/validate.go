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

// Problem is one thing wrong with a policy, named by the descriptor (or the
// runtime default) that set the offending field.
type Problem struct {
	// Name is the full name of the descriptor whose option set the field
	// (a method, service, or file path), or "runtime default".
	Name string
	// Field is the Policy field, with an index for list elements:
	// "allow_origins[1]".
	Field string
	// Value is the offending value, "" when the problem is an absence.
	Value string
	// Msg says what is wrong and how to fix it.
	Msg string
}

func (p *Problem) Error() string {
	var b strings.Builder
	b.WriteString("protocors: ")
	if p.Name != "" {
		b.WriteString(p.Name)
		b.WriteString(": ")
	}
	b.WriteString(p.Field)
	if p.Value != "" {
		fmt.Fprintf(&b, " %q", p.Value)
	}
	b.WriteString(": ")
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is every problem found in a set of policies. Its Error lists one
// per line.
type Problems []*Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find each *Problem.
func (ps Problems) Unwrap() []error {
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = p
	}
	return errs
}

// Err returns nil for no problems, else the problems, sorted and without
// duplicates (a service-level mistake is reported once, not per method).
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	seen := make(map[string]bool)
	out := make(Problems, 0, len(ps))
	for _, p := range ps {
		k := p.Error()
		if !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Error() < out[j].Error() })
	return out
}

// Validate checks the effective policy of an enabled method and returns
// every problem, each attributed to the scope that set the field.
func Validate(e *Effective, opts OriginOptions) Problems {
	if !e.Enabled {
		return nil
	}
	var ps Problems
	pol := e.Policy
	at := func(field int) string { return e.SourceName(field) }
	add := func(field int, name string, value, msg string) {
		ps = append(ps, &Problem{Name: at(field), Field: name, Value: value, Msg: msg})
	}
	creds := pol.GetAllowCredentials()
	withCreds := func() string { return " [with allow_credentials (set by " + at(FieldAllowCredentials) + ")]" }
	if len(pol.AllowOrigins) == 0 {
		ps = append(ps, &Problem{
			Name:  e.Names[ScopeMethod],
			Field: "allow_origins",
			Msg:   "CORS is enabled but no scope lists an origin: set allow_origins in the proto options, or pass the deployment's origins with WithOrigins",
		})
	}
	for i, o := range pol.AllowOrigins {
		p, err := ParseOrigin(o, opts)
		if err != nil {
			add(FieldAllowOrigins, elem("allow_origins", i), o, err.Error())
			continue
		}
		if creds {
			if err := p.checkCredentials(opts); err != nil {
				ps = append(ps, &Problem{Name: innermost(e, FieldAllowOrigins, FieldAllowCredentials), Field: elem("allow_origins", i), Value: o, Msg: err.Error() + withCreds()})
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
					ps = append(ps, &Problem{Name: innermost(e, field, FieldAllowCredentials), Field: name(), Value: h, Msg: msg + withCreds()})
				}
			case !IsToken(h):
				add(field, name(), h, "not a valid header name (RFC 9110 token)")
			case len(h) > maxHeaderNameLen:
				add(field, name(), h, fmt.Sprintf("header name longer than %d bytes", maxHeaderNameLen))
			case isExpose && (strings.EqualFold(h, "Set-Cookie") || strings.EqualFold(h, "Set-Cookie2")):
				add(field, name(), h, "browsers never let a page read Set-Cookie, whatever the server says; remove it")
			}
		}
	}
	checkNames(FieldAllowHeaders, "allow_headers", pol.AllowHeaders, false)
	checkNames(FieldExposeHeaders, "expose_headers", pol.ExposeHeaders, true)
	if pol.MaxAgeSeconds != nil && pol.GetMaxAgeSeconds() > MaxMaxAge {
		add(FieldMaxAgeSeconds, "max_age_seconds", fmt.Sprint(pol.GetMaxAgeSeconds()), fmt.Sprintf("above %d (one day); browsers cap it anyway (Chromium at 7200)", MaxMaxAge))
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
			ps = append(ps, &Problem{Name: "runtime default", Field: fmt.Sprintf("allow_origins[%d]", i), Value: o, Msg: err.Error()})
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

// Interner compiles Configs, sharing one *Policy between equal ones, so
// routes can compare their answers by pointer and a large registry compiles
// each distinct policy once. Methods that inherit their lists from the same
// scope share the slices, so most lookups are by identity and only the
// first of each kind computes the content key.
type Interner struct {
	byIdentity map[identity]*Policy
	byContent  map[string]*Policy
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

// Compile returns the shared compiled policy for c.
func (in *Interner) Compile(c Config) (*Policy, error) {
	if in.byIdentity == nil {
		in.byIdentity = make(map[identity]*Policy)
		in.byContent = make(map[string]*Policy)
	}
	id := identity{idOf(c.Origins), idOf(c.AllowHeaders), idOf(c.ProtocolHeaders),
		c.Credentials, c.OriginOptions.AllowNull, c.OriginOptions.AllowInsecure, c.Debug, c.MaxAge}
	if p := in.byIdentity[id]; p != nil {
		return p, nil
	}
	k := c.key()
	p := in.byContent[k]
	if p == nil {
		var err error
		if p, err = Compile(c); err != nil {
			return nil, err
		}
		in.byContent[k] = p
	}
	in.byIdentity[id] = p
	return p, nil
}
