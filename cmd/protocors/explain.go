package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/protocors/protocors/internal/core"
	"github.com/protocors/protocors/internal/inspect"
	"github.com/protocors/protocors/internal/route"
)

// report is what explain prints; its JSON form is the --json output.
type report struct {
	// RuntimeOrigins are the --origins, the runtime default policy.
	RuntimeOrigins []string `json:"runtime_origins,omitempty"`
	// OriginSets are the --origin-set bindings: each set's members, by name.
	OriginSets map[string][]string `json:"origin_sets,omitempty"`
	RPCs       []rpcReport         `json:"rpcs"`
}

type rpcReport struct {
	// RPC is the method's full name.
	RPC  string `json:"rpc"`
	File string `json:"file"`
	// Kind is unary, client_streaming, server_streaming or bidi_streaming.
	Kind string `json:"kind"`
	// CORS reports whether the middlewares handle CORS for the RPC; when
	// false its requests pass through untouched.
	CORS bool `json:"cors"`
	// Policy is the effective policy, absent when no scope supplies one.
	Policy  *policyReport   `json:"policy,omitempty"`
	Connect connectReport   `json:"connect"`
	Routes  []route.Binding `json:"routes"`
	// Uncacheable lists, per gateway route of the RPC, the URLs where its
	// preflight answer is sent with Access-Control-Max-Age: 0, and why.
	Uncacheable []inspect.Uncacheable `json:"uncacheable,omitempty"`
	// Problems are what New (and protocors check) would refuse.
	Problems []string `json:"problems,omitempty"`
}

type connectReport struct {
	Path    string   `json:"path"`
	Methods []string `json:"methods"`
}

type policyReport struct {
	Enabled field `json:"enabled"`
	// AllowOrigins are the literal origins; AllowOriginSets the names of
	// the sets whose members are allowed too. The two merge as one group,
	// so they always come from the same scope.
	AllowOrigins     field `json:"allow_origins"`
	AllowOriginSets  field `json:"allow_origin_sets"`
	AllowCredentials field `json:"allow_credentials"`
	AllowHeaders     field `json:"allow_headers"`
	ExposeHeaders    field `json:"expose_headers"`
	MaxAgeSeconds    field `json:"max_age_seconds"`
	// Origins are the effective origins, each with where it came from: the
	// literal ones, then the members of each named set. An origin that two
	// sources allow appears once per source.
	Origins []originReport `json:"origins"`
	// OriginSets are the sets the policy names, bound or not.
	OriginSets []setReport `json:"origin_sets"`
}

// originReport is one effective origin and where it came from.
type originReport struct {
	Origin string `json:"origin"`
	// Set is the origin set the origin is a member of, bound by
	// --origin-set; empty for an allow_origins entry.
	Set string `json:"set,omitempty"`
	// Scope and From say which scope lists the origin or names its set, as
	// for the fields.
	Scope string `json:"scope"`
	From  string `json:"from,omitempty"`
}

// setReport is one origin set a policy names.
type setReport struct {
	Name string `json:"name"`
	// Bound reports whether --origin-set binds the set; New fails for an
	// enabled RPC naming a set that is not bound.
	Bound   bool     `json:"bound"`
	Members []string `json:"members"`
}

// field is one effective value and where it came from.
type field struct {
	// Value is the effective value: a bool, a list, or the max age (null
	// when unset: the header is omitted).
	Value any `json:"value"`
	// Scope is "file", "service", "method", "default" (runtime) or "none"
	// when no scope sets the field.
	Scope string `json:"scope"`
	// From names the descriptor that set it: a file path, a service or
	// method full name, or "runtime default".
	From string `json:"from,omitempty"`
}

func newReport(img *inspect.Image, o *options) report {
	r := core.Resolver{Default: o.defaultPolicy()}
	opts := o.originOptions()
	out := report{RuntimeOrigins: o.origins, RPCs: []rpcReport{}}
	if len(o.sets) > 0 {
		out.OriginSets = o.sets
	}
	// Mistakes in a binding's members, reported on the RPCs that name the
	// set, as check reports them once.
	setProblems := map[string][]string{}
	for name, members := range o.sets {
		for _, p := range core.ValidateSets(map[string][]string{name: members}, opts) {
			setProblems[name] = append(setProblems[name], p.Error())
		}
	}
	routes := inspect.CompileRoutes(img, &r, opts)
	for _, md := range img.Methods() {
		e := r.Resolve(md)
		rr := rpcReport{
			RPC:     string(md.FullName()),
			File:    md.ParentFile().Path(),
			Kind:    inspect.Kind(md),
			CORS:    e.Enabled,
			Connect: connectReport{Path: core.Procedure(md), Methods: core.ConnectMethods(md)},
			Routes:  route.Bindings(md),
		}
		if rr.Routes == nil {
			rr.Routes = []route.Binding{}
		}
		if p := e.Policy; p != nil {
			src := func(n int, v any) field {
				f := field{Value: v, Scope: e.Source(n).String()}
				if e.Source(n) != core.ScopeNone {
					f.From = e.SourceName(n)
				}
				return f
			}
			var maxAge any
			if p.MaxAgeSeconds != nil {
				maxAge = p.GetMaxAgeSeconds()
			}
			rr.Policy = &policyReport{
				Enabled:          src(core.FieldEnabled, e.Enabled),
				AllowOrigins:     src(core.FieldAllowOrigins, list(p.AllowOrigins)),
				AllowOriginSets:  src(core.FieldAllowOriginSets, list(p.AllowOriginSets)),
				AllowCredentials: src(core.FieldAllowCredentials, p.GetAllowCredentials()),
				AllowHeaders:     src(core.FieldAllowHeaders, list(p.AllowHeaders)),
				ExposeHeaders:    src(core.FieldExposeHeaders, list(p.ExposeHeaders)),
				MaxAgeSeconds:    src(core.FieldMaxAgeSeconds, maxAge),
				Origins:          []originReport{},
				OriginSets:       []setReport{},
			}
			group := src(core.FieldAllowOrigins, nil)
			for _, origin := range p.AllowOrigins {
				rr.Policy.Origins = append(rr.Policy.Origins, originReport{Origin: origin, Scope: group.Scope, From: group.From})
			}
			for _, name := range p.AllowOriginSets {
				members, bound := o.sets[name]
				rr.Policy.OriginSets = append(rr.Policy.OriginSets, setReport{Name: name, Bound: bound, Members: list(members)})
				for _, origin := range members {
					rr.Policy.Origins = append(rr.Policy.Origins, originReport{Origin: origin, Set: name, Scope: group.Scope, From: group.From})
				}
			}
		}
		if err := core.Validate(&e, opts).Err(); err != nil {
			var ps *core.Error
			if errors.As(err, &ps) {
				for _, p := range ps.Problems {
					rr.Problems = append(rr.Problems, p.Error())
				}
			}
		}
		if e.Enabled {
			for _, name := range e.Policy.AllowOriginSets {
				rr.Problems = append(rr.Problems, setProblems[name]...)
			}
		}
		rr.Uncacheable = routes.Uncacheable(rr.RPC)
		out.RPCs = append(out.RPCs, rr)
	}
	return out
}

func list(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func explain(img *inspect.Image, o *options, stdout, stderr io.Writer) int {
	rep := newReport(img, o)
	var err error
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = writeTable(stdout, rep)
	}
	if err != nil {
		fmt.Fprintf(stderr, "protocors explain: %v\n", err)
		return exitUsage
	}
	return exitOK
}

const tableLegend = `The allow_origins rows are the effective origins, one per line: the literal ones
(allow_origins, or --origins), then the members of each set allow_origin_sets names.
allow_headers and expose_headers list the application's headers: the middlewares
always allow and expose the protocols' own (Content-Type, Connect-*, Grpc-*, ...).
FROM is the scope that set the field: file, service, method, or the runtime default.
An "uncacheable" line under a gateway route names URLs where the gateway middleware
answers that route's preflights that ask for a header with Access-Control-Max-Age: 0,
and the other RPC there that causes it.
`

// writeTable writes rep as one aligned block per RPC.
func writeTable(w io.Writer, rep report) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if len(rep.RuntimeOrigins) > 0 {
		fmt.Fprintf(tw, "runtime default origins: %s\n", strings.Join(rep.RuntimeOrigins, ", "))
	}
	names := make([]string, 0, len(rep.OriginSets))
	for name := range rep.OriginSets {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		fmt.Fprintf(tw, "origin set %s (--origin-set): %s\n", name, value(list(rep.OriginSets[name])))
	}
	if len(rep.RuntimeOrigins) > 0 || len(names) > 0 {
		fmt.Fprintln(tw)
	}
	for i, r := range rep.RPCs {
		if i > 0 {
			fmt.Fprintln(tw)
		}
		state := "CORS enabled"
		switch {
		case r.Policy == nil:
			state = "no CORS policy: requests pass through untouched"
		case !r.CORS:
			state = "CORS disabled: requests pass through untouched"
		}
		fmt.Fprintf(tw, "%s (%s): %s\n", r.RPC, strings.ReplaceAll(r.Kind, "_", "-"), state)
		if p := r.Policy; p != nil {
			fmt.Fprintf(tw, "  FIELD\tVALUE\tFROM\n")
			row := func(name string, f field) {
				from := "-"
				if f.Scope != "none" {
					from = f.Scope + " " + f.From
					if f.Scope == "default" {
						from = f.From // "runtime default"
					}
				} else if name == "enabled" {
					from = "(a scope sets a policy)"
				}
				fmt.Fprintf(tw, "  %s\t%s\t%s\n", name, value(f.Value), from)
			}
			row("enabled", p.Enabled)
			originRows(tw, p)
			row("allow_credentials", p.AllowCredentials)
			row("allow_headers", p.AllowHeaders)
			row("expose_headers", p.ExposeHeaders)
			maxAge := p.MaxAgeSeconds
			if len(r.Uncacheable) > 0 && maxAge.Value != nil {
				maxAge.Value = fmt.Sprintf("%v (0 at some URLs: see uncacheable)", maxAge.Value)
			}
			row("max_age_seconds", maxAge)
		}
		// Routes are plain lines: they do not widen the policy columns.
		fmt.Fprintf(tw, "  connect: %s %s\n", strings.Join(r.Connect.Methods, ","), r.Connect.Path)
		if len(r.Routes) == 0 {
			fmt.Fprintf(tw, "  gateway: none (no google.api.http rule)\n")
		}
		for _, rt := range r.Routes {
			body := ""
			if rt.Body != "" {
				body = " (body " + rt.Body + ")"
			}
			fmt.Fprintf(tw, "  gateway: %s %s%s\n", rt.Method, rt.Path, body)
			for _, u := range r.Uncacheable {
				if u.Route != rt.Method+" "+rt.Path {
					continue
				}
				example := ""
				if u.Example != "" {
					example = " (such as " + u.Example + ")"
				}
				fmt.Fprintf(tw, "    uncacheable at the URLs it shares with %s%s, for preflights that ask for a header: %s\n", u.OtherRoute, example, u.Reason)
			}
		}
		for _, p := range r.Problems {
			fmt.Fprintf(tw, "  problem: %s\n", p)
		}
	}
	if len(rep.RPCs) == 0 {
		fmt.Fprintln(tw, "no RPCs in the image")
	} else {
		fmt.Fprintf(tw, "\n%s", tableLegend)
	}
	return tw.Flush()
}

// originRows writes the effective origins, one per line, each with where
// it came from, then a line for each named set that contributes none (not
// bound, or bound to no origins).
func originRows(tw io.Writer, p *policyReport) {
	label := "allow_origins"
	row := func(v, from string) {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", label, v, from)
		label = ""
	}
	scope := func(scope, from string) string {
		if scope == "default" {
			return "runtime default (--origins)"
		}
		return scope + " " + from
	}
	for _, o := range p.Origins {
		if o.Set == "" {
			row(o.Origin, scope(o.Scope, o.From))
		} else {
			row(o.Origin, "set "+o.Set+" (bound by --origin-set), named by "+scope(o.Scope, o.From))
		}
	}
	for _, s := range p.OriginSets {
		switch {
		case !s.Bound:
			row("-", "set "+s.Name+" NOT BOUND (bind it with --origin-set "+s.Name+"=ORIGIN,...), named by "+scope(p.AllowOriginSets.Scope, p.AllowOriginSets.From))
		case len(s.Members) == 0:
			row("-", "set "+s.Name+" (bound by --origin-set to no origins), named by "+scope(p.AllowOriginSets.Scope, p.AllowOriginSets.From))
		}
	}
	if label != "" {
		row("-", "-") // no scope lists an origin
	}
}

func value(v any) string {
	switch v := v.(type) {
	case nil:
		return "unset"
	case []string:
		if len(v) == 0 {
			return "-"
		}
		return strings.Join(v, ", ")
	default:
		return fmt.Sprint(v)
	}
}
