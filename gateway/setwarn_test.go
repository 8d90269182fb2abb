package gateway_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/gateway"
	"github.com/protocors/protocors/interceptor"
)

// An origin set bound to no origins is logged once per logger, not once
// per middleware and per Reconfigure: a server that reloads its origins
// every few seconds would otherwise repeat the same warning each time.
func TestOriginSetWarningOnce(t *testing.T) {
	var buf bytes.Buffer
	opts := protocors.WithOptions(
		protocors.WithLogger(slog.New(slog.NewTextHandler(&buf, nil))),
		protocors.WithOriginSet("nobody-yet"),
	)
	route := gateway.WithRoute("POST", "/v1/notes", &corspb.Policy{AllowOriginSets: []string{"nobody-yet"}})
	gw, err := gateway.New(opts, route)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := interceptor.New(opts); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if err := gw.Reconfigure(opts, route); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(buf.String(), `msg="protocors: origin set bound to no origins" set=nobody-yet`); n != 1 {
		t.Errorf("warned %d times, want once:\n%s", n, buf.String())
	}
	// Another logger (another server in the process) is told too.
	var other bytes.Buffer
	if _, err := gateway.New(protocors.WithLogger(slog.New(slog.NewTextHandler(&other, nil))), protocors.WithOriginSet("nobody-yet"), route); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(other.String(), "origin set bound to no origins") {
		t.Errorf("a second logger was not told:\n%s", other.String())
	}
}
