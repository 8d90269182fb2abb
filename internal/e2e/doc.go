// Package e2e holds protocors' end-to-end tests in real browsers, two
// engines: headless Chromium (Debian's package, driven by chromedp over the
// DevTools Protocol) and headless Firefox ESR (Debian's package, driven over
// WebDriver BiDi). A page from one origin calls the example API
// (examples/icecream) on another origin, with plain fetch, with the official
// Connect web client and with Google's official gRPC-Web client, and the
// tests assert what the page was allowed to see. Every browser test runs in
// both engines, as subtests named chromium and firefox, from one test body;
// where the engines legitimately differ, the test states each one's result.
// Both browsers resolve app.protocors.test and api.protocors.test to
// 127.0.0.1 (harness_test.go), so a test can put a page and an API on two
// origins of one site that is not localhost.
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
//	apt-get install -y chromium firefox-esr && (cd internal/e2e/testdata/web && npm ci)
//	cd internal/e2e && go test ./...
//
// Without an engine, its subtests skip (without the npm packages, all
// browser tests do), unless CI=true, where they fail.
package e2e
