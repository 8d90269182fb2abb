package e2e_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/protocors/protocors/examples/icecream/shop"
)

// TestExamplePage runs the example as a user does, with its default origins
// (the page's own), clicks "Run every call" on its page and reads what the
// page shows for each call.
func TestExamplePage(t *testing.T) {
	inEachEngine(t, func(t *testing.T, s *suite) {
		ex := startExample(t)

		_, rows := runExamplePage(t, s, ex.PageURL)

		want := map[string]string{
			"connect-get":        "allowed",
			"connect-list":       "allowed",
			"connect-put":        "allowed",
			"connect-get-header": "blocked",
			"connect-stream":     "allowed",
			"connect-restock":    "blocked",
			"connect-delete":     "blocked",
			"gateway-get":        "allowed",
			"gateway-put":        "allowed",
			"gateway-delete":     "blocked",
			"gateway-list":       "allowed",
			"gateway-restock":    "blocked",
			// A text/plain POST is a simple request: the browser sends it
			// without a preflight, and the API must refuse it itself.
			"gateway-restock-simple": "refused",
		}
		for id, outcome := range want {
			r, ok := rows[id]
			if !ok {
				t.Errorf("page has no row %q", id)
				continue
			}
			if r.Outcome != outcome {
				t.Errorf("%s: page shows %s, want %s:\n%s", id, r.Outcome, outcome, r.Text)
			}
		}
		if len(rows) != len(want) {
			t.Errorf("page has %d rows, test knows %d", len(rows), len(want))
		}
		// The page shows the exposed header's value and null for the hidden one.
		for _, id := range []string{"connect-get", "gateway-get"} {
			if text := rows[id].Text; !strings.Contains(text, "X-Scoops-Left: 10") || !strings.Contains(text, "X-Served-By: null") {
				t.Errorf("%s: page shows %q, want X-Scoops-Left: 10 and X-Served-By: null", id, text)
			}
		}
		// The page read the stock before and after its simple POST; so does
		// this test, as a non-browser client, after the page is done.
		if text := rows["gateway-restock-simple"].Text; !strings.Contains(text, "vanilla: 10 before, 10 after") {
			t.Errorf("gateway-restock-simple: page shows %q, want the stock of vanilla unchanged at 10", text)
		}
		res, err := http.Get(ex.APIURL + "/v1/icecream/vanilla")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if got := lookup(body, "iceCream.scoops"); got != "10" {
			t.Errorf("after the page's calls vanilla has %s scoops, want 10 (RestockIceCream ran): %s", got, body)
		}
		if text := rows["connect-put"].Text; !strings.Contains(text, `"myHeader":"hello"`) {
			t.Errorf("connect-put: page shows %q, want the echoed X-My-Header", text)
		}
	})
}

// exampleRow is what the example's page shows for one call.
type exampleRow struct{ Outcome, Text string }

// runExamplePage opens the example's page at url, clicks "Run every call",
// waits until every call is done, and returns the page and what it shows
// for each call, by row id.
func runExamplePage(t *testing.T, s *suite, url string) (*page, map[string]exampleRow) {
	t.Helper()
	p := s.open(t, url)
	p.waitFor(t, `document.querySelector("#run-all") !== null`, 20*time.Second)
	p.run(t, `document.querySelector("#run-all").click()`, nil)
	p.waitFor(t, `document.body.dataset.done === "true"`, 30*time.Second)
	var rows map[string]exampleRow
	p.run(t, `Object.fromEntries(
		[...document.querySelectorAll("#cases tr")].map(tr => {
			const td = tr.querySelector("td.result");
			return [tr.id, { Outcome: td.dataset.outcome, Text: td.textContent }];
		}))`, &rows)
	return p, rows
}

// startExample starts the example's two servers on free ports, with its
// default origins, until the test ends.
func startExample(t *testing.T) *shop.Servers {
	t.Helper()
	ex, err := shop.Start(shop.Config{APIAddr: "127.0.0.1:0", PageAddr: "localhost:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ex.Shutdown(ctx)
	})
	return ex
}
