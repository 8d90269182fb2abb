package e2e_test

import (
	"context"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// chromium is headless Chromium driven by chromedp over the Chrome DevTools
// Protocol.
type chromium struct {
	ctx    context.Context // the browser's chromedp context
	cancel []func()
}

func launchChromium(path, profile string) (browser, error) {
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// appHost and apiHost are loopback (harness_test.go).
		chromedp.Flag("host-resolver-rules", "MAP "+appHost+" 127.0.0.1, MAP "+apiHost+" 127.0.0.1"),
		chromedp.UserDataDir(profile),
	)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	c := &chromium{ctx: ctx, cancel: []func(){cancelAlloc, cancelBrowser}}
	// Start the browser now, so a broken installation fails here. (The
	// first action allocates the browser with the context it is given, which
	// must live as long as the suite: no timeout here.)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

func (c *chromium) close() {
	for i := len(c.cancel) - 1; i >= 0; i-- {
		c.cancel[i]()
	}
}

func (c *chromium) open(url string) (tab, error) {
	ctx, cancel := chromedp.NewContext(c.ctx)
	// The tab's context, timeout included, is the one its first action
	// creates the target with: the tab lives until the timeout at most.
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t := &chromiumTab{ctx: ctx, cancel: func() { cancelTimeout(); cancel() }}
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.close()
		return nil, err
	}
	return t, nil
}

type chromiumTab struct {
	ctx    context.Context
	cancel func()
}

func (t *chromiumTab) close() { t.cancel() }

func (t *chromiumTab) evalString(expr string) (string, error) {
	return chromedp.Run(t.ctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
}

func (t *chromiumTab) setCookie(url, name, value string) error {
	return chromedp.Do(t.ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: name, Value: value, URL: url})
		return err
	}))
}
