package protocors

import "github.com/protocors/protocors/internal/core"

// Error is the error [github.com/protocors/protocors/interceptor.New],
// [github.com/protocors/protocors/gateway.New] and their Reconfigure methods
// return when the configuration has problems: every one found, sorted, each
// once. Its message lists them one a line. Find it with
// errors.As:
//
//	var cfgErr *protocors.Error
//	if errors.As(err, &cfgErr) {
//		for _, p := range cfgErr.Problems {
//			log.Printf("%s: %s: %s", p.Descriptor, p.Field, p.Message)
//		}
//	}
//
// errors.As also finds each *[Problem] in an *Error directly.
type Error struct {
	// Problems holds every problem found, sorted by their messages, each
	// once (a service-level mistake is reported once, not per method).
	Problems []*Problem
}

// Error lists the problems, one a line. A nil *Error gives "<nil>".
func (e *Error) Error() string {
	if e == nil {
		return "<nil>"
	}
	return core.ErrorLines(e.Problems)
}

// Unwrap returns the problems, so that errors.As and errors.Is reach each
// *[Problem].
func (e *Error) Unwrap() []error {
	if e == nil {
		return nil
	}
	return core.Errors(e.Problems)
}

// Problem is one thing wrong with the configuration, named by the
// descriptor (or the option) that set the offending value.
type Problem struct {
	// Descriptor is the full name of the descriptor whose option set the
	// value: a method ("pkg.v1.Svc.Method"), a service, or a file path;
	// "runtime default" for [WithDefaultPolicy] and [WithOrigins]; the
	// option ("gateway.WithRoute GET /healthz") for other runtime options.
	Descriptor string
	// Field is the Policy field, with an index for list elements
	// ("allow_origins[1]"), or what else holds the value
	// ("google.api.http").
	Field string
	// Value is the offending value, "" when the problem is an absence.
	Value string
	// Message says what is wrong and how to fix it.
	Message string
	// Kind classifies the problem, for programs that treat some kinds
	// differently.
	Kind Kind
}

// Error formats the problem as one line:
// "protocors: Descriptor: Field "Value": Message". A nil *Problem gives
// "<nil>".
func (p *Problem) Error() string {
	if p == nil {
		return "<nil>"
	}
	return core.ProblemText(p.Descriptor, p.Field, p.Value, p.Message)
}

// Kind says what sort of mistake a [Problem] is, for programs that treat
// some differently (a lint plugin that leaves missing origins to the
// deployment, a test that expects one kind).
type Kind uint8

// KindOrigin means an allow_origins value (or a [WithOrigins] or
// [WithOriginSet] member) is not an origin as browsers send it: a path,
// upper case, a default port, userinfo, ...
const KindOrigin Kind = 1

// KindWildcard means a wildcard origin covers sites nobody controls: its
// base is a public suffix, or some host it matches lies under a longer
// one.
const KindWildcard Kind = 2

// KindNullOrigin means allow_origins holds "null" without
// [WithNullOriginAllowed].
const KindNullOrigin Kind = 3

// KindInsecureOrigin means a plain http:// origin other than loopback with
// allow_credentials, without [WithInsecureOriginsAllowed].
const KindInsecureOrigin Kind = 4

// KindCredentials means "*" (origins or headers) with allow_credentials.
const KindCredentials Kind = 5

// KindHeader means an allow_headers or expose_headers value is not a header
// name (an RFC 9110 token), or cannot be exposed (Set-Cookie).
const KindHeader Kind = 6

// KindMaxAge means max_age_seconds is above one day.
const KindMaxAge Kind = 7

// KindMissingOrigins means CORS is enabled and no scope, the runtime
// default included, lists an origin.
const KindMissingOrigins Kind = 8

// KindRoute means a google.api.http rule or a gateway.WithRoute route does
// not parse.
const KindRoute Kind = 9

// KindAmbiguousRoute means routes of two services can match the same request
// under different policies, and their registration order is unknown.
const KindAmbiguousRoute Kind = 10

// KindOption means a runtime option was given a value that makes no sense.
const KindOption Kind = 11

// KindOriginSet means a policy names an origin set that is not a valid name
// or that no [WithOriginSet] binds.
const KindOriginSet Kind = 12

// String returns the kind's name in lower case ("missing origins"), or
// "Kind(N)" for a value that is none of the constants.
func (k Kind) String() string { return core.Kind(k).String() }
