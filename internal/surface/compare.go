package surface

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/protocors/protocors/internal/core"
	"github.com/protocors/protocors/internal/inspect"
	"github.com/protocors/protocors/internal/route"
)

// Class says which way a change moves the cross-origin surface.
type Class string

const (
	// Widens: other origins may do more than before (an RPC or route newly
	// reachable, an origin, set, header, credentials or method allowed, a
	// longer preflight cache, a binding that becomes a GET).
	Widens Class = "widens"
	// Narrows: the reverse of a widening.
	Narrows Class = "narrows"
	// Neutral: a change that neither widens nor narrows (an RPC without CORS
	// added, a list reordered with the same members, ...).
	Neutral Class = "neutral"
)

// Change is one difference between two surfaces.
type Change struct {
	Class Class `json:"class"`
	// RPC is the method's full name; Route the gateway binding
	// ("GET /v1/items/{id}") when the change is about one.
	RPC   string `json:"rpc"`
	Route string `json:"route,omitempty"`
	// Field is a Policy field (allow_origins, ...), or "cors" (the RPC's
	// CORS state), "origin set NAME" (a set's bound members), "connect
	// methods", "route", "route method", "route body" or
	// "Access-Control-Allow-Methods".
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
	// Scope is what caused the change: "file", "service", "method",
	// "default" (the runtime default), "origin set" or "none"; From names
	// it (a file path, a service or method full name, a set name).
	Scope string `json:"scope"`
	From  string `json:"from,omitempty"`

	// Descriptor and Path locate the cause in the newer version (for a
	// removal, in the older one): the descriptor that carries it and the
	// source path of the option value within its file. Descriptor is nil
	// only when neither version has the RPC.
	Descriptor protoreflect.Descriptor `json:"-"`
	Path       protoreflect.SourcePath `json:"-"`
	// Against is true when Descriptor is in the older version.
	Against bool `json:"-"`
}

// Detail is the change without its class:
// "shop.v1.Shop.Get GET /v1/items/{id}: allow_credentials: false -> true (service shop.v1.Shop)".
func (c Change) Detail() string {
	var b strings.Builder
	b.WriteString(c.RPC)
	if c.Route != "" {
		b.WriteByte(' ')
		b.WriteString(c.Route)
	}
	fmt.Fprintf(&b, ": %s: %s -> %s (%s)", c.Field, c.Old, c.New, c.cause())
	return b.String()
}

// String is the change as `protocors diff` prints it: its class, then
// Detail.
func (c Change) String() string { return string(c.Class) + " " + c.Detail() }

func (c Change) cause() string {
	switch c.Scope {
	case "default":
		return "runtime default"
	case "none":
		return "no scope"
	}
	return c.Scope + " " + c.From
}

// Widened reports whether any change widens.
func Widened(cs []Change) bool {
	return slices.ContainsFunc(cs, func(c Change) bool { return c.Class == Widens })
}

// Compare returns every change from old to new: for each RPC (those of new
// in order, then those only old has), its CORS state, then, when CORS is
// enabled on both sides, each policy field, then its Connect methods, its
// routes and the methods each route's preflight answer lists.
func Compare(old, new *Surface) []Change {
	var names []string
	for _, r := range new.rpcs {
		names = append(names, r.Name())
	}
	for _, r := range old.rpcs {
		if new.byName[r.Name()] == nil {
			names = append(names, r.Name())
		}
	}
	oldURL, newURL := old.urlMethods(), new.urlMethods()
	var out []Change
	for _, name := range names {
		c := &comparison{old: old, new: new, o: old.byName[name], n: new.byName[name], name: name}
		c.cors()
		if c.o.enabled() && c.n.enabled() {
			c.fields()
		}
		c.connect()
		c.routes(oldURL, newURL)
		out = append(out, c.out...)
	}
	return out
}

// comparison compares one RPC; o or n is nil when its side lacks the RPC.
type comparison struct {
	old, new *Surface
	o, n     *RPC
	name     string
	out      []Change
}

// add records a change caused by scope s of side r's RPC; field names the
// Policy field whose option value is the cause's position ("" for the
// option, "-" for the RPC itself).
func (c *comparison) add(class Class, field, oldV, newV string, r *RPC, s core.Scope, policyField string) *Change {
	ch := Change{Class: class, RPC: c.name, Field: field, Old: oldV, New: newV, Scope: s.String()}
	if r != nil {
		md := r.Method
		ch.Against = r == c.o
		switch s {
		case core.ScopeFile:
			ch.Descriptor, ch.From = md.ParentFile(), md.ParentFile().Path()
		case core.ScopeService:
			ch.Descriptor, ch.From = md.Parent(), string(md.Parent().FullName())
		case core.ScopeMethod:
			ch.Descriptor, ch.From = md, string(md.FullName())
		default:
			ch.Descriptor = md
		}
		if policyField != "-" && (s == core.ScopeFile || s == core.ScopeService || s == core.ScopeMethod) {
			ch.Path = inspect.PolicyPath(ch.Descriptor, policyField)
		} else {
			ch.Path = inspect.DescriptorPath(md)
		}
	}
	c.out = append(c.out, ch)
	return &c.out[len(c.out)-1]
}

// side returns the RPC whose scopes explain a field: the newer one when a
// scope there sets the field, the older one otherwise (the field was unset
// where it had been set).
func (c *comparison) side(field int) (*RPC, core.Scope) {
	if c.n != nil && c.n.Eff.Source(field) != core.ScopeNone {
		return c.n, c.n.Eff.Source(field)
	}
	if c.o != nil && c.o.Eff.Source(field) != core.ScopeNone {
		return c.o, c.o.Eff.Source(field)
	}
	if c.n != nil {
		return c.n, core.ScopeNone
	}
	return c.o, core.ScopeNone
}

func (c *comparison) cors() {
	os, ns := c.o.state(), c.n.state()
	if os == ns {
		return
	}
	class := Neutral
	switch {
	case ns == "enabled":
		class = Widens
	case os == "enabled":
		class = Narrows
	}
	// The cause: the RPC's addition or removal under the scope that supplies
	// its policy, or the scope that sets enabled, or the scope whose policy
	// appeared or went away.
	var r *RPC
	var s core.Scope
	switch {
	case c.o == nil:
		r, s = c.n, c.n.PolicyScope
	case c.n == nil:
		r, s = c.o, c.o.PolicyScope
	case c.n.Eff.Source(core.FieldEnabled) != core.ScopeNone:
		r, s = c.n, c.n.Eff.Source(core.FieldEnabled)
	case c.o.Eff.Source(core.FieldEnabled) != core.ScopeNone:
		r, s = c.o, c.o.Eff.Source(core.FieldEnabled) // enabled: false removed
	case c.n.PolicyScope != core.ScopeNone:
		r, s = c.n, c.n.PolicyScope
	default:
		r, s = c.o, c.o.PolicyScope
	}
	field := "enabled"
	if s != core.ScopeNone && r.Eff.Source(core.FieldEnabled) != s {
		field = ""
	}
	if s == core.ScopeNone {
		s = core.ScopeMethod // only an RPC's own addition or removal gets here
	}
	c.add(class, "cors", c.describe(c.old, c.o), c.describe(c.new, c.n), r, s, field)
}

// describe is an RPC's CORS state, with the policy's gist when enabled.
func (c *comparison) describe(s *Surface, r *RPC) string {
	st := r.state()
	if st == "none" {
		return "no policy"
	}
	if st != "enabled" {
		return st
	}
	p := r.Eff.Policy
	parts := []string{"origins " + list(p.GetAllowOrigins())}
	if len(p.GetAllowOriginSets()) > 0 {
		parts = append(parts, "origin sets "+s.sets(p.GetAllowOriginSets()))
	}
	parts = append(parts, "credentials "+strconv.FormatBool(p.GetAllowCredentials()))
	if len(p.GetAllowHeaders()) > 0 {
		parts = append(parts, "headers "+list(p.GetAllowHeaders()))
	}
	if len(p.GetExposeHeaders()) > 0 {
		parts = append(parts, "exposed "+list(p.GetExposeHeaders()))
	}
	if p.MaxAgeSeconds != nil {
		parts = append(parts, "max age "+maxAge(p))
	}
	return "enabled [" + strings.Join(parts, "; ") + "]"
}

// sets lists set names, each with the members the side binds to it.
func (s *Surface) sets(names []string) string {
	var out []string
	for _, n := range names {
		m, ok := s.setMembers(n)
		switch {
		case !ok:
			out = append(out, n+" (not bound)")
		case len(m) == 0:
			out = append(out, n+" (bound to no origins)")
		default:
			out = append(out, n+" ("+strings.Join(m, " ")+")")
		}
	}
	return strings.Join(out, ", ")
}

// fields compares the policy fields of an RPC enabled on both sides.
func (c *comparison) fields() {
	po, pn := c.o.Eff.Policy, c.n.Eff.Policy

	c.list("allow_origins", core.FieldAllowOrigins, po.GetAllowOrigins(), pn.GetAllowOrigins(), coversOrigin)
	if class, ok := classify(po.GetAllowOriginSets(), pn.GetAllowOriginSets(), coversExact); ok {
		r, s := c.side(core.FieldAllowOriginSets)
		c.add(class, "allow_origin_sets", orNone(c.old.sets(po.GetAllowOriginSets())), orNone(c.new.sets(pn.GetAllowOriginSets())), r, s, "allow_origin_sets")
	}
	// A set both versions name, bound to other members.
	for _, name := range pn.GetAllowOriginSets() {
		if !slices.Contains(po.GetAllowOriginSets(), name) {
			continue
		}
		mo, _ := c.old.setMembers(name)
		mn, _ := c.new.setMembers(name)
		if class, ok := classify(mo, mn, coversOrigin); ok {
			ch := c.add(class, "origin set "+name, list(mo), list(mn), c.n, c.n.Eff.Source(core.FieldAllowOriginSets), "allow_origin_sets")
			ch.Scope, ch.From = "origin set", name
		}
	}
	if co, cn := po.GetAllowCredentials(), pn.GetAllowCredentials(); co != cn {
		class := Narrows
		if cn {
			class = Widens
		}
		r, s := c.side(core.FieldAllowCredentials)
		c.add(class, "allow_credentials", strconv.FormatBool(co), strconv.FormatBool(cn), r, s, "allow_credentials")
	}
	c.list("allow_headers", core.FieldAllowHeaders, po.GetAllowHeaders(), pn.GetAllowHeaders(), coversHeader)
	c.list("expose_headers", core.FieldExposeHeaders, po.GetExposeHeaders(), pn.GetExposeHeaders(), coversHeader)
	if mo, mn := maxAge(po), maxAge(pn); mo != mn {
		class := Neutral
		switch ao, an := cacheSeconds(po.MaxAgeSeconds), cacheSeconds(pn.MaxAgeSeconds); {
		case an > ao:
			class = Widens
		case an < ao:
			class = Narrows
		}
		r, s := c.side(core.FieldMaxAgeSeconds)
		c.add(class, "max_age_seconds", mo, mn, r, s, "max_age_seconds")
	}
}

// cacheSeconds is how long a browser caches a preflight answer: without
// Access-Control-Max-Age, the Fetch standard's default of 5 seconds.
func cacheSeconds(v *uint32) uint32 {
	if v == nil {
		return 5
	}
	return *v
}

func (c *comparison) list(name string, field int, o, n []string, covers func([]string, string) bool) {
	class, ok := classify(o, n, covers)
	if !ok {
		return
	}
	r, s := c.side(field)
	c.add(class, name, list(o), list(n), r, s, name)
}

// classify compares two lists: widens when new holds a value old does not
// cover, narrows when old holds one new does not cover, neutral when they
// differ otherwise; ok is false when they hold the same values.
func classify(o, n []string, covers func([]string, string) bool) (Class, bool) {
	widen := slices.ContainsFunc(n, func(v string) bool { return !covers(o, v) })
	narrow := slices.ContainsFunc(o, func(v string) bool { return !covers(n, v) })
	switch {
	case widen:
		return Widens, true
	case narrow:
		return Narrows, true
	}
	so, sn := slices.Clone(o), slices.Clone(n)
	slices.Sort(so)
	slices.Sort(sn)
	if slices.Equal(slices.Compact(so), slices.Compact(sn)) {
		return "", false
	}
	return Neutral, true
}

func coversExact(l []string, v string) bool { return slices.Contains(l, v) }

// coversOrigin reports whether some entry of l allows every origin entry v
// allows: the same entry, "*", or a wildcard pattern ("https://*.example.com",
// "http://localhost:*") that matches v, v's own wildcard standing for any
// label or port.
func coversOrigin(l []string, v string) bool {
	for _, p := range l {
		switch {
		case p == v, p == "*":
			return true
		case v == "*":
			continue
		case strings.Contains(p, "*") && !strings.ContainsAny(p, `[]?\`):
			if ok, _ := path.Match(p, v); ok {
				return true
			}
		}
	}
	return false
}

// coversHeader reports whether l allows or exposes header v: by name, in
// any case, or "*", which never covers Authorization (Fetch standard).
func coversHeader(l []string, v string) bool {
	for _, h := range l {
		if strings.EqualFold(h, v) || h == "*" && !strings.EqualFold(v, "Authorization") {
			return true
		}
	}
	return false
}

// connect compares the Connect methods: GET appears for a unary method
// declared idempotency_level = NO_SIDE_EFFECTS, and a GET is a simple
// request that cross-origin request protection lets through.
func (c *comparison) connect() {
	var mo, mn []string
	if c.o != nil {
		mo = c.o.Connect
	}
	if c.n != nil {
		mn = c.n.Connect
	}
	go_, gn := slices.Contains(mo, "GET"), slices.Contains(mn, "GET")
	if go_ == gn {
		return
	}
	class, r := Widens, c.n
	if go_ {
		class, r = Narrows, c.o
		if c.n != nil {
			r = c.n
		}
	}
	ch := c.add(class, "connect methods", orAbsent(mo), orAbsent(mn), r, core.ScopeMethod, "-")
	ch.Path = append(inspect.DescriptorPath(r.Method), methodOptionsField, idempotencyLevelField)
}

// Field numbers of descriptor.proto, for source paths.
const (
	methodOptionsField    = 4  // MethodDescriptorProto.options
	idempotencyLevelField = 34 // MethodOptions.idempotency_level
)

// httpPath is the source path of md's google.api.http option.
func httpPath(md protoreflect.MethodDescriptor) protoreflect.SourcePath {
	return append(inspect.DescriptorPath(md), methodOptionsField, int32(annotations.E_Http.TypeDescriptor().Number()))
}

// routes compares the gateway bindings and what each route's preflight
// answer lists in Access-Control-Allow-Methods.
func (c *comparison) routes(oldURL, newURL map[string]urlAnswer) {
	var bo, bn []route.Binding
	if c.o != nil {
		bo = c.o.Routes
	}
	if c.n != nil {
		bn = c.n.Routes
	}
	same := func(a, b route.Binding) bool { return a.Method == b.Method && a.Path == b.Path }
	var added, removed []route.Binding
	for _, b := range bn {
		if !slices.ContainsFunc(bo, func(o route.Binding) bool { return same(o, b) }) {
			added = append(added, b)
		}
	}
	for _, b := range bo {
		if !slices.ContainsFunc(bn, func(n route.Binding) bool { return same(n, b) }) {
			removed = append(removed, b)
		}
	}
	at := func(r *RPC, field, oldV, newV, rt string, class Class) {
		ch := c.add(class, field, oldV, newV, r, core.ScopeMethod, "-")
		ch.Route = rt
		ch.Path = httpPath(r.Method)
	}
	for _, a := range added {
		// The same path under another HTTP method: the binding's method changed.
		if i := slices.IndexFunc(removed, func(r route.Binding) bool { return r.Path == a.Path }); i >= 0 {
			r := removed[i]
			removed = slices.Delete(removed, i, i+1)
			class := Neutral
			switch {
			case a.Method == "GET":
				class = Widens
			case r.Method == "GET":
				class = Narrows
			}
			at(c.n, "route method", r.Method, a.Method, a.Method+" "+a.Path, class)
			continue
		}
		class := Neutral
		if a.Method == "GET" || c.n.enabled() {
			class = Widens
		}
		at(c.n, "route", "absent", binding(a), a.Method+" "+a.Path, class)
	}
	for _, r := range removed {
		class := Neutral
		if r.Method == "GET" || c.o.enabled() {
			class = Narrows
		}
		side := c.o
		if c.n != nil {
			side = c.n
		}
		at(side, "route", binding(r), "absent", r.Method+" "+r.Path, class)
	}
	if c.o == nil || c.n == nil {
		return
	}
	for _, b := range bn {
		i := slices.IndexFunc(bo, func(o route.Binding) bool { return same(o, b) })
		if i < 0 {
			continue
		}
		rt := b.Method + " " + b.Path
		// A body makes the gateway middleware allow Content-Type at the URL.
		if ob := bo[i].Body; (ob == "") != (b.Body == "") && c.n.enabled() && c.o.enabled() {
			class := Widens
			if b.Body == "" {
				class = Narrows
			}
			at(c.n, "route body", orNone(ob), orNone(b.Body), rt, class)
		} else if ob != b.Body {
			at(c.n, "route body", orNone(ob), orNone(b.Body), rt, Neutral)
		}
		ko := oldURL[routeKey(c.name, bo[i])]
		kn := newURL[routeKey(c.name, b)]
		if ko.methods == nil || kn.methods == nil {
			continue // CORS off on a side: the cors line says it
		}
		class, ok := classify(ko.methods, kn.methods, coversExact)
		if !ok {
			continue
		}
		// The cause: the route of another RPC that now shares (or no longer
		// shares) the answer.
		var cause *RPC
		for _, m := range kn.methods {
			if !slices.Contains(ko.methods, m) {
				cause = kn.by[m]
				break
			}
		}
		if cause == nil {
			for _, m := range ko.methods {
				if !slices.Contains(kn.methods, m) {
					cause = c.new.byName[ko.by[m].Name()]
					break
				}
			}
		}
		ch := c.add(class, "Access-Control-Allow-Methods", strings.Join(ko.methods, ", "), strings.Join(kn.methods, ", "), c.n, core.ScopeMethod, "-")
		ch.Route = rt
		if cause != nil {
			ch.From, ch.Descriptor, ch.Path = cause.Name(), cause.Method, httpPath(cause.Method)
		} else {
			ch.Path = httpPath(c.n.Method)
		}
	}
}

func binding(b route.Binding) string {
	s := b.Method + " " + b.Path
	if b.Body != "" {
		s += " (body " + b.Body + ")"
	}
	return s
}

func list(l []string) string {
	if len(l) == 0 {
		return "-"
	}
	return strings.Join(l, ", ")
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func orAbsent(l []string) string {
	if l == nil {
		return "absent"
	}
	return list(l)
}

func itoa(v uint32) string { return strconv.FormatUint(uint64(v), 10) }
