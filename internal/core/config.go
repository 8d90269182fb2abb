package core

import (
	"fmt"
	"sort"
	"strings"
)

// Config is the validated input of [Compile]: one route's effective policy
// plus the protocol's own headers.
type Config struct {
	// Origins are allow_origins entries, as accepted by ParseOrigin.
	Origins []string
	// OriginOptions are the relaxations ParseOrigin was validated with.
	OriginOptions OriginOptions
	// Credentials sends Access-Control-Allow-Credentials: true.
	Credentials bool
	// AllowHeaders are the application's request headers; "*" allows any
	// but Authorization.
	AllowHeaders []string
	// ProtocolHeaders are request headers the RPC protocol itself sends;
	// always allowed.
	ProtocolHeaders []string
	// MaxAge is Access-Control-Max-Age in seconds; negative omits it.
	MaxAge int
	// Debug answers refused preflights in a way that makes the browser's
	// console name the check that failed (see Engine.Preflight).
	Debug bool
}

// ConfigOf turns a validated effective policy into a Config, with the
// protocol's own request headers always allowed.
func ConfigOf(e *Effective, opts OriginOptions, protocolHeaders []string) Config {
	pol := e.Policy
	c := Config{
		Origins:         Origins(pol, opts),
		OriginOptions:   opts,
		Credentials:     pol.GetAllowCredentials(),
		AllowHeaders:    pol.AllowHeaders,
		ProtocolHeaders: protocolHeaders,
		MaxAge:          -1,
	}
	if pol.MaxAgeSeconds != nil {
		c.MaxAge = int(pol.GetMaxAgeSeconds())
	}
	return c
}

// key returns a string that is equal for two Configs exactly when they
// compile to policies that answer every request alike.
func (c *Config) key() string {
	var b strings.Builder
	list := func(l []string, lower bool) {
		s := append([]string(nil), l...)
		if lower {
			for i := range s {
				s[i] = strings.ToLower(s[i])
			}
		}
		sort.Strings(s)
		b.WriteString(strings.Join(s, ","))
		b.WriteByte('|')
	}
	list(c.Origins, false)
	list(append(append([]string(nil), c.AllowHeaders...), c.ProtocolHeaders...), true)
	fmt.Fprintf(&b, "%t|%t|%t|%d|%t", c.Credentials, c.OriginOptions.AllowNull, c.OriginOptions.AllowInsecure, c.MaxAge, c.Debug)
	return b.String()
}
