// Package gateway puts protocors in front of a grpc-gateway mux: browser
// code on another origin can call the REST routes of RPCs as their
// protocors.v1 options say, and only as they say.
//
//	gwmux := runtime.NewServeMux()
//	_ = icecreamv1.RegisterIceCreamServiceHandlerServer(ctx, gwmux, srv)
//	mw, err := gateway.New(protocors.WithOrigins("https://shop.example"))
//	if err != nil {
//		log.Fatal(err) // every invalid policy, by descriptor, field and value
//	}
//	http.ListenAndServe(addr, mw.Handler(gwmux))
//
// # Why a route table of its own
//
// A browser asks permission with a preflight, an OPTIONS request. The gateway
// mux has no OPTIONS routes: it answers 404, 405 or 501, and middleware
// installed with runtime.WithMiddlewares only runs for requests that matched
// a route, so it never sees a preflight at all. And the mux cannot be asked
// which route a request would reach. So [New] builds its own table from the
// google.api.http rules in the descriptors (additional_bindings and custom
// methods included) and matches paths exactly as runtime.ServeMux does:
// templates with {var}, {var=a/*/b}, *, ** and :verb, the mux's unescaping
// modes ([WithUnescapingMode]), the most recently registered route winning
// when several match, X-HTTP-Method-Override and the form POST to GET
// fallback. Tests compare it with a real ServeMux on generated and fuzzed
// paths. Because it reads rules rather than the mux, the same middleware
// works in front of any google.api.http transcoder, such as
// connectrpc.com/vanguard.
//
// Routes of RPCs with no policy (or enabled: false) are in the table too:
// they compete for paths as their handlers do in the mux, and their requests
// pass through untouched. Routes the descriptors do not show (HandlePath
// handlers, rules from a gRPC API Configuration YAML file) are added with
// [WithRoute].
//
// # Preflights
//
// A preflight is matched on its path and Access-Control-Request-Method: its
// answer is the policy of the RPC the actual request would reach.
// Access-Control-Allow-Methods lists the requested method and every other
// method whose route at the same path has the same policy, so one preflight
// serves GET, PUT and DELETE on a resource; a method whose RPC has another
// policy, or none, is never listed (browsers cache preflight answers per URL
// and method). A preflight for a method without a CORS route, at a path where
// another method has one, is refused with 403.
//
// Content-Type is allowed on routes with a request body (and on the other
// routes of the same template and policy). grpc-gateway sends response
// metadata "x" as the header "Grpc-Metadata-X", so each name in
// expose_headers is exposed under both spellings.
//
// A preflight is decided with every RPC at its path, not only the requested
// method's: a header grant is cached by the browser for every method at the
// URL, so where another RPC there would refuse it the answer carries
// Access-Control-Max-Age: 0; and X-HTTP-Method-Override is granted to a POST
// only where every RPC at the path allows the request.
//
// # Cross-origin request protection
//
// An unsafe request that a browser marks cross-origin, from an origin the
// policy of the RPC the mux would run does not allow (after method override
// and form fallback), gets 403 before the mux (see
// [github.com/protocors/protocors.WithCrossOriginProtection]).
//
// # Registration order
//
// The mux runs the route registered last when several match. Within a
// service the generated Register function registers in declaration order,
// which the table follows; between services the order is the program's, so
// New refuses routes of two services that can match the same request under
// different policies unless [WithRegistrationOrder] says which runs. Routes
// added with [WithRoute] come after every service.
package gateway
