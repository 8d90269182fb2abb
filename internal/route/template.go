// Package route parses google.api.http path templates and matches request
// paths against them exactly as grpc-gateway's runtime.ServeMux does, without
// allocating. grpc-gateway's own parser (internal/httprule) and matcher
// (runtime.Pattern) cannot be imported or asked which pattern a path would
// reach, so this package mirrors them: the same template grammar and quirks,
// the same verb splitting, the same unescaping modes, and the same "last
// registered pattern wins" order. Differential tests hold it to that: in
// this package, TestDifferential (route_test.go) matches random paths with a
// Table and a real ServeMux built from the same patterns, and
// TestOverlapDifferential (overlap_test.go) checks Overlap against real
// muxes; in package gateway, differential_test.go runs the whole middleware
// in front of a real ServeMux and checks it applied the policy of the route
// whose handler the mux ran.
package route

import (
	"errors"
	"fmt"
	"strings"
)

// Kind is the kind of one path segment of a template.
type Kind uint8

const (
	// Literal matches one path component equal to Segment.Literal.
	Literal Kind = iota
	// Star ("*", or a variable without a pattern) matches one component.
	Star
	// DeepStar ("**") matches any number of components, zero included.
	DeepStar
)

// Segment is one path segment of a template, with variables flattened:
// "{name=shelves/*}" contributes Literal "shelves" and Star. Variables do not
// change which paths match, so they are not kept.
type Segment struct {
	Kind    Kind
	Literal string
}

// Template is a parsed path template.
type Template struct {
	// Source is the template as written.
	Source string
	// Segments are the template's path segments in order. The root template
	// "/" has one empty Literal, as in grpc-gateway.
	Segments []Segment
	// Verb is the custom verb after the last ':' ("" for none).
	Verb string

	deep    int // index of the DeepStar segment, -1 for none
	tailLen int // number of segments after DeepStar
	min     int // components a matching path has at least
}

// Parse parses a google.api.http path template with grpc-gateway's grammar
// (internal/httprule): "/" segments, literals of RFC 3986 pchars, "*", "**",
// "{field.path}", "{field.path=segments}", and an optional ":verb". It also
// rejects what runtime.NewPattern rejects: more than one "**".
func Parse(tmpl string) (*Template, error) {
	if !strings.HasPrefix(tmpl, "/") {
		return nil, &TemplateError{Template: tmpl, Msg: "no leading /"}
	}
	tokens, verb := tokenize(tmpl[1:])
	p := parser{tokens: tokens}
	segs, err := p.topLevelSegments()
	if err != nil {
		return nil, &TemplateError{Template: tmpl, Msg: err.Error()}
	}
	if err := expectPChars(verb); err != nil {
		return nil, &TemplateError{Template: tmpl, Msg: "invalid verb: " + err.Error()}
	}
	t := &Template{Source: tmpl, Segments: segs, Verb: verb, deep: -1}
	for i, s := range segs {
		switch {
		case s.Kind == DeepStar && t.deep >= 0:
			return nil, &TemplateError{Template: tmpl, Msg: `"**" appears twice`}
		case s.Kind == DeepStar:
			t.deep = i
		default:
			t.min++
		}
	}
	if t.deep >= 0 {
		t.tailLen = len(segs) - t.deep - 1
	}
	return t, nil
}

// TemplateError reports a template grpc-gateway would not accept either.
type TemplateError struct {
	Template string
	Msg      string
}

func (e *TemplateError) Error() string {
	return fmt.Sprintf("invalid path template %q: %s", e.Template, e.Msg)
}

// eof is the terminal token, as in httprule; as a literal it stands for the
// root template "/" and matches the empty component.
const eof = "\u0000"

// tokenize splits a template (without its leading "/") into tokens and the
// verb, exactly as httprule does, including how it finds the verb: after the
// last ':' of the last token, or after the first when the last token follows
// a variable's closing brace.
func tokenize(path string) (tokens []string, verb string) {
	if path == "" {
		return []string{eof}, ""
	}
	const (
		init = iota
		field
		nested
	)
	st := init
	for path != "" {
		var idx int
		switch st {
		case init:
			idx = strings.IndexAny(path, "/{")
		case field:
			idx = strings.IndexAny(path, ".=}")
		case nested:
			idx = strings.IndexAny(path, "/}")
		}
		if idx < 0 {
			tokens = append(tokens, path)
			break
		}
		switch path[idx] {
		case '{':
			st = field
		case '=':
			st = nested
		case '}':
			st = init
		}
		if idx == 0 {
			tokens = append(tokens, path[idx:idx+1])
		} else {
			tokens = append(tokens, path[:idx], path[idx:idx+1])
		}
		path = path[idx+1:]
	}
	l := len(tokens)
	afterVar := l >= 2 && tokens[l-2] == "}"
	t := tokens[l-1]
	var idx int
	if afterVar {
		idx = strings.Index(t, ":")
	} else {
		idx = strings.LastIndex(t, ":")
	}
	if idx == 0 {
		tokens, verb = tokens[:l-1], t[1:]
	} else if idx > 0 {
		tokens[l-1], verb = t[:idx], t[idx+1:]
	}
	return append(tokens, eof), verb
}

type parser struct {
	tokens []string
}

type term uint8

const (
	termIdent term = iota
	termLiteral
	termEOF
)

// acceptSym accepts the symbol sym. Like httprule, a "/" token is accepted
// wherever a symbol is expected (so "/a//b" reads as "/a/*/b" up to the
// parse error that follows).
func (p *parser) acceptSym(sym string) bool {
	if t := p.tokens[0]; t != sym && t != "/" {
		return false
	}
	p.tokens = p.tokens[1:]
	return true
}

func (p *parser) accept(tt term) (string, error) {
	t := p.tokens[0]
	var err error
	switch tt {
	case termEOF:
		if t != eof {
			err = fmt.Errorf("expected end of template but got %q", t)
		}
	case termIdent:
		err = expectIdent(t)
	case termLiteral:
		err = expectPChars(t)
	}
	if err != nil {
		return "", err
	}
	p.tokens = p.tokens[1:]
	return t, nil
}

func (p *parser) topLevelSegments() ([]Segment, error) {
	if _, err := p.accept(termEOF); err == nil {
		return []Segment{{Kind: Literal}}, nil
	}
	segs, err := p.segments(nil)
	if err != nil {
		return nil, err
	}
	if _, err := p.accept(termEOF); err != nil {
		return nil, fmt.Errorf("unexpected token %q after segments", p.tokens[0])
	}
	return segs, nil
}

func (p *parser) segments(segs []Segment) ([]Segment, error) {
	segs, err := p.segment(segs)
	if err != nil {
		return nil, err
	}
	for p.acceptSym("/") {
		if segs, err = p.segment(segs); err != nil {
			return nil, err
		}
	}
	return segs, nil
}

func (p *parser) segment(segs []Segment) ([]Segment, error) {
	if p.acceptSym("*") {
		return append(segs, Segment{Kind: Star}), nil
	}
	if p.acceptSym("**") {
		return append(segs, Segment{Kind: DeepStar}), nil
	}
	if lit, err := p.accept(termLiteral); err == nil {
		return append(segs, Segment{Kind: Literal, Literal: lit}), nil
	}
	if !p.acceptSym("{") {
		return nil, fmt.Errorf("segment neither wildcard, literal nor variable: %q", p.tokens[0])
	}
	name, err := p.accept(termIdent)
	if err != nil {
		return nil, err
	}
	for p.acceptSym(".") {
		if _, err := p.accept(termIdent); err != nil {
			return nil, fmt.Errorf("invalid field path component: %w", err)
		}
	}
	if p.acceptSym("=") {
		if segs, err = p.segments(segs); err != nil {
			return nil, fmt.Errorf("invalid segment in variable %q: %w", name, err)
		}
	} else {
		segs = append(segs, Segment{Kind: Star})
	}
	if !p.acceptSym("}") {
		return nil, fmt.Errorf("unterminated variable segment: %s", name)
	}
	return segs, nil
}

// expectPChars reports whether t is made of RFC 3986 pchars.
func expectPChars(t string) error {
	pct := 0
	for _, r := range t {
		if pct > 0 {
			if !isHex(r) {
				return fmt.Errorf("invalid hexdigit: %q", r)
			}
			pct--
			continue
		}
		switch {
		case 'A' <= r && r <= 'Z', 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			continue
		}
		switch r {
		case '-', '.', '_', '~', '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', ':', '@':
		case '%':
			pct = 2
		default:
			return fmt.Errorf("invalid character in path segment: %q", r)
		}
	}
	if pct > 0 {
		return fmt.Errorf("invalid percent-encoding in %q", t)
	}
	return nil
}

// expectIdent reports whether s is a proto identifier.
func expectIdent(s string) error {
	if s == "" {
		return errors.New("empty identifier")
	}
	for i, r := range s {
		switch {
		case '0' <= r && r <= '9':
			if i == 0 {
				return fmt.Errorf("identifier starting with digit: %s", s)
			}
		case 'A' <= r && r <= 'Z', 'a' <= r && r <= 'z', r == '_':
		default:
			return fmt.Errorf("invalid character %q in identifier: %s", r, s)
		}
	}
	return nil
}

func isHex[T rune | byte](c T) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// Shape returns the template with variables flattened ("/v1/shelves/*:get"):
// two templates with the same shape match the same paths.
func (t *Template) Shape() string {
	var b strings.Builder
	for _, s := range t.Segments {
		b.WriteByte('/')
		switch s.Kind {
		case Star:
			b.WriteByte('*')
		case DeepStar:
			b.WriteString("**")
		default:
			b.WriteString(s.Literal)
		}
	}
	if t.Verb != "" {
		b.WriteByte(':')
		b.WriteString(t.Verb)
	}
	return b.String()
}
