package interceptor

import (
	"net/http"
	"slices"
	"strings"

	"github.com/protocors/protocors/internal/core"
)

// ProbeTargets lists, for protocorstest.Verify, every procedure the
// middleware knows, with the requests that check it is mounted in front of
// it. Its argument's type is internal: only this module can call it.
func (m *Middleware) ProbeTargets(core.ProbeToken) []core.ProbeTarget {
	st := m.state.Load()
	out := make([]core.ProbeTarget, 0, len(st.entries))
	for path, e := range st.entries {
		service, method, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
		t := core.ProbeTarget{
			Middleware: "interceptor",
			RPC:        service + "." + method,
			Service:    service,
			Route:      "POST " + path,
			Path:       path,
			Method:     http.MethodPost,
		}
		if e.engine != nil {
			t.Origin = e.engine.ProbeOrigin()
		}
		if st.gate.Protection() == core.ProtectionOn {
			// Connect answers a text/plain POST with 415 before the
			// handler runs, should the protection not refuse it.
			t.Foreign = core.ProbeForeignFor(e.engine)
		}
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b core.ProbeTarget) int { return strings.Compare(a.Path, b.Path) })
	return out
}
