package main

import (
	"fmt"
	"io"
	"net/http"

	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/protocors/protocors/internal/inspect"
	"github.com/protocors/protocors/internal/route"
)

// sideEffectGETs lists the GET and HEAD bindings of methods whose
// idempotency_level does not say they are free of side effects. The
// cross-origin request protection never refuses GET and HEAD (they must not
// change state), and grpc-gateway's mux runs a GET route for a form POST
// to the same path when no POST route matches (its path-length fallback),
// so a page on any site can run such a method with a cross-site form.
func sideEffectGETs(img *inspect.Image) []string {
	var out []string
	for _, md := range img.Methods() {
		level := descriptorpb.MethodOptions_IDEMPOTENCY_UNKNOWN
		if o, ok := md.Options().(*descriptorpb.MethodOptions); ok {
			level = o.GetIdempotencyLevel()
		}
		if level != descriptorpb.MethodOptions_IDEMPOTENCY_UNKNOWN {
			continue // NO_SIDE_EFFECTS or IDEMPOTENT: said to be safe to repeat
		}
		for _, b := range route.Bindings(md) {
			if b.Method != http.MethodGet && b.Method != http.MethodHead {
				continue
			}
			out = append(out, fmt.Sprintf("protocors check: warning: %s: %s %s binds a method whose idempotency_level is not NO_SIDE_EFFECTS or IDEMPOTENT. "+
				"The cross-origin request protection lets GET and HEAD through (they must not change state), and the mux runs this route for a cross-site form POST to the same path; "+
				"if the method changes nothing, say so with `option idempotency_level = NO_SIDE_EFFECTS;`, otherwise bind it to POST, PUT, PATCH or DELETE",
				md.FullName(), b.Method, b.Path))
		}
	}
	return out
}

// warnSideEffectGETs writes check's warnings about side-effecting GETs.
func warnSideEffectGETs(img *inspect.Image, stderr io.Writer) {
	for _, w := range sideEffectGETs(img) {
		fmt.Fprintln(stderr, w)
	}
}
