// Package core is the shared heart of protocors' two middlewares and its
// tools, one file per concern:
//
//   - pipeline.go: the one way from settings and descriptors to compiled
//     engines ([Pipeline]): walk, resolve, validate, configure, compile;
//   - settings.go: what the options set ([Settings]);
//   - resolve.go: reading protocors.v1 policies and merging their scopes;
//   - descriptors.go: Connect paths and methods;
//   - validate.go and problem.go: precise, typed errors ([Problem], [Error],
//     [Kind]);
//   - config.go: one route's validated policy ([Config]), from [ConfigOf];
//   - compile.go: [Compile], and the [Interner] that shares equal compiled
//     policies;
//   - origin.go: origin parsing, patterns, the Public Suffix List rule;
//   - request.go: what the protocol reads of a request ([Request],
//     [ReadRequest]);
//   - headers.go: the Access-Control-Request-Headers scanner;
//   - engine.go: the CORS protocol for one policy ([Engine]) and its
//     answers, with header values computed up front;
//   - outcome.go: why a preflight was refused ([Outcome], [Reason]);
//   - gate.go: the actual-request path both middlewares share ([Gate]):
//     grant, judge, decorate, count, log, refuse;
//   - protect.go: the cross-origin request protection's rule;
//   - log.go: bounded log values;
//   - metrics.go: OpenTelemetry counters per route.
//
// Nothing here imports connect-go or grpc-gateway. Per request the
// middlewares call [ReadRequest], then [Engine.Preflight] (or
// [Engine.Refuse]) and [Gate.Preflighted]; or, for any other request,
// [Gate.Actual], which grants, judges, decorates, counts and logs.
//
// The protocol follows the WHATWG Fetch standard's CORS protocol:
// https://fetch.spec.whatwg.org/#http-cors-protocol
package core
