package cfgerr_test

import (
	"errors"
	"io"
	"testing"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/internal/cfgerr"
	"github.com/protocors/protocors/internal/core"
)

func TestPublic(t *testing.T) {
	ps := core.Problems{
		{Descriptor: "shop.v1.Shop", Field: "max_age_seconds", Value: "90000", Message: "above one day", Kind: core.KindMaxAge},
		{Field: "gateway.WithUnescapingMode(9)", Message: "not a runtime.UnescapingMode", Kind: core.KindOption},
	}
	internal := ps.Err()
	err := cfgerr.Public(internal)
	var pe *protocors.Error
	if !errors.As(err, &pe) {
		t.Fatalf("Public(%T) = %T, want *protocors.Error", internal, err)
	}
	if got, want := err.Error(), internal.Error(); got != want {
		t.Errorf("text changed at the boundary:\n%s\nwant\n%s", got, want)
	}
	ce := internal.(*core.Error)
	if len(pe.Problems) != len(ce.Problems) {
		t.Fatalf("%d problems, want %d", len(pe.Problems), len(ce.Problems))
	}
	for i, p := range pe.Problems {
		c := ce.Problems[i]
		want := protocors.Problem{Descriptor: c.Descriptor, Field: c.Field, Value: c.Value, Message: c.Message, Kind: protocors.Kind(c.Kind)}
		if *p != want {
			t.Errorf("problem %d = %+v, want %+v", i, *p, want)
		}
		if p.Kind.String() != c.Kind.String() {
			t.Errorf("problem %d: kind %q, want %q", i, p.Kind, c.Kind)
		}
	}
	var p *protocors.Problem
	if !errors.As(err, &p) {
		t.Error("errors.As finds no *protocors.Problem")
	}
}

func TestPublicPassesOthers(t *testing.T) {
	for _, err := range []error{nil, io.EOF} {
		if got := cfgerr.Public(err); got != err {
			t.Errorf("Public(%v) = %v", err, got)
		}
	}
}
