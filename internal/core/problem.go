package core

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Kind says what sort of mistake a [Problem] is, for programs that treat
// some differently (a lint plugin that leaves missing origins to the
// deployment, a test that expects one kind).
type Kind uint8

const (
	// KindOrigin: an allow_origins value is not an origin as browsers send
	// it (path, upper case, default port, userinfo, ...).
	KindOrigin Kind = iota + 1
	// KindWildcard: a wildcard origin covers sites nobody controls: its
	// base is a public suffix, or some host it matches lies under a longer
	// one.
	KindWildcard
	// KindNullOrigin: allow_origins holds "null" without the option that
	// allows it.
	KindNullOrigin
	// KindInsecureOrigin: a plain http:// origin other than loopback with
	// allow_credentials, without the option that allows it.
	KindInsecureOrigin
	// KindCredentials: "*" (origins or headers) with allow_credentials.
	KindCredentials
	// KindHeader: an allow_headers or expose_headers value is not a header
	// name, or cannot be exposed.
	KindHeader
	// KindMaxAge: max_age_seconds is above one day.
	KindMaxAge
	// KindMissingOrigins: CORS is enabled and no scope, default included,
	// lists an origin.
	KindMissingOrigins
	// KindRoute: a google.api.http rule or a gateway.WithRoute route does
	// not parse.
	KindRoute
	// KindAmbiguousRoute: routes of two services can match the same request
	// under different policies, and their registration order is unknown.
	KindAmbiguousRoute
	// KindOption: a runtime option was given a value that makes no sense.
	KindOption
	// KindOriginSet: a policy names an origin set that is not a valid name
	// or is not bound at run time.
	KindOriginSet
)

func (k Kind) String() string {
	switch k {
	case KindOrigin:
		return "origin"
	case KindWildcard:
		return "wildcard"
	case KindNullOrigin:
		return "null origin"
	case KindInsecureOrigin:
		return "insecure origin"
	case KindCredentials:
		return "credentials"
	case KindHeader:
		return "header"
	case KindMaxAge:
		return "max age"
	case KindMissingOrigins:
		return "missing origins"
	case KindRoute:
		return "route"
	case KindAmbiguousRoute:
		return "ambiguous route"
	case KindOption:
		return "option"
	case KindOriginSet:
		return "origin set"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Problem is one thing wrong with the configuration, named by the
// descriptor (or the option) that set the offending value.
type Problem struct {
	// Descriptor is the full name of the descriptor whose option set the
	// value: a method ("pkg.v1.Svc.Method"), a service, or a file path;
	// "runtime default" for WithDefaultPolicy and WithOrigins; the option
	// ("gateway.WithRoute GET /healthz") for other runtime options.
	Descriptor string
	// Field is the Policy field, with an index for list elements
	// ("allow_origins[1]"), or what else holds the value
	// ("google.api.http").
	Field string
	// Value is the offending value, "" when the problem is an absence.
	Value string
	// Message says what is wrong and how to fix it.
	Message string
	// Kind classifies the problem.
	Kind Kind
}

func (p *Problem) Error() string {
	var b strings.Builder
	b.WriteString("protocors: ")
	if p.Descriptor != "" {
		b.WriteString(p.Descriptor)
		b.WriteString(": ")
	}
	b.WriteString(p.Field)
	if p.Value != "" {
		fmt.Fprintf(&b, " %q", p.Value)
	}
	b.WriteString(": ")
	b.WriteString(p.Message)
	return b.String()
}

// Error is the error New and Reconfigure return when the configuration
// has problems: all of them, sorted, each once. errors.As finds it, and
// each *Problem in it.
type Error struct {
	Problems []*Problem
}

// Error lists the problems, one a line.
func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As and errors.Is reach each *Problem.
func (e *Error) Unwrap() []error {
	errs := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		errs[i] = p
	}
	return errs
}

// Problems collects problems while a configuration is read.
type Problems []*Problem

// Err returns nil for no problems, else an *Error with the problems sorted
// and without duplicates (a service-level mistake is reported once, not
// per method).
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	seen := make(map[string]bool)
	out := make([]*Problem, 0, len(ps))
	for _, p := range ps {
		k := p.Error()
		if !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Error() < out[j].Error() })
	return &Error{Problems: out}
}

// kindError is an error that knows the Kind of problem it makes.
type kindError struct {
	kind Kind
	msg  string
}

func (e *kindError) Error() string { return e.msg }

// kindOf returns the Kind err carries, def when it carries none.
func kindOf(err error, def Kind) Kind {
	var k *kindError
	if errors.As(err, &k) {
		return k.kind
	}
	return def
}
