package core

// Reason says why a preflight was refused.
type Reason uint8

const (
	// Allowed: the preflight succeeded.
	Allowed Reason = iota
	// OriginNotAllowed: the Origin is missing from the policy, malformed,
	// or sent on several lines.
	OriginNotAllowed
	// MethodNotAllowed: the route does not bind Access-Control-Request-Method.
	MethodNotAllowed
	// HeaderNotAllowed: a name in Access-Control-Request-Headers is not allowed.
	HeaderNotAllowed
	// MalformedRequest: Access-Control-Request-Headers is not a list of
	// tokens, or asks for too many.
	MalformedRequest
)

func (r Reason) String() string {
	switch r {
	case Allowed:
		return "allowed"
	case OriginNotAllowed:
		return "origin not allowed"
	case MethodNotAllowed:
		return "method not allowed"
	case HeaderNotAllowed:
		return "header not allowed"
	default:
		return "malformed request headers"
	}
}

// Outcome is the result of a preflight: the reason, and the offending value
// (the origin, method or header name) when refused. Value is a substring of
// the request and must not be retained past the request.
type Outcome struct {
	Reason Reason
	Value  string
}
