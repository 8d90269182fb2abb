// Package e2e holds protocors' end-to-end tests in a real browser: headless
// Chromium (Debian's package, driven by chromedp) loads a page from one
// origin that calls the example API (examples/icecream) on another origin,
// with plain fetch and with the official Connect web client, and the tests
// assert what the page was allowed to see.
//
// This directory is a Go module of its own
// (github.com/protocors/protocors/internal/e2e, with replace
// github.com/protocors/protocors => ../..), so the library's go.mod never
// requires chromedp, and the root go test ./... does not run these tests.
// The module also holds the other tests whose dependencies library users do
// not need: ./vanguard, the gateway middleware in front of
// connectrpc.com/vanguard's transcoder.
//
// Run them from the repository root with:
//
//	apt-get install -y chromium && (cd internal/e2e/testdata/web && npm ci)
//	cd internal/e2e && go test ./...
//
// Without Chromium or the npm packages the browser tests skip, unless
// CI=true, where they fail.
package e2e
