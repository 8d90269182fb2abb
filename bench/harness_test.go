package bench_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"connectrpc.com/connect"
	connectcors "connectrpc.com/cors"
	jub0bs "github.com/jub0bs/cors"
	rscors "github.com/rs/cors"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/internal/core"
	testv1 "github.com/protocors/protocors/internal/gen/protocors/test/v1"
)

// recorder is the ResponseWriter of every row. Each request gets a new
// header map, as net/http makes one per request: a reused, cleared map
// would hide the growth the first header written into it costs.
type recorder struct {
	h    http.Header
	code int
	n    int
}

func (w *recorder) reset()              { w.h = make(http.Header); w.code = 0; w.n = 0 }
func (w *recorder) Header() http.Header { return w.h }
func (w *recorder) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *recorder) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.n += len(b)
	return len(b), nil
}
func (w *recorder) Flush() {}

// body is a request body that can be rewound without allocating.
type body struct{ bytes.Reader }

func (*body) Close() error { return nil }

// bareContentType is what the bare handler writes: every real handler sets
// a header, so the header map's first growth is part of the baseline.
var bareContentType = []string{"application/json"}

// bare is the handler every middleware wraps, and alone the baseline row.
var bare = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header()["Content-Type"] = bareContentType
	w.WriteHeader(http.StatusOK)
})

// Procedure and gateway path of the one-method service most scenarios use.
const (
	echoProcedure = "/bench.v1.BenchService/Echo"
	echoPath      = "/v1/echo"
)

// The protocol headers a Connect route allows and exposes without
// annotation (interceptor.ProtocolHeaders, and the response headers Connect,
// gRPC and gRPC-Web clients read), as the core row configures them.
// The peers are configured as Connect's documentation says, with
// connectrpc.com/cors's lists, which every scenario's request fits in.
var (
	connectRequestHeaders = []string{"Content-Type", "Connect-Protocol-Version", "Connect-Timeout-Ms",
		"Connect-Content-Encoding", "Connect-Accept-Encoding", "Grpc-Timeout", "X-Grpc-Web", "X-User-Agent"}
	connectExposeHeaders = connectcors.ExposedHeaders()
)

// peerHeaders returns the peers' allowed and exposed headers for s.
func peerHeaders(s spec) (allow, expose []string) {
	return append(slices.Clone(s.headers), connectcors.AllowedHeaders()...),
		append(slices.Clone(s.expose), connectcors.ExposedHeaders()...)
}

// spec is one CORS policy, given to every row in its own terms.
type spec struct {
	origins     []string
	headers     []string // application request headers
	expose      []string
	credentials bool
	maxAge      int
}

func (s spec) proto() *corspb.Policy {
	return &corspb.Policy{
		AllowOrigins:     s.origins,
		AllowHeaders:     s.headers,
		ExposeHeaders:    s.expose,
		AllowCredentials: proto.Bool(s.credentials),
		MaxAgeSeconds:    proto.Uint32(uint32(s.maxAge)),
	}
}

// appHeaders are the 20 application headers of both policies.
var appHeaders = func() []string {
	var h []string
	for i := 1; i <= 20; i++ {
		h = append(h, fmt.Sprintf("X-Bench-%02d", i))
	}
	return h
}()

var (
	appOrigin = "https://app.example.com"
	// specOne allows one origin.
	specOne = spec{origins: []string{appOrigin}, headers: appHeaders, expose: []string{"X-Trace-Id"}, credentials: true, maxAge: 600}
	// specMany allows 100 exact origins and a subdomain pattern.
	specMany = func() spec {
		s := specOne
		s.origins = nil
		for i := range 100 {
			s.origins = append(s.origins, fmt.Sprintf("https://app%03d.example.com", i))
		}
		s.origins = append(s.origins, "https://*.example.org")
		return s
	}()
)

// row is one contestant: a constructor wrapping next under a policy.
type row struct {
	name string
	// connect: the row serves Connect procedures (paths like
	// echoProcedure); gateway rows serve echoPath. Peers and the bare
	// handler do not care.
	gateway bool
	// protects: the row runs our cross-origin request protection, so it
	// answers a scenario marked forbidden with 403 before the handler.
	protects bool
	// actualOnly rows skip preflights: the protection never looks at
	// one, so a row without it would repeat its sibling's preflight rows.
	actualOnly bool
	// path, if set, is where the row's requests go instead of
	// echoProcedure or echoPath: a templated gateway route.
	path string
	wrap func(tb testing.TB, s spec, next http.Handler) http.Handler
}

// addOurs inserts our rows before "core", so the table lists ours first
// whatever the order the ours_*_test.go files' init functions run in.
func addOurs(add ...row) {
	i := slices.IndexFunc(rows, func(r row) bool { return r.name == "core" })
	rows = slices.Insert(rows, i, add...)
}

// rows lists every contestant; ours are inserted by the files that build
// them (ours_*_test.go), each with the cross-origin request protection on
// (the default) and off (the "-noprotect" rows).
var rows = []row{
	{name: "bare", wrap: func(_ testing.TB, _ spec, next http.Handler) http.Handler { return next }},
	{name: "core", wrap: coreRow},
	{name: "rs-cors", wrap: rsRow},
	{name: "jub0bs-cors", wrap: jub0bsRow},
}

func rsRow(_ testing.TB, s spec, next http.Handler) http.Handler {
	allow, expose := peerHeaders(s)
	return rscors.New(rscors.Options{
		AllowedOrigins:   s.origins,
		AllowedMethods:   []string{http.MethodPost},
		AllowedHeaders:   allow,
		ExposedHeaders:   expose,
		AllowCredentials: s.credentials,
		MaxAge:           s.maxAge,
	}).Handler(next)
}

func jub0bsRow(tb testing.TB, s spec, next http.Handler) http.Handler {
	allow, expose := peerHeaders(s)
	m, err := jub0bs.NewMiddleware(jub0bs.Config{
		Origins:         s.origins,
		Credentialed:    s.credentials,
		Methods:         []string{http.MethodPost},
		RequestHeaders:  allow,
		MaxAgeInSeconds: s.maxAge,
		ResponseHeaders: expose,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return m.Wrap(next)
}

// coreRow is the CORS engine alone, with the route lookup a middleware does
// left out: the floor under ours. It has no cross-origin request protection
// (that is the middlewares' step after the engine's answer), so it is the
// floor under the "-noprotect" rows.
func coreRow(tb testing.TB, s spec, next http.Handler) http.Handler {
	p, err := core.Compile(core.Config{
		Origins:         s.origins,
		Credentials:     s.credentials,
		AllowHeaders:    s.headers,
		ProtocolHeaders: connectRequestHeaders,
		MaxAge:          s.maxAge,
	})
	if err != nil {
		tb.Fatal(err)
	}
	expose := core.HeaderList(s.expose, connectExposeHeaders)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := core.ReadRequest(r)
		if q.IsPreflight() {
			methods := ""
			if q.Method == http.MethodPost {
				methods = http.MethodPost
			}
			p.Preflight(w, &q, core.Answer{Methods: methods})
			return
		}
		p.Actual(w.Header(), &q, expose)
		next.ServeHTTP(w, r)
	})
}

// outcome is what a scenario should end in.
type outcome int

const (
	granted outcome = iota // CORS headers for the origin
	refused                // no Access-Control-Allow-Origin
	either                 // adversarial input: bounded work is all that counts
)

func (o outcome) String() string { return [...]string{"granted", "refused", "either"}[o] }

// scenario is one request shape.
type scenario struct {
	name string
	spec spec
	// req builds the request for a row serving path.
	req      func(path string) *http.Request
	want     outcome
	preflite bool
	// next is the wrapped handler, bare when nil; body, if not nil, is
	// the request body, rewound before each request.
	next func() http.Handler
	body []byte
	// connectOnly scenarios make no sense in front of grpc-gateway.
	connectOnly bool
	// forbidden: an unsafe request the browser marks cross-origin from an
	// origin the policy refuses. Rows that protect answer it 403 without
	// running the handler; every other row (the peers, ours with the
	// protection off) passes it to the handler without CORS headers.
	forbidden bool
}

func newRequest(method, path string, kv ...string) *http.Request {
	r := httptest.NewRequest(method, path, nil)
	for i := 0; i < len(kv); i += 2 {
		r.Header.Add(kv[i], kv[i+1])
	}
	return r
}

func preflight(origin, acrh string) func(string) *http.Request {
	return func(path string) *http.Request {
		kv := []string{"Origin", origin, "Access-Control-Request-Method", http.MethodPost}
		if acrh != "" {
			kv = append(kv, "Access-Control-Request-Headers", acrh)
		}
		return newRequest(http.MethodOptions, path, kv...)
	}
}

func actual(kv ...string) func(string) *http.Request {
	return func(path string) *http.Request {
		return newRequest(http.MethodPost, path, append([]string{"Content-Type", "application/json"}, kv...)...)
	}
}

// twentyHeaders is what a browser sends for a page setting all 20
// application headers: lower case, sorted, comma-separated.
var twentyHeaders = func() string {
	h := slices.Clone(appHeaders)
	slices.Sort(h)
	return strings.ToLower(strings.Join(h, ","))
}()

var scenarios = []scenario{
	{name: "preflight_1origin", spec: specOne, req: preflight(appOrigin, "content-type"), preflite: true},
	{name: "preflight_100origins_last", spec: specMany, req: preflight("https://app099.example.com", "content-type"), preflite: true},
	{name: "preflight_100origins_pattern", spec: specMany, req: preflight("https://tenant.example.org", "content-type"), preflite: true},
	{name: "preflight_20headers", spec: specOne, req: preflight(appOrigin, twentyHeaders), preflite: true},
	{name: "preflight_connect", spec: specOne, req: preflight(appOrigin, "connect-protocol-version,connect-timeout-ms,content-type"), preflite: true, connectOnly: true},
	{name: "preflight_refused", spec: specOne, req: preflight("https://evil.example.net", "content-type"), want: refused, preflite: true},
	{name: "preflight_1024commas", spec: specOne, req: preflight(appOrigin, strings.Repeat(",", 1024)), want: either, preflite: true},
	// Without Sec-Fetch-Site (older browsers) the protection compares the
	// Origin's host with Host (example.com for httptest): both origins
	// below are cross-origin.
	{name: "actual_allowed", spec: specOne, req: actual("Origin", appOrigin)},
	{name: "actual_refused", spec: specOne, req: actual("Origin", "https://evil.example.net"), want: refused, forbidden: true},
	// As current browsers send a cross-site POST: Sec-Fetch-Site decides.
	{name: "actual_allowed_crosssite", spec: specOne, req: actual("Origin", appOrigin, "Sec-Fetch-Site", "cross-site")},
	{name: "actual_refused_crosssite", spec: specOne, req: actual("Origin", "https://evil.example.net", "Sec-Fetch-Site", "cross-site"), want: refused, forbidden: true},
	{name: "no_origin", spec: specOne, req: actual(), want: refused},
	{name: "connect_unary", spec: specOne, req: connectUnary, next: echoHandler, body: flavorBytes, connectOnly: true},
}

// flavorBytes is the binary request (and response) message of the unary
// call.
var flavorBytes = func() []byte {
	b, err := proto.Marshal(&testv1.Flavor{Name: "vanilla", Scoops: 2})
	if err != nil {
		panic(err)
	}
	return b
}()

// connectUnary is a Connect unary call with the binary codec, as
// connect-web sends it cross-origin.
func connectUnary(path string) *http.Request {
	r := newRequest(http.MethodPost, path, "Origin", appOrigin, "Content-Type", "application/proto",
		"Connect-Protocol-Version", "1", "Connect-Timeout-Ms", "10000")
	r.Body = &body{}
	return r
}

// benchFiles builds a registry of one file, bench/v1/bench.proto, holding
// methods unary methods (Flavor -> Flavor) in services of at most 100,
// each with its own google.api.http rule "post /v1/r<i>/{name}" (or, for a
// single method, BenchService.Echo at echoPath). policy, if not nil, is
// the services' (protocors.v1.service) option.
func benchFiles(tb testing.TB, methods int, policy *corspb.Policy) *protoregistry.Files {
	tb.Helper()
	return benchFilesWith(tb, methods, policy, func(i int) *annotations.HttpRule {
		return &annotations.HttpRule{Pattern: &annotations.HttpRule_Post{Post: fmt.Sprintf("/v1/r%05d/{name}", i)}, Body: "*"}
	})
}

// resourceRule is the http rule of method i in an API of AIP-style
// resources, four methods each on one name: Get, Update, Delete and a
// custom :undelete, every resource under "/v1/{name=projects/*/...}", so
// no literal after "v1" tells the resources apart before a variable.
func resourceRule(i int) *annotations.HttpRule {
	path := fmt.Sprintf("/v1/{name=projects/*/r%05d/*}", i/4)
	switch i % 4 {
	case 0:
		return &annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: path}}
	case 1:
		return &annotations.HttpRule{Pattern: &annotations.HttpRule_Patch{Patch: path}, Body: "*"}
	case 2:
		return &annotations.HttpRule{Pattern: &annotations.HttpRule_Delete{Delete: path}}
	}
	return &annotations.HttpRule{Pattern: &annotations.HttpRule_Post{Post: path + ":undelete"}, Body: "*"}
}

// benchFilesWith is benchFiles with method i bound by rule(i).
func benchFilesWith(tb testing.TB, methods int, policy *corspb.Policy, rule func(i int) *annotations.HttpRule) *protoregistry.Files {
	tb.Helper()
	fdp := &descriptorpb.FileDescriptorProto{
		Name:       proto.String("bench/v1/bench.proto"),
		Package:    proto.String("bench.v1"),
		Syntax:     proto.String("proto3"),
		Dependency: []string{testv1.File_protocors_test_v1_test_proto.Path()},
	}
	flavor := ".protocors.test.v1.Flavor"
	var svc *descriptorpb.ServiceDescriptorProto
	for i := range methods {
		if i%100 == 0 {
			name := fmt.Sprintf("Bench%03dService", i/100)
			if methods == 1 {
				name = "BenchService"
			}
			svc = &descriptorpb.ServiceDescriptorProto{Name: proto.String(name), Options: &descriptorpb.ServiceOptions{}}
			if policy != nil {
				proto.SetExtension(svc.Options, corspb.E_Service, policy)
			}
			fdp.Service = append(fdp.Service, svc)
		}
		name, r := fmt.Sprintf("M%05d", i), rule(i)
		if methods == 1 {
			name, r = "Echo", &annotations.HttpRule{Pattern: &annotations.HttpRule_Post{Post: echoPath}, Body: "*"}
		}
		opts := &descriptorpb.MethodOptions{}
		proto.SetExtension(opts, annotations.E_Http, r)
		svc.Method = append(svc.Method, &descriptorpb.MethodDescriptorProto{
			Name: proto.String(name), InputType: proto.String(flavor), OutputType: proto.String(flavor), Options: opts,
		})
	}
	return registryOf(tb, fdp)
}

// registryOf builds fdp, whose imports are in protoregistry.GlobalFiles,
// into a registry of its own. fdp goes through bytes first, so its options
// arrive as a real descriptor source hands them over (unknown fields, not
// typed extensions).
func registryOf(tb testing.TB, fdp *descriptorpb.FileDescriptorProto) *protoregistry.Files {
	tb.Helper()
	raw, err := proto.Marshal(fdp)
	if err != nil {
		tb.Fatal(err)
	}
	fdp = &descriptorpb.FileDescriptorProto{}
	if err := proto.Unmarshal(raw, fdp); err != nil {
		tb.Fatal(err)
	}
	fd, err := protodesc.NewFile(fdp, protoregistry.GlobalFiles)
	if err != nil {
		tb.Fatal(err)
	}
	files := new(protoregistry.Files)
	if err := files.RegisterFile(fd); err != nil {
		tb.Fatal(err)
	}
	return files
}

// echoHandler is a real connect-go unary handler for echoProcedure.
func echoHandler() http.Handler {
	return connect.NewUnaryHandler(echoProcedure,
		func(_ context.Context, req *connect.Request[testv1.Flavor]) (*connect.Response[testv1.Flavor], error) {
			return connect.NewResponse(req.Msg), nil
		})
}

// benchMeters is the meter provider of the "-metrics" rows: the
// OpenTelemetry SDK with a reader nobody collects, as a service scraped
// every few seconds looks between scrapes.
var benchMeters = sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
