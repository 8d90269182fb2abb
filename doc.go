// Package protocors holds what its two CORS middlewares share: the options
// both take and the configuration error both return. The middlewares
// themselves live in two packages, one per kind of server:
//
//   - [github.com/protocors/protocors/interceptor] in front of Connect
//     handlers (connectrpc.com/connect), where the route is the procedure
//     path "/pkg.Service/Method";
//   - [github.com/protocors/protocors/gateway] in front of a grpc-gateway
//     runtime.ServeMux (or any transcoder of google.api.http rules), where
//     the route is the REST binding the mux would run.
//
// Both read the CORS policy of every RPC from protocors.v1 options in the
// .proto files ([github.com/protocors/protocors/corspb]), merge its scopes
// (runtime default, file, service, method), validate everything in New, and
// answer each request with header values computed there.
//
//	shared := protocors.WithOptions(
//		protocors.WithOrigins("https://app.example.com"),
//		protocors.WithLogger(slog.Default()),
//	)
//	connectCORS, err := interceptor.New(shared)
//	...
//	gatewayCORS, err := gateway.New(shared,
//		gateway.WithRegistrationOrder("shop.v1.Admin", "shop.v1.Public"))
//
// # Options
//
// Every With function of this package returns an [Option] that both
// [github.com/protocors/protocors/interceptor.New] and
// [github.com/protocors/protocors/gateway.New] accept (and their Reconfigure
// methods); [WithOptions] makes one Option of several, to build the
// deployment's options once. Options only the gateway understands are in
// package gateway; passing one to interceptor.New does not compile.
//
// # Errors
//
// New returns an *[Error] listing every [Problem] found, each naming the
// descriptor (or option) that set the offending value, the field, the value,
// what to do about it, and a [Kind] to switch on. The protocors command
// (`protocors check`, in cmd/protocors) validates the same way, so it
// reports exactly what New would.
//
// How the code is organised, and how to run every test, is in the
// repository's CONTRIBUTING.md.
//
// The CORS protocol is the WHATWG Fetch standard's:
// https://fetch.spec.whatwg.org/#http-cors-protocol
package protocors
