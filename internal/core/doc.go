// Package core is the shared heart of protocors' two middlewares: it reads
// protocors.v1 policies from protobuf descriptors and merges their scopes
// (resolve.go), validates them into precise errors (validate.go), matches
// request origins against the allowed ones (origin.go), parses the
// Access-Control-Request-Headers list (headers.go), and runs the CORS protocol
// for one route with header values computed up front (engine.go).
//
// Nothing here knows about connect-go or grpc-gateway: the middlewares turn
// their routes into a [Config] per RPC, [Compile] it once, and call
// [Policy.Preflight] or [Policy.Actual] per request.
//
// The protocol follows the WHATWG Fetch standard's CORS protocol:
// https://fetch.spec.whatwg.org/#http-cors-protocol
package core
