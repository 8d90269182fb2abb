// Package interceptor lets browser pages on other origins call Connect
// services (connectrpc.com/connect) as the protocors.v1 options in their
// .proto files allow:
//
//	mw, err := interceptor.New(protocors.WithOrigins("https://app.example.com"))
//	if err != nil {
//		log.Fatal(err) // every policy mistake, by descriptor, field and value
//	}
//	mux := http.NewServeMux()
//	mux.Handle(mw.Wrap(icecreamv1connect.NewIceCreamServiceHandler(svc)))
//
// # Why net/http middleware and not a connect.Interceptor
//
// Before a browser sends a cross-origin Connect or gRPC-Web request it sends a
// preflight: an OPTIONS request carrying Origin and
// Access-Control-Request-Method. A Connect handler answers OPTIONS with 405
// Method Not Allowed before any connect.Interceptor runs, so an interceptor
// never sees preflights and cannot grant them. The answer has to come from
// in front of the handler, which is what [Middleware.Wrap] and
// [Middleware.Handler] put there. For the same reason the CORS headers of
// actual requests are set before the Connect handler runs, so responses the
// handler writes itself (404 for an unimplemented procedure, 415, deadline
// errors, any error a service returns) still carry them and the page can read
// the error.
//
// # Routes and policies
//
// The procedure is the URL path, "/pkg.Service/Method"; its method
// descriptor comes from the descriptor source ([protocors.WithFiles], by
// default protoregistry.GlobalFiles, which generated code fills when its
// package is imported). [New] walks every service of that source, merges
// each method's policy from the runtime default
// ([protocors.WithDefaultPolicy], [protocors.WithOrigins]), the file,
// service and method options, validates all of them and compiles them
// once. Requests to paths the table does not hold, and to methods with no
// policy at any scope or with enabled: false, pass through untouched.
//
// Allowed methods are derived from the descriptor, never configured: POST
// for every procedure, and GET as well for unary methods declared with
// idempotency_level = NO_SIDE_EFFECTS (Connect GET, connect.WithHTTPGet).
// Streaming procedures are POST only.
//
// # Protocol headers
//
// Annotations list only application headers. The request headers of the
// Connect, gRPC-Web and gRPC protocols ([ProtocolHeaders]) are always
// allowed. Response headers are exposed per protocol, the value chosen per
// request from its Content-Type and computed in New:
//
//   - gRPC-Web and gRPC (Content-Type application/grpc-web..., application/grpc...):
//     Grpc-Status, Grpc-Message, Grpc-Status-Details-Bin, and Grpc-Encoding
//     (a client needs it to decompress messages), plus the policy's
//     expose_headers.
//   - Connect unary (anything else, including Connect GET): the policy's
//     expose_headers, each also as "Trailer-<name>", because Connect sends a
//     unary call's trailers as headers with that prefix. Nothing else: a
//     Connect unary error is a JSON body, and compression uses
//     Content-Encoding, which the browser decodes itself.
//   - Connect streaming: the policy's expose_headers plus
//     Connect-Content-Encoding (needed to decompress messages).
//
// When that leaves nothing, no Access-Control-Expose-Headers is sent.
// An expose_headers of "*" is sent as "*" alone.
//
// # Cross-origin request protection
//
// A browser sends some cross-origin POSTs without a preflight. An unsafe
// request that a browser marks cross-origin, to any procedure of the
// descriptor source, from an origin the procedure's policy does not allow,
// gets 403 before the handler ([protocors.WithCrossOriginProtection]).
//
// # Placement
//
// The middleware matches r.URL.Path exactly, so it must see the path the
// Connect handler sees: put it inside any http.StripPrefix. Do not set CORS
// headers in the wrapped handlers; values set there replace the
// middleware's.
package interceptor
