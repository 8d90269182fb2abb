package interceptor

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/internal/cfgerr"
	"github.com/protocors/protocors/internal/core"
)

// Option configures [New]: every protocors.With... option. Options of
// package gateway are not Options here, so passing one does not compile.
type Option = protocors.Option

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
	grpcExposed          = []string{"Grpc-Status", "Grpc-Message", "Grpc-Status-Details-Bin", "Grpc-Encoding"}
	connectStreamExposed = []string{"Connect-Content-Encoding"}
	connectTrailerPrefix = "Trailer-"
)

// Middleware answers CORS preflights for Connect procedures and decorates
// their responses, as the protocors.v1 options of their descriptors say. It
// is safe for concurrent use; [Middleware.Reconfigure] replaces its whole
// configuration at once.
type Middleware struct {
	state atomic.Pointer[state]

	// mu guards mounted, which Wrap and Mux fill at mount time and
	// Reconfigure reads: a configuration that lacks a mounted service
	// would leave it without CORS and without the protection.
	mu      sync.Mutex
	mounted map[string]string // service full name or procedure path -> how it was mounted
}

// state is everything New and Reconfigure compute: immutable once stored,
// so a request loads it once and sees one configuration throughout.
type state struct {
	files    *protoregistry.Files
	services map[protoreflect.FullName]bool // every service New walked
	entries  map[string]*entry              // every procedure of those services, by path
	gate     core.Gate                      // the actual-request path, shared with the gateway
}

// entry is everything the request path needs for one procedure, computed
// in New.
type entry struct {
	procedure    string
	engine       *core.Engine // nil: no CORS; shared by procedures whose configs are equal
	get          bool         // GET is allowed (unary, NO_SIDE_EFFECTS)
	allowMethods string       // Access-Control-Allow-Methods
	exposeGRPC   string       // Access-Control-Expose-Headers for gRPC and gRPC-Web
	exposeOther  string       // ... for the Connect protocol
	counts       *core.Counts // nil without WithMeterProvider
}

// New reads the policy of every method of every service in the descriptor
// source, validates them all and compiles them. Its error is a
// *protocors.Error naming every problem found, by descriptor full name,
// field and value.
func New(opts ...Option) (*Middleware, error) {
	// Reconfigure on a new Middleware: nothing is mounted yet, so it only
	// builds and stores the state.
	m := &Middleware{}
	if err := m.Reconfigure(opts...); err != nil {
		return nil, err
	}
	return m, nil
}

// Reconfigure replaces the middleware's whole configuration with the one
// opts describe, validated and compiled exactly as New(opts...) would, then
// swapped in atomically: every request is served by the old configuration
// or the new one, never a mix. On error nothing changes and the error is
// New's. Options are not merged with the previous ones: pass them all, as
// to New (for example WithOrigins with the reloaded list, and every
// WithOriginSet).
//
// A configuration whose descriptor source lacks a service mounted with
// [Middleware.Wrap], or a procedure mounted with [Middleware.Mux], is an
// error too (a *protocors.Error naming it): the handler stays mounted, and
// would otherwise serve with neither CORS nor the cross-origin request
// protection.
func (m *Middleware) Reconfigure(opts ...Option) error {
	st, err := build(opts)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := st.covers(m.mounted); err != nil {
		return err
	}
	m.state.Store(st)
	return nil
}

// mountLocked records that name (a service full name, or a procedure path)
// was mounted with how ("Wrap", "Mux"). The caller holds m.mu.
func (m *Middleware) mountLocked(name, how string) {
	if m.mounted == nil {
		m.mounted = make(map[string]string)
	}
	m.mounted[name] = how
}

// covers reports, as a configuration error, every mounted service or
// procedure that st does not know.
func (st *state) covers(mounted map[string]string) error {
	var ps core.Problems
	for _, name := range slices.Sorted(maps.Keys(mounted)) {
		how := mounted[name]
		if strings.HasPrefix(name, "/") {
			service := name[1:max(strings.LastIndexByte(name, '/'), 1)]
			if _, ok := mounted[service]; ok && !st.services[protoreflect.FullName(service)] {
				continue // the whole service is missing: named once, as a service
			}
			if st.entries[name] == nil {
				ps = append(ps, &core.Problem{Descriptor: name, Field: "interceptor." + how, Kind: core.KindOption,
					Message: "mounted with " + how + ", but the new descriptor source has no such procedure: " +
						"it would serve without CORS and without the cross-origin request protection; " +
						"pass protocors.WithFiles with a registry that holds it"})
			}
			continue
		}
		if !st.services[protoreflect.FullName(name)] {
			ps = append(ps, &core.Problem{Descriptor: name, Field: "interceptor.Wrap", Kind: core.KindOption,
				Message: "mounted with " + how + ", but the new descriptor source has no such service: " +
					"it would serve without CORS and without the cross-origin request protection; " +
					"pass protocors.WithFiles with a registry that holds it"})
		}
	}
	return cfgerr.Public(ps.Err())
}

// build is New without the Middleware.
func build(opts []Option) (*state, error) {
	s := core.Apply(opts, core.NewSettings())
	pl := core.NewPipeline(&s)
	m := &state{
		files:    s.Files,
		services: make(map[protoreflect.FullName]bool),
		entries:  make(map[string]*entry),
		gate:     core.NewGate(&s, false),
	}
	metrics := pl.Metrics()
	for _, sd := range pl.Services() {
		m.services[sd.FullName()] = true
		methods := sd.Methods()
		for j := 0; j < methods.Len(); j++ {
			md := methods.Get(j)
			e := &entry{procedure: core.Procedure(md)}
			// A procedure without CORS (or with an invalid policy, which
			// fails New) is still known: the cross-origin request
			// protection applies to it.
			if eff, ok := pl.Method(md); ok {
				e.compile(md, eff.Policy.ExposeHeaders)
				e.engine = pl.Compile(pl.Config(eff, protocolHeaders))
				if e.engine.AnyOrigin() {
					m.gate.NoteAnyOrigin()
				}
			}
			e.counts = metrics.Route(
				attribute.String("rpc.system", "connect_rpc"),
				attribute.String("rpc.service", string(sd.FullName())),
				attribute.String("rpc.method", string(md.Name())),
			)
			m.entries[e.procedure] = e
		}
	}
	if err := pl.Err(); err != nil {
		return nil, cfgerr.Public(err)
	}
	return m, nil
}

// compile derives the methods and exposed headers of a procedure.
func (e *entry) compile(md protoreflect.MethodDescriptor, expose []string) {
	methods := core.ConnectMethods(md)
	e.get = slices.Contains(methods, http.MethodGet)
	e.allowMethods = strings.Join(methods, ", ")
	e.exposeGRPC = core.HeaderList(grpcExposed, expose)
	if md.IsStreamingClient() || md.IsStreamingServer() {
		e.exposeOther = core.HeaderList(expose, connectStreamExposed)
		return
	}
	trailers := make([]string, len(expose))
	for i, h := range expose {
		if h == "*" {
			trailers[i] = h
		} else {
			trailers[i] = connectTrailerPrefix + h
		}
	}
	e.exposeOther = core.HeaderList(expose, trailers)
}
