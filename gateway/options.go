package gateway

import (
	"log/slog"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/internal/core"
)

// An Option configures [New].
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	core.Settings
	mode           runtime.UnescapingMode
	noFallback     bool
	noOverride     bool
	strictWildcard bool
	extra          []extraRoute
	order          []string
}

// extraRoute is a route added with WithRoute.
type extraRoute struct {
	method, template string
	policy           *corspb.Policy
}

// WithFiles sets the descriptor source the routes and policies are read
// from. The default is protoregistry.GlobalFiles, which the generated code
// of every imported .proto package fills. A registry built at run time with
// protodesc works too: google.api.http rules and protocors policies are
// read whether they arrive as typed extensions, dynamic messages or unknown
// fields.
func WithFiles(files *protoregistry.Files) Option {
	return optionFunc(func(c *config) { c.Files = files })
}

// WithDefaultPolicy sets the runtime default policy, the outermost scope:
// each field it sets applies to every RPC unless the file, service or method
// options set it too. With a default policy every RPC with a google.api.http
// rule is CORS-enabled, except where an option says enabled: false. The
// policy is copied.
func WithDefaultPolicy(p *corspb.Policy) Option {
	return optionFunc(func(c *config) { c.Default = p })
}

// WithOrigins is shorthand for a default policy allowing these origins: the
// deployment's list of authorized hosts ("https://app.example.com",
// "https://*.example.com", "http://localhost:*", "*"). Together with
// [WithDefaultPolicy] it sets that policy's allow_origins. Several calls add
// up. Options in the .proto files that list origins take precedence for
// their scope.
func WithOrigins(origins ...string) Option {
	return optionFunc(func(c *config) {
		c.Origins = append(c.Origins, origins...)
		c.OriginsSet = true
	})
}

// WithNullOriginAllowed accepts the origin "null" in allow_origins.
// Sandboxed iframes, file: URLs and some redirects all send Origin: null, so
// allowing it allows all of them at once; New refuses it without this
// option.
func WithNullOriginAllowed() Option {
	return optionFunc(func(c *config) { c.OriginOptions.AllowNull = true })
}

// WithInsecureOriginsAllowed accepts plain http:// origins other than
// loopback together with allow_credentials (a network attacker can forge
// such an origin). New refuses that combination without this option.
func WithInsecureOriginsAllowed() Option {
	return optionFunc(func(c *config) { c.OriginOptions.AllowInsecure = true })
}

// WithLogger logs every refused preflight at level Info with the route
// template, the RPC, the origin, the requested method, the reason and the
// offending value: the quickest way to see why a browser reports a CORS
// error. Without a logger nothing is logged and nothing is allocated for it.
func WithLogger(logger *slog.Logger) Option {
	return optionFunc(func(c *config) { c.Logger = logger })
}

// WithDebug answers a preflight from an allowed origin that asks for a
// method or header the route does not allow with 204 and
// Access-Control-Allow-Origin but without the missing grant, instead of 403
// without CORS headers, so the browser's console names what is missing. It
// reveals that the origin is allowed: use it in development only.
func WithDebug(debug bool) Option {
	return optionFunc(func(c *config) { c.Debug = debug })
}

// WithUnescapingMode tells the middleware which runtime.UnescapingMode the
// mux was built with (runtime.WithUnescapingMode), since the mux does not
// expose it. It decides whether paths are matched raw or unescaped, and
// whether "%2F" separates segments. The default is the mux's default,
// runtime.UnescapingModeDefault.
func WithUnescapingMode(mode runtime.UnescapingMode) Option {
	return optionFunc(func(c *config) { c.mode = mode })
}

// WithDisablePathLengthFallback mirrors runtime.WithDisablePathLengthFallback:
// pass it when the mux was built with that option, so a form POST is not
// taken for the GET route the mux would otherwise run.
func WithDisablePathLengthFallback() Option {
	return optionFunc(func(c *config) { c.noFallback = true })
}

// WithDisableHTTPMethodOverride mirrors runtime.WithDisableHTTPMethodOverride:
// pass it when the mux was built with that option, so X-HTTP-Method-Override
// is ignored as the mux ignores it.
func WithDisableHTTPMethodOverride() Option {
	return optionFunc(func(c *config) { c.noOverride = true })
}

// WithStrictDeepWildcardMatching mirrors runtime.WithStrictDeepWildcardMatching:
// pass it when the mux was built with that option.
func WithStrictDeepWildcardMatching() Option {
	return optionFunc(func(c *config) { c.strictWildcard = true })
}

// WithRoute adds a route the descriptors do not show: a handler registered
// with ServeMux.HandlePath, or a rule from a gRPC API Configuration (YAML)
// file. method is the HTTP method, pathTemplate a google.api.http path
// template ("/healthz", "/v1/{name=files/**}:download"), and p the route's
// policy, merged over the runtime default like a method option (nil: the
// default alone). A route without any policy still takes part in matching,
// as its handler does in the mux, and its requests pass through untouched.
//
// Added routes are matched as if registered after every generated handler,
// in the order given, so a later one wins when several match, as with
// HandlePath. Content-Type is allowed on them unless the method is GET,
// HEAD or DELETE.
func WithRoute(method, pathTemplate string, p *corspb.Policy) Option {
	return optionFunc(func(c *config) {
		c.extra = append(c.extra, extraRoute{method: method, template: pathTemplate, policy: p})
	})
}

// WithCrossOriginProtection turns the cross-origin request protection on
// (the default) or off. With it on, a request to a route whose method is
// not GET, HEAD or OPTIONS, that a browser marks as cross-origin
// (Sec-Fetch-Site "cross-site" or "same-site"; without Sec-Fetch-Site, an
// Origin whose host differs from the request's Host), and whose Origin the
// RPC's policy does not allow, gets 403 before the wrapped handler runs.
// This is net/http.CrossOriginProtection's rule with the trusted origins
// taken from each RPC's policy: CORS alone decides only what a page may
// read, and a browser sends form, multipart and text/plain POSTs to any
// origin without asking first. Requests without Origin and Sec-Fetch-Site
// (non-browser clients) and same-origin requests are never refused. Turn
// it off only where another layer already refuses such requests.
func WithCrossOriginProtection(on bool) Option {
	return optionFunc(func(c *config) { c.ProtectionOff = !on })
}

// WithCrossOriginReportOnly, with on true, keeps the cross-origin request
// protection's checks but lets the requests it would refuse through, and
// logs them (at Info, with [WithLogger]): a way to roll the protection out
// and see what it would refuse first. It has no effect when
// [WithCrossOriginProtection](false) turned the protection off.
func WithCrossOriginReportOnly(on bool) Option {
	return optionFunc(func(c *config) { c.ReportOnly = on })
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
	return optionFunc(func(c *config) { c.order = append(c.order, services...) })
}
