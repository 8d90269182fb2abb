package interceptor

import (
	"log/slog"

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
}

// WithFiles sets the descriptor source the policies and procedures are read
// from. The default is protoregistry.GlobalFiles, which the generated code
// of every imported .proto package fills. Pass a registry built with
// protodesc for descriptors loaded at run time; policies that arrive there
// as unknown fields or dynamic messages are read too.
func WithFiles(files *protoregistry.Files) Option {
	return optionFunc(func(c *config) {
		c.Files = files
	})
}

// WithDefaultPolicy sets the runtime default policy, the outermost scope:
// every field it sets applies to every method of the descriptor source
// unless the file, service or method options set it too. With a default
// policy every method is CORS-enabled, except where an option says
// enabled: false. The policy is copied; later changes to p have no effect.
func WithDefaultPolicy(p *corspb.Policy) Option {
	return optionFunc(func(c *config) { c.Default = p })
}

// WithOrigins is shorthand for a default policy allowing these origins: the
// deployment's list of authorized hosts ("https://app.example.com",
// "https://*.example.com", "http://localhost:*", "*"). Together with
// [WithDefaultPolicy] it sets that policy's allow_origins. Several calls add
// up. Options in the .proto files that list origins still take precedence
// for their scope.
func WithOrigins(origins ...string) Option {
	return optionFunc(func(c *config) {
		c.Origins = append(c.Origins, origins...)
		c.OriginsSet = true
	})
}

// WithNullOriginAllowed accepts the origin "null" in allow_origins. Pages
// in sandboxed iframes, file: URLs and some redirects send Origin: null, so
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

// WithLogger logs every refused preflight at level Info, with the
// procedure, the origin, the requested method, the reason and the
// offending value: the quickest way to see why a browser reports a CORS
// error. Without a logger (or with nil) nothing is logged and nothing is
// allocated for it.
func WithLogger(logger *slog.Logger) Option {
	return optionFunc(func(c *config) { c.Logger = logger })
}

// WithDebug answers a preflight from an allowed origin that asks for a
// method or header the procedure does not allow with 204 and
// Access-Control-Allow-Origin but without the missing grant, instead of 403
// without CORS headers, so the browser's console names the method or
// header that is missing. It reveals that the origin is allowed: use it in
// development only.
func WithDebug(debug bool) Option {
	return optionFunc(func(c *config) { c.Debug = debug })
}

// WithCrossOriginProtection turns the cross-origin request protection on
// (the default) or off. With it on, a request to a procedure whose method is
// not GET, HEAD or OPTIONS, that a browser marks as cross-origin
// (Sec-Fetch-Site "cross-site" or "same-site"; without Sec-Fetch-Site, an
// Origin whose host differs from the request's Host), and whose Origin the
// procedure's policy does not allow, gets 403 before the wrapped handler runs.
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
