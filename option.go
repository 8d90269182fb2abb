package protocors

import (
	"log/slog"

	"go.opentelemetry.io/otel/metric"

	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/internal/core"
)

// An Option configures both middlewares:
// [github.com/protocors/protocors/interceptor.New],
// [github.com/protocors/protocors/gateway.New] and their Reconfigure methods
// take every Option. Options only gateway.New takes are gateway.Option
// values of their own, which interceptor.New refuses at compile time.
//
// The ApplyTo method is how the middlewares read an option; its argument
// type is internal to this module, so options can only be made by the With
// functions.
type Option interface {
	ApplyTo(*core.Settings)
	shared()
}

type option func(*core.Settings)

func (o option) ApplyTo(s *core.Settings) { o(s) }
func (option) shared()                    {}

// WithOptions composes options into one, so a program can build the
// deployment's options once and give the same value to both middlewares:
//
//	shared := protocors.WithOptions(
//		protocors.WithOrigins(origins...),
//		protocors.WithLogger(logger),
//	)
//	connectCORS, err := interceptor.New(shared)
//	gatewayCORS, err := gateway.New(shared,
//		gateway.WithRegistrationOrder("shop.v1.Admin", "shop.v1.Public"))
//
// The options apply in order, as if given one by one.
func WithOptions(opts ...Option) Option {
	return option(func(s *core.Settings) {
		*s = core.Apply(opts, *s)
	})
}

// WithFiles sets the descriptor source the policies, procedures and
// google.api.http routes are read from. The default is
// protoregistry.GlobalFiles, which the generated code of every imported
// .proto package fills. A registry built at run time with protodesc works
// too: options are read whether they arrive as typed extensions, dynamic
// messages or unknown fields.
func WithFiles(files *protoregistry.Files) Option {
	return option(func(s *core.Settings) { s.Files = files })
}

// WithDefaultPolicy sets the runtime default policy, the outermost scope:
// each field it sets applies to every RPC unless the file, service or
// method options set it too. With a default policy every RPC is
// CORS-enabled, except where an option says enabled: false. The policy is
// copied; later changes to p have no effect.
func WithDefaultPolicy(p *corspb.Policy) Option {
	return option(func(s *core.Settings) { s.Default = p })
}

// WithOrigins is shorthand for a default policy allowing these origins: the
// deployment's list of authorized hosts ("https://app.example.com",
// "https://*.example.com", "http://localhost:*", "*"). Together with
// [WithDefaultPolicy] it sets that policy's allow_origins. Several calls add
// up. Options in the .proto files that list origins take precedence for
// their scope.
func WithOrigins(origins ...string) Option {
	return option(func(s *core.Settings) {
		s.Origins = append(s.Origins, origins...)
		s.OriginsSet = true
	})
}

// WithOriginSet binds the members of the origin set name: the origins the
// proto options mean where they say allow_origin_sets: ["name"]. Sets are
// how a proto names groups of hosts ("admin", "partner") whose members
// differ per deployment. Members are written like allow_origins entries and
// validated the same way; several calls for one name add up. An enabled RPC
// that names a set no option binds fails New, naming the RPC and the set
// (and the bound set whose name is close, if any). A set bound to no
// origins allows nobody, and a set that no enabled RPC names allows nothing:
// with [WithLogger], each is logged as a warning once per logger and
// process, not again on every reload through the middlewares' Reconfigure.
func WithOriginSet(name string, origins ...string) Option {
	return option(func(s *core.Settings) {
		if s.OriginOptions.Sets == nil {
			s.OriginOptions.Sets = make(map[string][]string)
		}
		s.OriginOptions.Sets[name] = append(s.OriginOptions.Sets[name], origins...)
	})
}

// WithNullOriginAllowed, with allow true, accepts the origin "null" in
// allow_origins. Pages in sandboxed iframes, file: URLs and some redirects
// send Origin: null, so allowing it allows all of them at once; New refuses
// it without this option.
func WithNullOriginAllowed(allow bool) Option {
	return option(func(s *core.Settings) { s.OriginOptions.AllowNull = allow })
}

// WithInsecureOriginsAllowed, with allow true, accepts plain http:// origins
// other than loopback together with allow_credentials (a network attacker
// can forge such an origin). New refuses that combination without this
// option.
func WithInsecureOriginsAllowed(allow bool) Option {
	return option(func(s *core.Settings) { s.OriginOptions.AllowInsecure = allow })
}

// WithLogger logs every refusal at level Info: refused preflights with the
// route or procedure, the RPC, the origin, the requested method, the reason
// and the offending value (the quickest way to see why a browser reports a
// CORS error), and requests refused (or, in report-only mode, reported) by
// the cross-origin request protection. Without a logger (or with nil)
// nothing is logged and nothing is allocated for it.
func WithLogger(logger *slog.Logger) Option {
	return option(func(s *core.Settings) { s.Logger = logger })
}

// WithDebug, with debug true, answers a preflight from an allowed origin
// that asks for a method or header the RPC does not allow with 204 and the
// origin granted but the missing method or header left out, instead of 403
// without CORS headers, so the browser's console names what is missing. It
// reveals that the origin is allowed: use it in development only.
func WithDebug(debug bool) Option {
	return option(func(s *core.Settings) { s.Debug = debug })
}

// WithMeterProvider counts every CORS decision per RPC with an
// OpenTelemetry counter named protocors.decisions on a meter of mp: refused
// preflights by reason, actual cross-origin requests granted or not,
// requests the cross-origin request protection refused or reported. Its
// attributes follow OpenTelemetry's RPC semantic conventions (rpc.system,
// rpc.service, rpc.method; gateway routes add http.route and
// http.request.method) plus protocors.outcome and, for refused preflights,
// protocors.reason ("origin", "method", "header", "malformed"). The Origin
// itself is never an attribute (its values are unbounded): find refused
// origins in the log ([WithLogger]). Without this option (or with nil)
// nothing is measured and nothing is allocated for it.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return option(func(s *core.Settings) { s.MeterProvider = mp })
}

// WithCrossOriginProtection turns the cross-origin request protection on
// (the default) or off. With it on, a request to an RPC the middleware
// knows (a Connect procedure of the descriptor source; a gateway route)
// whose method is not GET, HEAD or OPTIONS (for the gateway: the method of
// the RPC the mux would run, after method override and form fallback), that
// a browser marks as cross-origin (Sec-Fetch-Site "cross-site" or
// "same-site"; without Sec-Fetch-Site, an Origin whose host differs from
// the request's Host), and whose Origin the RPC's policy does not allow,
// gets 403 before the wrapped handler runs. So does such a request from an
// allowed origin that carries credentials (a Cookie, an Authorization
// header a browser attaches by itself, a TLS client certificate) when the
// policy does not set allow_credentials: the browser would have blocked
// its preflighted form. A bearer token the page set passes where the policy
// lists Authorization by name.
//
// This is net/http.CrossOriginProtection's rule with the trusted origins
// taken from each RPC's policy: CORS alone decides only what a page may
// read, and a browser sends form, multipart and text/plain POSTs to any
// origin without asking first. Requests without Origin and Sec-Fetch-Site
// (non-browser clients) and same-origin requests are never refused; the
// Content-Type never decides that a request comes from no browser. Turn it
// off only where another layer already refuses such requests.
func WithCrossOriginProtection(on bool) Option {
	return option(func(s *core.Settings) { s.ProtectionOff = !on })
}

// WithCrossOriginReportOnly, with on true, keeps the cross-origin request
// protection's checks but lets the requests it would refuse through, and
// logs them with [WithLogger]: a way to roll the protection out and see
// what it would refuse first. It has no effect when
// [WithCrossOriginProtection](false) turned the protection off.
func WithCrossOriginReportOnly(on bool) Option {
	return option(func(s *core.Settings) { s.ReportOnly = on })
}

// WithUnknownPathProtection, with on true, extends the cross-origin request
// protection to requests for paths no RPC of the middleware knows: a handler
// beside the Connect handlers in the mux that interceptor.Handler wraps, a
// gateway HandlePath route not given with gateway.WithRoute. An unsafe
// request (not GET, HEAD or OPTIONS) that the browser marks cross-origin is
// then refused with 403 there, as net/http.CrossOriginProtection refuses it,
// since no policy trusts any origin for such a path. Off by default: the
// middlewares leave what they do not know alone. Turn it on when the wrapped
// mux serves state-changing handlers of its own and nothing else protects
// them. [WithCrossOriginReportOnly] applies to it too.
func WithUnknownPathProtection(on bool) Option {
	return option(func(s *core.Settings) { s.ProtectUnknown = on })
}
