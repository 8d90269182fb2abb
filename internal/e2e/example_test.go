package e2e_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/protocors/protocors/examples/icecream/shop"
)

// TestExamplePage runs the example as a user does, with its default origins
// (the page's own), clicks "Run every call" on its page and reads what the
// page shows for each call.
func TestExamplePage(t *testing.T) {
	s := browserSuite(t)
	ex, err := shop.Start(shop.Config{APIAddr: "127.0.0.1:0", PageAddr: "localhost:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ex.Shutdown(ctx)
	})

	ctx, cancel := chromedp.NewContext(s.browser)
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancelTimeout)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(ex.PageURL),
		chromedp.WaitVisible("#run-all"),
		chromedp.Click("#run-all"),
		chromedp.Poll[chromedp.Void](`document.body.dataset.done === "true"`, chromedp.WithPollingTimeout(30*time.Second)),
	); err != nil {
		t.Fatal(err)
	}
	type row struct{ Outcome, Text string }
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]row](`Object.fromEntries(
		[...document.querySelectorAll("#cases tr")].map(tr => {
			const td = tr.querySelector("td.result");
			return [tr.id, { Outcome: td.dataset.outcome, Text: td.textContent }];
		}))`))
	if err != nil {
		t.Fatal(err)
	}

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
	if text := rows["connect-put"].Text; !strings.Contains(text, `"myHeader":"hello"`) {
		t.Errorf("connect-put: page shows %q, want the echoed X-My-Header", text)
	}
}
