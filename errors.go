package protocors

import "github.com/protocors/protocors/internal/core"

// Error is the error New and Reconfigure return when the configuration has
// problems: every one found, sorted, each once. Its message lists them one
// a line. Find it with errors.As:
//
//	var cfgErr *protocors.Error
//	if errors.As(err, &cfgErr) {
//		for _, p := range cfgErr.Problems { ... }
//	}
type Error = core.Error

// Problem is one thing wrong with the configuration: the Descriptor (full
// name of the method, service or file, "runtime default", or an option)
// whose option set the offending Value of Field, a Message that says what
// to fix, and a Kind to switch on. errors.As finds each *Problem in an
// *Error too.
type Problem = core.Problem

// Kind classifies a [Problem].
type Kind = core.Kind

// The kinds of [Problem].
const (
	KindOrigin         = core.KindOrigin         // an allow_origins value is not an origin as browsers send it
	KindWildcard       = core.KindWildcard       // a wildcard origin covers sites nobody controls (public suffixes)
	KindNullOrigin     = core.KindNullOrigin     // "null" without WithNullOriginAllowed
	KindInsecureOrigin = core.KindInsecureOrigin // plain http:// with credentials, without WithInsecureOriginsAllowed
	KindCredentials    = core.KindCredentials    // "*" origins or headers with allow_credentials
	KindHeader         = core.KindHeader         // a header name that is not a token, or Set-Cookie exposed
	KindMaxAge         = core.KindMaxAge         // max_age_seconds above one day
	KindMissingOrigins = core.KindMissingOrigins // CORS enabled with no origin at any scope
	KindRoute          = core.KindRoute          // a google.api.http rule or gateway route that does not parse
	KindAmbiguousRoute = core.KindAmbiguousRoute // overlapping routes of two services under different policies
	KindOption         = core.KindOption         // a runtime option given a value that makes no sense
	KindOriginSet      = core.KindOriginSet      // an origin set name that is invalid or not bound with WithOriginSet
)
