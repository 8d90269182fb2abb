package core

import (
	"log/slog"

	"go.opentelemetry.io/otel/metric"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/internal/route"
)

// Settings are the runtime options, as the With... functions of package
// protocors (both middlewares) and package gateway (gateway only) set them.
type Settings struct {
	Files         *protoregistry.Files
	Default       *corspb.Policy
	Origins       []string
	OriginsSet    bool
	OriginOptions OriginOptions
	Logger        *slog.Logger
	Debug         bool
	// ProtectionOff and ReportOnly set the cross-origin request
	// protection; see Protection.
	ProtectionOff bool
	ReportOnly    bool
	// ProtectUnknown extends the protection to paths no route knows.
	ProtectUnknown bool
	// MeterProvider, when set, counts decisions (see Metrics).
	MeterProvider metric.MeterProvider

	// Gateway holds the options only gateway.New takes.
	Gateway GatewaySettings
}

// GatewaySettings are the gateway-only options: what the grpc-gateway mux
// cannot show the middleware.
type GatewaySettings struct {
	// Mode is the mux's runtime.UnescapingMode; the zero value,
	// route.ModeLegacy, is the mux's default. gateway.New refuses one out
	// of range.
	Mode           route.Mode
	NoFallback     bool
	NoOverride     bool
	StrictWildcard bool
	Routes         []ExtraRoute
	Order          []string
}

// ExtraRoute is a route given with gateway.WithRoute.
type ExtraRoute struct {
	Method, Template string
	Policy           *corspb.Policy
}

// Protection returns the protection mode the options ask for: on unless
// turned off; report-only when asked and not off.
func (s *Settings) Protection() Protection {
	switch {
	case s.ProtectionOff:
		return ProtectionOff
	case s.ReportOnly:
		return ProtectionReportOnly
	}
	return ProtectionOn
}

// NewSettings returns the settings before any option: descriptors from
// protoregistry.GlobalFiles, no default policy.
func NewSettings() Settings {
	return Settings{Files: protoregistry.GlobalFiles}
}

// defaultPolicy returns the runtime default policy (a copy of Default, with
// Origins as its allow_origins), nil for none, and the problems of the
// options that make it.
func (s *Settings) defaultPolicy() (*corspb.Policy, Problems) {
	var ps Problems
	if s.Files == nil {
		ps = append(ps, &Problem{Field: "protocors.WithFiles(nil)", Kind: KindOption,
			Message: "pass a registry, or omit the option to use protoregistry.GlobalFiles"})
	}
	if s.OriginsSet && len(s.Origins) == 0 {
		ps = append(ps, &Problem{Field: "protocors.WithOrigins()", Kind: KindOption,
			Message: "no origins given: omit the option to serve only the RPCs whose proto options list origins"})
	}
	var def *corspb.Policy
	if s.Default != nil {
		def = proto.CloneOf(s.Default)
	}
	if s.OriginsSet && len(s.Origins) > 0 {
		if def == nil {
			def = &corspb.Policy{}
		}
		def.AllowOrigins = append([]string(nil), s.Origins...)
	}
	// New checks every set a policy names against the bindings, given or
	// not.
	s.OriginOptions.CheckBindings = true
	if s.Logger != nil && len(s.OriginOptions.Sets) > 0 {
		s.OriginOptions.named = make(map[string]bool) // for logOriginSets
	}
	ps = append(ps, ValidateSets(s.OriginOptions.Sets, s.OriginOptions)...)
	return def, append(ps, ValidateDefault(def, s.OriginOptions)...)
}

// Applier is an option of either middleware: protocors.Option and
// gateway.Option both are.
type Applier interface{ ApplyTo(*Settings) }

// Apply returns base with opts applied in order; nil
// options are skipped.
func Apply[O Applier](opts []O, base Settings) Settings {
	for _, o := range opts {
		if Applier(o) != nil {
			o.ApplyTo(&base)
		}
	}
	return base
}
