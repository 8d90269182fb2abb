package core

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Kind classifies a [Problem]. It is protocors.Kind value for value (the
// middlewares convert at their boundary, and a test in the root package
// pairs every constant); each kind is documented there, once.
type Kind uint8

// The kinds, in protocors.Kind's order.
const (
	KindOrigin Kind = iota + 1
	KindWildcard
	KindNullOrigin
	KindInsecureOrigin
	KindCredentials
	KindHeader
	KindMaxAge
	KindMissingOrigins
	KindRoute
	KindAmbiguousRoute
	KindOption
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

// Problem is one thing wrong with the configuration: protocors.Problem
// field for field, where the fields are documented. The middlewares
// convert it at their boundary; the tools (cmd/protocors, the buf plugin)
// read it directly.
type Problem struct {
	Descriptor string
	Field      string
	Value      string
	Message    string
	Kind       Kind
}

func (p *Problem) Error() string {
	if p == nil {
		return "<nil>"
	}
	return ProblemText(p.Descriptor, p.Field, p.Value, p.Message)
}

// ProblemText is the one line a problem prints as, here and in
// protocors.Problem: "protocors: descriptor: field "value": message".
func ProblemText(descriptor, field, value, message string) string {
	var b strings.Builder
	b.WriteString("protocors: ")
	if descriptor != "" {
		b.WriteString(descriptor)
		b.WriteString(": ")
	}
	b.WriteString(field)
	if value != "" {
		fmt.Fprintf(&b, " %q", value)
	}
	b.WriteString(": ")
	b.WriteString(message)
	return b.String()
}

// Error is what [Problems.Err] returns: protocors.Error before the
// middlewares convert it.
type Error struct {
	Problems []*Problem
}

// Error lists the problems, one a line.
func (e *Error) Error() string {
	if e == nil {
		return "<nil>"
	}
	return ErrorLines(e.Problems)
}

// Unwrap lets errors.As and errors.Is reach each *Problem.
func (e *Error) Unwrap() []error {
	if e == nil {
		return nil
	}
	return Errors(e.Problems)
}

// ErrorLines joins the messages of errs, one a line: the text of an
// *Error here and of the public protocors.Error.
func ErrorLines[E error](errs []E) string {
	lines := make([]string, len(errs))
	for i, err := range errs {
		lines[i] = err.Error()
	}
	return strings.Join(lines, "\n")
}

// Errors returns errs as a []error, for an Unwrap method.
func Errors[E error](errs []E) []error {
	out := make([]error, len(errs))
	for i, err := range errs {
		out[i] = err
	}
	return out
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
