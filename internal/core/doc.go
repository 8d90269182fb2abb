// Package core is the shared heart of protocors' two middlewares and its
// tools: it reads protocors.v1 policies from protobuf descriptors and merges
// their scopes (resolve.go), derives what the descriptors say about routes
// (descriptors.go: the extension reader, Connect paths and methods),
// validates policies into precise errors and shares compiled ones
// (validate.go), matches request origins (origin.go), parses the
// Access-Control-Request-Headers list (headers.go), holds the options both
// middlewares take (settings.go), and runs the CORS protocol for one route
// with header values computed up front (engine.go).
//
// Nothing here imports connect-go or grpc-gateway: the middlewares turn
// their routes into a [Config] per RPC, compile it once (an [Interner]
// shares equal ones), and per request call [ReadRequest], then
// [Engine.Preflight] or [Engine.Actual].
//
// The protocol follows the WHATWG Fetch standard's CORS protocol:
// https://fetch.spec.whatwg.org/#http-cors-protocol
package core
