package core

import (
	"strconv"
)

// Compile checks c's origins and precomputes everything the request path
// needs. The middlewares validate whole policies first ([Validate]) and
// compile through an [Interner], which cannot fail; Compile is for a
// Config built by hand.
func Compile(c Config) (*Engine, error) {
	for _, o := range c.Origins {
		if _, err := ParseOrigin(o, c.OriginOptions); err != nil {
			return nil, &Problem{Field: "allow_origins", Value: o, Message: err.Error(), Kind: kindOf(err, KindOrigin)}
		}
	}
	return compile(c), nil
}

// compile builds the Engine of a validated Config: every origin parses.
func compile(c Config) *Engine {
	e := &Engine{credentials: c.Credentials, debug: c.Debug}
	patterns := make([]originPattern, 0, len(c.Origins))
	for _, o := range c.Origins {
		if op, err := ParseOrigin(o, c.OriginOptions); err == nil {
			patterns = append(patterns, op)
		}
	}
	e.origins = newOriginMatcher(patterns)
	e.anyOrigin = e.origins.any && !c.Credentials
	var names []string
	for _, h := range c.AllowHeaders {
		if h == "*" {
			e.anyHeader = true
			continue
		}
		names = append(names, h)
	}
	names = append(names, c.ProtocolHeaders...)
	e.headers = newHeaderSet(names)
	e.allowAuth = e.headers.has("authorization")
	if c.MaxAge >= 0 {
		e.maxAge = strconv.Itoa(c.MaxAge)
	}
	return e
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
	if e := in.byIdentity[id]; e != nil {
		return e
	}
	k := c.key()
	e := in.byContent[k]
	if e == nil {
		e = compile(c)
		in.byContent[k] = e
	}
	in.byIdentity[id] = e
	return e
}
