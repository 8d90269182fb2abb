// Package e2e holds protocors' end-to-end tests in a real browser: headless
// Chromium (Debian's package, driven by chromedp) loads a page from one
// origin that calls the example API (examples/icecream) on another origin,
// with plain fetch and with the official Connect web client, and the tests
// assert what the page was allowed to see.
//
// Run them with:
//
//	apt-get install -y chromium && (cd internal/e2e/testdata/web && npm ci)
//	go test ./internal/e2e/
//
// Without Chromium or the npm packages the tests skip, unless CI=true, where
// they fail.
package e2e
