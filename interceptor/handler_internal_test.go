package interceptor

import (
	"strings"
	"testing"
)

// FuzzGRPCContentType holds the one-byte shortcut to the case-insensitive
// prefix tests it replaces.
func FuzzGRPCContentType(f *testing.F) {
	for _, s := range []string{"application/grpc", "application/grpc-web+proto", "APPLICATION/GRPC+json", "application/json", "application/grpc-Web", "", "application/gRPC-web-text"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ct string) {
		fold := func(s, p string) bool { return len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) }
		wantGRPC := fold(ct, "application/grpc")
		wantNative := wantGRPC && !fold(ct, "application/grpc-web")
		grpc, native := grpcContentType([]string{ct})
		if grpc != wantGRPC || native != wantNative {
			t.Errorf("grpcContentType(%q) = %t, %t, want %t, %t", ct, grpc, native, wantGRPC, wantNative)
		}
	})
}
