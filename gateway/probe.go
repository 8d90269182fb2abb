package gateway

import (
	"net/http"
	"strings"

	"github.com/protocors/protocors/internal/core"
	"github.com/protocors/protocors/internal/route"
)

// ProbeTargets lists, for protocorstest.Verify, every route the middleware
// knows, with a path filled from its template that reaches it, and the
// requests that check the middleware is mounted in front of it. Routes no
// filled path reaches (another route of the method always wins there) are
// left out. Its argument's type is internal: only this module can call it.
func (m *Middleware) ProbeTargets(core.ProbeToken) []core.ProbeTarget {
	st := m.state.Load()
	var out []core.ProbeTarget
	for id, e := range st.entries {
		path, ok := st.probePath(id, e)
		if !ok {
			continue
		}
		t := core.ProbeTarget{
			Middleware: "gateway",
			RPC:        e.name(),
			Service:    e.service,
			Route:      e.method + " " + e.template,
			Path:       path,
			Method:     e.method,
		}
		if e.engine != nil {
			t.Origin = e.engine.ProbeOrigin()
		}
		if e.method == http.MethodPost && st.gate.Protection() == core.ProtectionOn {
			t.Foreign = core.ProbeForeignFor(e.engine)
			// A query the mux cannot parse: a generated handler answers
			// 400 before calling the RPC, should the protection not
			// refuse the probe.
			t.Query = "protocors-verify=%zz"
		}
		out = append(out, t)
	}
	return out
}

// probeValues fill a template's wildcards, tried in turn until the path
// reaches the route.
var probeValues = []string{"protocors-verify", "x", "1", "a:b"}

// probePath fills e's template so that the mux (as the table mirrors it)
// runs e for e.method there.
func (st *state) probePath(id int, e *entry) (string, bool) {
	for _, v := range probeValues {
		path := fillTemplate(e.tmpl, v)
		p, ok := route.PathOf(path, "", st.mode)
		if !ok {
			continue
		}
		if got, res := st.table.Lookup(e.method, &p); res == route.Found && got == id {
			return path, true
		}
	}
	return "", false
}

// fillTemplate returns a path t matches, each wildcard one component v.
func fillTemplate(t *route.Template, v string) string {
	var b strings.Builder
	for _, s := range t.Segments {
		b.WriteByte('/')
		if s.Kind == route.Literal {
			b.WriteString(s.Literal)
		} else {
			b.WriteString(v)
		}
	}
	if t.Verb != "" {
		b.WriteString(":" + t.Verb)
	}
	return b.String()
}
