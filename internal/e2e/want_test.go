package e2e_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/protocors/protocors/examples/icecream/shop"
)

// want is what the page must have seen.
type want struct {
	outcome string         // allowed, blocked (by the browser), error (sent by the server)
	status  int            // HTTP status (plain fetch), 0: not checked
	code    string         // Connect error code (Connect client), "": not checked
	fields  map[string]any // body values by dotted path ("iceCream.flavor", "iceCreams.0.flavor", "length")
	// exposed: the page reads X-Scoops-Left (exposed by the proto) and not
	// X-Served-By (not exposed), from the same response.
	exposed bool
	// notReached: no actual request whose path contains this reached the API
	// (the browser stopped it at the preflight).
	notReached string
	// blockedError: the error text a blocked call shows, "": the engine's
	// fetch TypeError (engine.blocked), which fetch and the Connect client
	// pass on.
	blockedError string
}

func (w want) check(t *testing.T, s *suite, o observation) {
	t.Helper()
	if o.Outcome != w.outcome {
		t.Fatalf("page saw %v, want outcome %s", o, w.outcome)
	}
	if w.outcome == "blocked" {
		text := cmp.Or(w.blockedError, s.engine.blocked)
		if !strings.Contains(o.Error, text) {
			t.Errorf("page saw error %q, want %s's %q", o.Error, s.engine.name, text)
		}
	}
	if w.status != 0 && o.Status != w.status {
		t.Errorf("page saw status %d, want %d: %v", o.Status, w.status, o)
	}
	if w.code != "" && o.Code != w.code {
		t.Errorf("page saw code %q, want %q: %v", o.Code, w.code, o)
	}
	for path, v := range w.fields {
		if got := lookup(o.Body, path); got != fmt.Sprint(v) {
			t.Errorf("page saw %s = %s, want %v: %v", path, got, v, o)
		}
	}
	if w.exposed {
		if o.ScoopsLeft == nil {
			t.Errorf("page cannot read %s, which the proto exposes: %v", shop.HeaderScoopsLeft, o)
		} else if _, err := strconv.Atoi(*o.ScoopsLeft); err != nil {
			t.Errorf("page read %s = %q, want a number", shop.HeaderScoopsLeft, *o.ScoopsLeft)
		}
		if o.ServedBy != nil {
			t.Errorf("page reads %s = %q, which the proto does not expose", shop.HeaderServedBy, *o.ServedBy)
		}
	}
	if w.notReached != "" {
		for _, m := range []string{"GET", "POST", "PUT", "DELETE"} {
			if s.seen.reached(m, w.notReached) {
				t.Errorf("a %s request to %s reached the API; the browser should have stopped it", m, w.notReached)
			}
		}
	}
}

// lookup returns the value at a dotted path in a JSON document as text
// ("<missing>" when absent). "length" of an array is its length.
func lookup(doc json.RawMessage, path string) string {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return "<not json>"
	}
	for p := range strings.SplitSeq(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[p]; !ok {
				return "<missing>"
			}
		case []any:
			if p == "length" {
				return strconv.Itoa(len(x))
			}
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(x) {
				return "<missing>"
			}
			v = x[i]
		default:
			return "<missing>"
		}
	}
	return fmt.Sprint(v)
}
