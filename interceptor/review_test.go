package interceptor_test

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/interceptor"
	testv1 "github.com/protocors/protocors/internal/gen/protocors/test/v1"
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

// withoutMethod returns a registry holding test.proto without its method
// name in service, and nopolicy.proto: the same services, one procedure
// fewer, as a descriptor set loaded at run time from an older build would
// be.
func withoutMethod(t *testing.T, service, name string) *protoregistry.Files {
	t.Helper()
	fdp := protodesc.ToFileDescriptorProto(testv1.File_protocors_test_v1_test_proto)
	for _, sd := range fdp.GetService() {
		if sd.GetName() != service {
			continue
		}
		sd.Method = slices.DeleteFunc(sd.Method, func(md *descriptorpb.MethodDescriptorProto) bool { return md.GetName() == name })
	}
	files := onlyFile(t, "protocors/test/v1/nopolicy.proto")
	for _, dep := range []protoreflect.FileDescriptor{descriptorpb.File_google_protobuf_descriptor_proto, corspb.File_protocors_v1_cors_proto} {
		if _, err := files.FindFileByPath(dep.Path()); err != nil {
			if err := files.RegisterFile(dep); err != nil {
				t.Fatal(err)
			}
		}
	}
	fd, err := protodesc.NewFile(fdp, files)
	if err != nil {
		t.Fatal(err)
	}
	if err := files.RegisterFile(fd); err != nil {
		t.Fatal(err)
	}
	return files
}

// Reconfigure checked a service mounted with Wrap by its name only. A
// descriptor source that still has the service but lacks one of its
// methods (a descriptor set from an older build) was accepted, and the
// mounted handler, which still serves that method, then ran it for a
// cross-site form POST: the path was unknown to the middleware, so neither
// CORS nor the protection applied.
func TestReconfigureKeepsMountedProcedures(t *testing.T) {
	mw, err := interceptor.New()
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, mw) // FlavorService, ResourceService, PingService with Wrap
	attack := func() int {
		// DeleteFlavor is CORS-disabled: no origin may run it.
		r, _ := http.NewRequest("POST", srv.url+testv1connect.FlavorServiceDeleteFlavorProcedure, strings.NewReader("{}"))
		r.Header.Set("Origin", evilOrigin)
		r.Header.Set("Sec-Fetch-Site", "cross-site")
		r.Header.Set("Content-Type", "application/json")
		before := srv.reached.Load()
		res, err := srv.client.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if srv.reached.Load() != before {
			t.Errorf("the DeleteFlavor handler ran (status %d)", res.StatusCode)
		}
		return res.StatusCode
	}
	if got := attack(); got != http.StatusForbidden {
		t.Fatalf("before Reconfigure: %d, want 403", got)
	}
	err = mw.Reconfigure(protocors.WithFiles(withoutMethod(t, "FlavorService", "DeleteFlavor")))
	var cfgErr *protocors.Error
	if !errors.As(err, &cfgErr) {
		t.Errorf("Reconfigure without a mounted procedure: %v, want a *protocors.Error", err)
	} else if msg := err.Error(); !strings.Contains(msg, testv1connect.FlavorServiceDeleteFlavorProcedure+": interceptor.Wrap: mounted with Wrap") ||
		strings.Count(msg, "\n") != 0 {
		t.Errorf("error does not name the one dropped procedure:\n%s", msg)
	}
	if got := attack(); got != http.StatusForbidden {
		t.Errorf("after Reconfigure: %d, want 403", got)
	}
	// A service dropped whole is named once, not once per procedure.
	err = mw.Reconfigure(protocors.WithFiles(onlyFile(t, "protocors/test/v1/nopolicy.proto")))
	if err == nil || strings.Contains(err.Error(), testv1connect.FlavorServiceDeleteFlavorProcedure) {
		t.Errorf("Reconfigure without the mounted services: %v", err)
	}
}

// Every refusal said "the CORS policy of this RPC does not allow the
// request's origin", also when the origin was allowed and the request was
// refused for its cookie: a developer whose same-site page sent
// credentials: "include" was pointed at allow_origins, which was right. The
// body now names the reason the log line names.
func TestRefusalBodyNamesReason(t *testing.T) {
	mw, err := interceptor.New(protocors.WithUnknownPathProtection(true))
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, mw)
	for _, tt := range []struct {
		name, path string
		headers    []string
		want       string
	}{
		{"origin", testv1connect.FlavorServiceGetFlavorProcedure, []string{"Origin", evilOrigin}, "does not allow the request's origin"},
		{"credentials", testv1connect.FlavorServiceGetFlavorProcedure, []string{"Origin", appOrigin, "Cookie", "session=1"}, "does not set allow_credentials"},
		{"unknown path", "/protocors.test.v1.FlavorService/NoSuchMethod", []string{"Origin", appOrigin}, "no RPC is known at this path"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest("POST", srv.url+tt.path, strings.NewReader("{}"))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Sec-Fetch-Site", "same-site")
			for i := 0; i+1 < len(tt.headers); i += 2 {
				r.Header.Set(tt.headers[i], tt.headers[i+1])
			}
			res, err := srv.client.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusForbidden || !strings.HasPrefix(string(body), "protocors: cross-origin request refused: ") || !strings.Contains(string(body), tt.want) {
				t.Errorf("status %d, body %q; want 403 saying %q", res.StatusCode, body, tt.want)
			}
		})
	}
}
