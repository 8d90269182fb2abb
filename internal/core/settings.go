package core

import (
	"errors"
	"fmt"
	"log/slog"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/protocors/protocors/corspb"
)

// Settings are the runtime options both middlewares take (WithFiles,
// WithDefaultPolicy, WithOrigins, WithNullOriginAllowed,
// WithInsecureOriginsAllowed, WithLogger, WithDebug,
// WithCrossOriginProtection, WithCrossOriginReportOnly).
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

// DefaultPolicy checks the settings given to package pkg and returns the
// runtime default policy (a copy of Default, with Origins as its
// allow_origins), nil for none, and the problems of that policy. The error
// is for options that make no sense at all.
func (s *Settings) DefaultPolicy(pkg string) (*corspb.Policy, Problems, error) {
	if s.Files == nil {
		return nil, nil, fmt.Errorf("protocors: %s.WithFiles(nil): pass a registry, or omit the option to use protoregistry.GlobalFiles", pkg)
	}
	if s.OriginsSet && len(s.Origins) == 0 {
		return nil, nil, errors.New("protocors: " + pkg + ".WithOrigins(): no origins given; omit the option to serve only the RPCs whose proto options list origins")
	}
	var def *corspb.Policy
	if s.Default != nil {
		def = proto.CloneOf(s.Default)
	}
	if s.OriginsSet {
		if def == nil {
			def = &corspb.Policy{}
		}
		def.AllowOrigins = append([]string(nil), s.Origins...)
	}
	return def, ValidateDefault(def, s.OriginOptions), nil
}
