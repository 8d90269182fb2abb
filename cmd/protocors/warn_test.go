package main

import (
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

// check warns about GET and HEAD bindings of methods that may have side
// effects: the protection lets GET through, and the mux's form fallback
// takes a cross-site form POST to a GET route.
func TestCheckWarnsSideEffectGET(t *testing.T) {
	tests := []struct {
		name  string
		rule  *annotations.HttpRule
		level descriptorpb.MethodOptions_IdempotencyLevel
		warn  string // "" for none
	}{
		{"GET, unknown idempotency", &annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: "/v1/reset"}}, descriptorpb.MethodOptions_IDEMPOTENCY_UNKNOWN,
			"protocors check: warning: bad.v1.BadService.Call: GET /v1/reset binds a method whose idempotency_level is not NO_SIDE_EFFECTS or IDEMPOTENT"},
		{"HEAD as a custom verb", &annotations.HttpRule{Pattern: &annotations.HttpRule_Custom{Custom: &annotations.CustomHttpPattern{Kind: "HEAD", Path: "/v1/ping"}}}, descriptorpb.MethodOptions_IDEMPOTENCY_UNKNOWN,
			"bad.v1.BadService.Call: HEAD /v1/ping binds a method"},
		{"GET in additional_bindings", &annotations.HttpRule{Pattern: &annotations.HttpRule_Post{Post: "/v1/call"}, Body: "*",
			AdditionalBindings: []*annotations.HttpRule{{Pattern: &annotations.HttpRule_Get{Get: "/v1/call"}}}}, descriptorpb.MethodOptions_IDEMPOTENCY_UNKNOWN,
			"bad.v1.BadService.Call: GET /v1/call binds a method"},
		{"GET, NO_SIDE_EFFECTS", &annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: "/v1/things"}}, descriptorpb.MethodOptions_NO_SIDE_EFFECTS, ""},
		{"GET, IDEMPOTENT", &annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: "/v1/things"}}, descriptorpb.MethodOptions_IDEMPOTENT, ""},
		{"POST, unknown idempotency", &annotations.HttpRule{Pattern: &annotations.HttpRule_Post{Post: "/v1/call"}, Body: "*"}, descriptorpb.MethodOptions_IDEMPOTENCY_UNKNOWN, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := badSet(nil, nil)
			mo := set.File[0].Service[0].Method[0].Options
			proto.SetExtension(mo, annotations.E_Http, tt.rule)
			mo.IdempotencyLevel = tt.level.Enum()
			code, out, errOut := runCmd("check", writeSet(t, "image.binpb", set))
			if code != 0 || !strings.HasPrefix(out, "ok: ") {
				t.Errorf("exit %d, stdout %q: a warning is no problem", code, out)
			}
			if tt.warn == "" && strings.Contains(errOut, "idempotency_level") || !strings.Contains(errOut, tt.warn) {
				t.Errorf("stderr %q, want %q", errOut, tt.warn)
			}
		})
	}
}
