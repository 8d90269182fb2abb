package interceptor

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/protocors/protocors/internal/core"
)

// protocolHeaders are the request headers the Connect, gRPC-Web and gRPC
// protocols send; every CORS-enabled procedure allows them.
var protocolHeaders = []string{
	"Content-Type",             // all protocols
	"Connect-Protocol-Version", // Connect
	"Connect-Timeout-Ms",       // Connect
	"Connect-Content-Encoding", // Connect streaming request compression
	"Connect-Accept-Encoding",  // Connect streaming response compression
	"Content-Encoding",         // Connect unary request compression
	"Grpc-Timeout",             // gRPC, gRPC-Web
	"Grpc-Encoding",            // gRPC, gRPC-Web request compression
	"Grpc-Accept-Encoding",     // gRPC, gRPC-Web response compression
	"X-Grpc-Web",               // gRPC-Web
	"X-User-Agent",             // gRPC-Web (browsers forbid setting User-Agent)
}

// ProtocolHeaders returns the request headers of the Connect, gRPC-Web and
// gRPC protocols, which every CORS-enabled procedure allows in addition to
// its policy's allow_headers. The slice is a copy.
func ProtocolHeaders() []string {
	return append([]string(nil), protocolHeaders...)
}

// Response headers the clients of each protocol read.
var (
	grpcExposed           = []string{"Grpc-Status", "Grpc-Message", "Grpc-Status-Details-Bin", "Grpc-Encoding"}
	connectStreamExposed  = []string{"Connect-Content-Encoding"}
	connectTrailerPrefix  = "Trailer-"
	grpcContentTypePrefix = "application/grpc" // also covers application/grpc-web
)

// Middleware answers CORS preflights for Connect procedures and decorates
// their responses, as the protocors.v1 options of their descriptors say. It
// is immutable after [New] and safe for concurrent use.
type Middleware struct {
	files      *protoregistry.Files
	services   map[protoreflect.FullName]bool // every service New walked
	routes     map[string]*route              // every procedure of those services
	logger     *slog.Logger
	protection core.Protection
}

// route is everything the request path needs for one procedure, computed in
// New.
type route struct {
	procedure    string
	policy       *core.Policy // nil: no CORS; shared by procedures whose configs are equal
	get          bool         // GET is allowed (unary, NO_SIDE_EFFECTS)
	allowMethods string       // Access-Control-Allow-Methods
	exposeGRPC   string       // Access-Control-Expose-Headers for gRPC and gRPC-Web
	exposeOther  string       // ... for the Connect protocol
}

// New reads the policy of every method of every service in the descriptor
// source, validates them all and compiles them. Its error names every
// problem found, one a line, by descriptor full name, field and value.
func New(opts ...Option) (*Middleware, error) {
	cfg := config{Settings: core.NewSettings()}
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	def, problems, err := cfg.DefaultPolicy("interceptor")
	if err != nil {
		return nil, err
	}
	oo := cfg.OriginOptions
	resolver := core.Resolver{Default: def}
	var compiled core.Interner
	routes := make(map[string]*route)
	seen := make(map[protoreflect.FullName]bool)
	cfg.Files.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		services := fd.Services()
		for i := 0; i < services.Len(); i++ {
			sd := services.Get(i)
			seen[sd.FullName()] = true
			methods := sd.Methods()
			for j := 0; j < methods.Len(); j++ {
				md := methods.Get(j)
				eff := resolver.Resolve(md)
				if !eff.Enabled {
					// Known, without CORS: only the cross-origin request
					// protection applies to it.
					routes[core.Procedure(md)] = &route{procedure: core.Procedure(md)}
					continue
				}
				if ps := core.Validate(&eff, oo); len(ps) > 0 {
					problems = append(problems, ps...)
					continue
				}
				cc := core.ConfigOf(&eff, oo, protocolHeaders)
				cc.Debug = cfg.Debug
				pol, err := compiled.Compile(cc)
				if err != nil {
					problems = append(problems, toProblem(err, md))
					continue
				}
				rt := newRoute(md, eff.Policy.ExposeHeaders)
				rt.policy = pol
				routes[rt.procedure] = rt
			}
		}
		return true
	})
	if err := problems.Err(); err != nil {
		return nil, err
	}
	return &Middleware{files: cfg.Files, services: seen, routes: routes, logger: cfg.Logger, protection: cfg.Protection()}, nil
}

func toProblem(err error, md protoreflect.MethodDescriptor) *core.Problem {
	var p *core.Problem
	if errors.As(err, &p) {
		if p.Name == "" {
			p.Name = string(md.FullName())
		}
		return p
	}
	return &core.Problem{Name: string(md.FullName()), Field: "policy", Msg: err.Error()}
}

// newRoute derives the methods and exposed headers of a procedure.
func newRoute(md protoreflect.MethodDescriptor, expose []string) *route {
	streaming := md.IsStreamingClient() || md.IsStreamingServer()
	methods := core.ConnectMethods(md)
	rt := &route{
		procedure:    core.Procedure(md),
		get:          slices.Contains(methods, http.MethodGet),
		allowMethods: strings.Join(methods, ", "),
		exposeGRPC:   core.HeaderList(grpcExposed, expose),
	}
	if streaming {
		rt.exposeOther = core.HeaderList(expose, connectStreamExposed)
	} else {
		trailers := make([]string, len(expose))
		for i, h := range expose {
			if h == "*" {
				trailers[i] = h
			} else {
				trailers[i] = connectTrailerPrefix + h
			}
		}
		rt.exposeOther = core.HeaderList(expose, trailers)
	}
	return rt
}

// Handler returns next behind the middleware: put it in front of a mux of
// Connect handlers (or one handler). Requests for procedures with a CORS
// policy are answered (preflights) or decorated (everything else) before
// next runs. Cross-origin POSTs to any procedure of the descriptor source
// from an origin its policy does not allow are refused (see
// [WithCrossOriginProtection]); all other requests reach next untouched.
func (m *Middleware) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt := m.routes[r.URL.Path]
		if rt == nil {
			next.ServeHTTP(w, r)
			return
		}
		q := core.ReadRequest(r)
		if q.IsPreflight() {
			if rt.policy == nil {
				next.ServeHTTP(w, r)
				return
			}
			methods := ""
			switch q.Method {
			case http.MethodPost:
				methods = rt.allowMethods
			case http.MethodGet:
				if rt.get {
					methods = rt.allowMethods
				}
			}
			out := rt.policy.Preflight(w, &q, core.Answer{Methods: methods})
			if out.Reason != core.Allowed && m.logger != nil {
				m.logRefused(r, &q, rt, out)
			}
			return
		}
		granted := false
		if rt.policy != nil {
			// The exposed headers depend on the protocol; look only when
			// they can be sent.
			expose := ""
			if q.Origin != "" || rt.policy.AnyOrigin() {
				expose = rt.expose(r)
			}
			granted = rt.policy.Actual(w.Header(), &q, expose)
		}
		if !granted && m.protection != core.ProtectionOff && !core.SafeMethod(r.Method) && core.CrossOrigin(r) {
			if m.logger != nil {
				m.logCrossOrigin(r, &q, rt)
			}
			if m.protection == core.ProtectionOn {
				core.RefuseCrossOrigin(w)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// expose returns the Access-Control-Expose-Headers value for r, which
// depends on the protocol. A GET is always the Connect protocol (Connect
// GET); other requests are gRPC-Web or gRPC by their Content-Type.
func (rt *route) expose(r *http.Request) string {
	if r.Method != http.MethodGet {
		if ct := r.Header["Content-Type"]; len(ct) > 0 && hasPrefixFold(ct[0], grpcContentTypePrefix) {
			return rt.exposeGRPC
		}
	}
	return rt.exposeOther
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func (m *Middleware) logRefused(r *http.Request, q *core.Request, rt *route, out core.Outcome) {
	m.logger.LogAttrs(r.Context(), slog.LevelInfo, "protocors: CORS preflight refused",
		slog.String("procedure", rt.procedure),
		slog.String("origin", strings.Join(q.Origins(), ", ")),
		slog.String("method", q.Method),
		slog.String("reason", out.Reason.String()),
		slog.String("value", out.Value),
	)
}

func (m *Middleware) logCrossOrigin(r *http.Request, q *core.Request, rt *route) {
	msg := "protocors: cross-origin request refused"
	if m.protection == core.ProtectionReportOnly {
		msg = "protocors: cross-origin request would be refused (report only)"
	}
	m.logger.LogAttrs(r.Context(), slog.LevelInfo, msg,
		slog.String("procedure", rt.procedure),
		slog.String("origin", strings.Join(q.Origins(), ", ")),
		slog.String("method", r.Method),
		slog.String("sec_fetch_site", r.Header.Get("Sec-Fetch-Site")),
	)
}

// Wrap puts the middleware in front of one Connect service handler. It takes
// and returns what the generated New...ServiceHandler functions return, so
// mounting stays one line:
//
//	mux.Handle(mw.Wrap(fooconnect.NewFooServiceHandler(svc)))
//
// The path must be a service path, "/pkg.Service/", of a service in the
// descriptor source. Wrap panics otherwise, at mount time, because the
// service's CORS policies could not be read and every browser call would
// fail: import the package generated for the service's .proto file (its init
// registers the descriptor in protoregistry.GlobalFiles), or pass the registry
// that holds it with [WithFiles]. It panics too for a service registered
// after New read the source. [Middleware.CheckService] reports the same
// problems as an error, for callers that would rather not panic.
func (m *Middleware) Wrap(path string, h http.Handler) (string, http.Handler) {
	if err := m.CheckService(path); err != nil {
		panic(err)
	}
	return path, m.Handler(h)
}

// CheckService reports, as an error, why [Middleware.Wrap] would panic for
// path, or nil when path is "/pkg.Service/" for a service New found in the
// descriptor source.
func (m *Middleware) CheckService(path string) error {
	name := strings.TrimSuffix(strings.TrimPrefix(path, "/"), "/")
	if !strings.HasPrefix(path, "/") || !strings.HasSuffix(path, "/") || name == "" || !protoreflect.FullName(name).IsValid() {
		return fmt.Errorf("protocors: interceptor Wrap(%q): not a Connect service path: want \"/pkg.Service/\" as returned by the generated New...ServiceHandler", path)
	}
	d, err := m.files.FindDescriptorByName(protoreflect.FullName(name))
	if err != nil {
		return fmt.Errorf("protocors: interceptor Wrap(%q): service %s is not in the descriptor source, so its CORS policies cannot be read: import the Go package generated for its .proto file (its init registers the descriptor in protoregistry.GlobalFiles), or pass the registry that holds it with interceptor.WithFiles", path, name)
	}
	if _, ok := d.(protoreflect.ServiceDescriptor); !ok {
		return fmt.Errorf("protocors: interceptor Wrap(%q): %s in the descriptor source is not a service", path, name)
	}
	if !m.services[protoreflect.FullName(name)] {
		return fmt.Errorf("protocors: interceptor Wrap(%q): service %s was registered in the descriptor source after interceptor.New read it, so its CORS policies were not read: call New after every generated package is initialized and every file is registered", path, name)
	}
	return nil
}
