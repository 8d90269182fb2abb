package gateway

import (
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"

	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/internal/core"
	"github.com/protocors/protocors/internal/route"
)

// An Option configures [New] and [Middleware.Reconfigure]: every
// protocors.With... option (shared with package interceptor), and the
// gateway-only options of this package, which tell the middleware what the
// grpc-gateway mux cannot show.
//
// The ApplyTo method is how the middleware reads an option; its argument
// type is internal to this module, so options can only be made by the With
// functions.
type Option interface {
	ApplyTo(*core.Settings)
}

// option is a gateway-only option. It is not a protocors.Option, so
// interceptor.New refuses it at compile time.
type option func(*core.GatewaySettings)

func (o option) ApplyTo(s *core.Settings) { o(&s.Gateway) }

// WithUnescapingMode tells the middleware which runtime.UnescapingMode the
// mux was built with (runtime.WithUnescapingMode), since the mux does not
// expose it. It decides whether paths are matched raw or unescaped, and
// whether "%2F" separates segments. The default is the mux's default,
// runtime.UnescapingModeDefault.
func WithUnescapingMode(mode runtime.UnescapingMode) Option {
	return option(func(g *core.GatewaySettings) { g.Mode = route.Mode(mode) })
}

// WithDisablePathLengthFallback mirrors runtime.WithDisablePathLengthFallback
// (and, like it, takes no argument): pass it when the mux was built with
// that option, so a form POST is not taken for the GET route the mux would
// otherwise run.
func WithDisablePathLengthFallback() Option {
	return option(func(g *core.GatewaySettings) { g.NoFallback = true })
}

// WithDisableHTTPMethodOverride mirrors runtime.WithDisableHTTPMethodOverride:
// pass it when the mux was built with that option, so X-HTTP-Method-Override
// is ignored as the mux ignores it.
func WithDisableHTTPMethodOverride() Option {
	return option(func(g *core.GatewaySettings) { g.NoOverride = true })
}

// WithStrictDeepWildcardMatching mirrors runtime.WithStrictDeepWildcardMatching:
// pass it when the mux was built with that option.
func WithStrictDeepWildcardMatching() Option {
	return option(func(g *core.GatewaySettings) { g.StrictWildcard = true })
}

// WithRoute adds a route the descriptors do not show: a handler registered
// with ServeMux.HandlePath, or a rule from a gRPC API Configuration (YAML)
// file. method is the HTTP method, pathTemplate a google.api.http path
// template ("/healthz", "/v1/{name=files/**}:download"), and p the route's
// policy, merged over the runtime default like a method option (nil: the
// default alone). A route without any policy still takes part in matching,
// as its handler does in the mux; the cross-origin request protection
// applies to it.
//
// Added routes are matched as if registered after every generated handler,
// in the order given, so a later one wins when several match, as with
// HandlePath. Content-Type is allowed on them unless the method is GET,
// HEAD or DELETE.
func WithRoute(method, pathTemplate string, p *corspb.Policy) Option {
	return option(func(g *core.GatewaySettings) {
		g.Routes = append(g.Routes, core.ExtraRoute{Method: method, Template: pathTemplate, Policy: p})
	})
}

// WithRegistrationOrder gives the order in which the program calls the
// generated Register...Handler functions of these services (full names,
// "pkg.v1.FooService"), first to last. grpc-gateway's mux runs the route
// registered last when several match a request, and the middleware cannot
// see that order; so when routes of one HTTP method from different services
// can match the same path under different CORS policies, New fails naming
// both, unless this option names both services. Services it does not name
// count as registered before those it names.
func WithRegistrationOrder(services ...string) Option {
	return option(func(g *core.GatewaySettings) { g.Order = append(g.Order, services...) })
}
