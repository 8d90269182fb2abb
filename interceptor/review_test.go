package interceptor_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/interceptor"
	"github.com/protocors/protocors/internal/gen/protocors/test/v1/testv1connect"
)

// Review of the shared request path: findings of a second attacker's look.

// A preflight refused for its method logged the requested method twice
// (as "method" and as "value"): a request value must be logged once, so
// that what a request writes to the log stays bounded by one copy of each
// value it sends.
func TestLogEachRequestValueOnce(t *testing.T) {
	const (
		method = "ZZMETHODZZ"
		header = "x-zzheaderzz"
	)
	for _, tt := range []struct {
		name     string
		method   string
		headers  []string
		contains []string // each request value the line must hold exactly once
	}{
		{"preflight refused for its method", "OPTIONS", []string{"Origin", appOrigin, "Access-Control-Request-Method", method}, []string{appOrigin, method}},
		{"preflight refused for a header", "OPTIONS", []string{"Origin", appOrigin, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", header}, []string{appOrigin, header}},
		{"preflight refused for its origin", "OPTIONS", []string{"Origin", evilOrigin, "Access-Control-Request-Method", method}, []string{evilOrigin, method}},
		{"cross-origin request refused", "POST", []string{"Origin", evilOrigin, "Sec-Fetch-Site", "cross-site"}, []string{evilOrigin}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			mw, err := interceptor.New(protocors.WithLogger(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			if err != nil {
				t.Fatal(err)
			}
			send(mw.Handler(reached), tt.method, testv1connect.FlavorServicePutFlavorProcedure, tt.headers...)
			line := buf.String()
			if strings.Count(line, "\n") != 1 {
				t.Fatalf("want one log line, got:\n%s", line)
			}
			for _, v := range tt.contains {
				if n := strings.Count(line, v); n != 1 {
					t.Errorf("%q logged %d times, want once:\n%s", v, n, line)
				}
			}
		})
	}
}
