package core

import (
	"slices"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/protocors/protocors/corspb"
)

// Pipeline is the one way from a descriptor source to compiled engines,
// shared by both middlewares (and, through their New, by the protocors
// command): it reads the settings, walks the services, resolves each
// method's policy through its scopes, validates it, and compiles it into an
// [Engine] shared with every method whose configuration is equal. Problems
// accumulate; [Pipeline.Err] returns them all at the end, so one error names
// every mistake.
type Pipeline struct {
	settings *Settings
	resolver Resolver
	interner Interner
	problems Problems
	metrics  *Metrics

	// credSets holds, per bound origin set, only the members that cannot
	// go with credentials; nil until a credentialed policy names a set.
	credSets map[string][]string
	// expanded holds the effective origins of each distinct
	// (allow_origins, allow_origin_sets) pair that names a set, by
	// content; expandedByID the same by the slices' identity, which RPCs
	// inheriting one scope's lists share.
	expanded     map[string][]string
	expandedByID map[[2]listID][]string
}

// NewPipeline starts a pipeline over the settings s. The options' own
// mistakes (WithFiles(nil), an empty WithOrigins, a bad default origin) are
// its first problems.
func NewPipeline(s *Settings) *Pipeline {
	def, ps := s.defaultPolicy()
	return &Pipeline{settings: s, resolver: Resolver{Default: def}, problems: ps}
}

// Services returns every service of the descriptor source, the files in
// path order and each file's services in declaration order.
func (p *Pipeline) Services() []protoreflect.ServiceDescriptor {
	if p.settings.Files == nil {
		return nil
	}
	var files []protoreflect.FileDescriptor
	p.settings.Files.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		files = append(files, fd)
		return true
	})
	slices.SortFunc(files, func(a, b protoreflect.FileDescriptor) int { return strings.Compare(a.Path(), b.Path()) })
	var out []protoreflect.ServiceDescriptor
	for _, fd := range files {
		for i := 0; i < fd.Services().Len(); i++ {
			out = append(out, fd.Services().Get(i))
		}
	}
	return out
}

// Method resolves md's effective policy and validates it. ok reports
// whether the method is CORS-enabled and its policy valid, so it can be
// compiled; problems are kept for Err.
func (p *Pipeline) Method(md protoreflect.MethodDescriptor) (eff *Effective, ok bool) {
	e := p.resolver.Resolve(md)
	return p.check(&e)
}

// Route merges a policy given at run time for a route the descriptors do not
// show (gateway.WithRoute) over the default, as a method option, and
// validates it like Method.
func (p *Pipeline) Route(name string, policy *corspb.Policy) (eff *Effective, ok bool) {
	e := Merge(Layer{Scope: ScopeDefault, Policy: p.resolver.Default}, Layer{Scope: ScopeMethod, Name: name, Policy: policy})
	return p.check(&e)
}

func (p *Pipeline) check(e *Effective) (*Effective, bool) {
	if !e.Enabled {
		return e, false
	}
	opts := p.settings.OriginOptions
	if opts.CheckBindings && len(e.Policy.AllowOriginSets) > 0 && e.Policy.GetAllowCredentials() {
		// Validate checks each member of a named set against credentials,
		// per RPC: give it only the members that fail, found once, so a
		// thousand RPCs naming a set of thousands cost one pass over it.
		// The members were validated on their own where they were bound.
		opts.Sets = p.credentialSets()
	}
	ps := Validate(e, opts)
	p.problems = append(p.problems, ps...)
	return e, len(ps) == 0
}

// credentialSets returns the bound sets, each with only its members that
// parse and cannot go with credentials (an empty list for a set whose
// members all can), computed once per pipeline.
func (p *Pipeline) credentialSets() map[string][]string {
	if p.credSets != nil {
		return p.credSets
	}
	opts := p.settings.OriginOptions
	p.credSets = make(map[string][]string, len(opts.Sets))
	for name, members := range opts.Sets {
		bad := []string{}
		for _, o := range members {
			if op, err := ParseOrigin(o, opts); err == nil && op.checkCredentials(opts) != nil {
				bad = append(bad, o)
			}
		}
		p.credSets[name] = bad
	}
	return p.credSets
}

// Config is the configuration of a valid effective policy with the
// protocol's own request headers always allowed.
func (p *Pipeline) Config(e *Effective, protocolHeaders []string) Config {
	if pol := e.Policy; len(pol.AllowOriginSets) > 0 {
		// Expand the sets once per distinct naming, and hand every RPC
		// that names them the same slice, so the Interner finds their
		// engine by identity instead of sorting the members again.
		e = &Effective{Method: e.Method, Enabled: e.Enabled, Sources: e.Sources, Names: e.Names, Policy: &corspb.Policy{
			Enabled:          pol.Enabled,
			AllowOrigins:     p.origins(pol),
			AllowHeaders:     pol.AllowHeaders,
			ExposeHeaders:    pol.ExposeHeaders,
			AllowCredentials: pol.AllowCredentials,
			MaxAgeSeconds:    pol.MaxAgeSeconds,
		}}
	}
	c := ConfigOf(e, p.settings.OriginOptions, protocolHeaders)
	c.Debug = p.settings.Debug
	return c
}

// origins returns the effective origins of pol, which names a set: its
// allow_origins and the members of its sets, as Origins lists them,
// computed once per distinct (allow_origins, allow_origin_sets).
func (p *Pipeline) origins(pol *corspb.Policy) []string {
	if p.expanded == nil {
		p.expanded = make(map[string][]string)
		p.expandedByID = make(map[[2]listID][]string)
	}
	id := [2]listID{idOf(pol.AllowOrigins), idOf(pol.AllowOriginSets)}
	if out, ok := p.expandedByID[id]; ok {
		return out
	}
	k := strings.Join(pol.AllowOrigins, "\n") + "\x00" + strings.Join(pol.AllowOriginSets, "\n")
	out, ok := p.expanded[k]
	if !ok {
		out = Origins(pol, p.settings.OriginOptions)
		p.expanded[k] = out
	}
	p.expandedByID[id] = out
	return out
}

// Compile returns the Engine for c, shared with every equal Config compiled
// by this pipeline. c comes from Config, so compiling cannot fail.
func (p *Pipeline) Compile(c Config) *Engine { return p.interner.Compile(c) }

// Problem records a problem found outside the policies (a route template, an
// option).
func (p *Pipeline) Problem(pr *Problem) { p.problems = append(p.problems, pr) }

// Err returns every problem found so far as one *Error, or nil. The
// middlewares call it once, at the end of New: when it is nil, the origin
// set bindings no RPC uses or that hold no origins are logged.
func (p *Pipeline) Err() error {
	p.settings.logOriginSets(p.problems) // sets.go
	return p.problems.Err()
}

// Metrics returns the decision counter of WithMeterProvider, nil without
// one; it is created once per pipeline.
func (p *Pipeline) Metrics() *Metrics {
	if p.settings.MeterProvider == nil {
		return nil
	}
	if p.metrics == nil {
		m, err := NewMetrics(p.settings.MeterProvider)
		if err != nil {
			p.Problem(&Problem{Field: "protocors.WithMeterProvider", Kind: KindOption, Message: "the meter provider refused the counter: " + err.Error()})
			return nil
		}
		p.metrics = m
	}
	return p.metrics
}
