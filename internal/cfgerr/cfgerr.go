// Package cfgerr turns the configuration error of internal/core into the
// public one of the root package. It is the boundary: internal/core must
// not import the root package (the root imports it), so core builds
// *core.Error and the middlewares hand their callers *protocors.Error.
package cfgerr

import (
	"github.com/protocors/protocors"
	"github.com/protocors/protocors/internal/core"
)

// Public returns the *protocors.Error equivalent to err when err is a
// *core.Error (what core.Pipeline.Err returns), and err itself otherwise.
func Public(err error) error {
	ce, ok := err.(*core.Error)
	if !ok || ce == nil {
		return err
	}
	pe := &protocors.Error{Problems: make([]*protocors.Problem, len(ce.Problems))}
	for i, p := range ce.Problems {
		pe.Problems[i] = &protocors.Problem{
			Descriptor: p.Descriptor,
			Field:      p.Field,
			Value:      p.Value,
			Message:    p.Message,
			Kind:       protocors.Kind(p.Kind),
		}
	}
	return pe
}
