package main

import (
	"strings"
	"testing"

	"github.com/protocors/protocors/corspb"
)

// protocors check reports a scheme typo and a comma-joined list with the
// same fix New gives, from the proto options and from --origins.
func TestCheckOriginTypos(t *testing.T) {
	tests := []struct {
		name    string
		service *corspb.Policy
		flags   []string
		want    string
	}{
		{name: "scheme typo in the proto", service: &corspb.Policy{AllowOrigins: []string{"htps://shop.example.com"}},
			want: `protocors: bad.v1.BadService: allow_origins[0] "htps://shop.example.com": scheme "htps" is not http or https, but a typo away from https: did you mean "https://shop.example.com"? (the origin would never match a page served over http or https)`},
		{name: "comma-joined list in the proto", service: &corspb.Policy{AllowOrigins: []string{"https://a.example.com,https://b.example.com"}},
			want: `protocors: bad.v1.BadService: allow_origins[0] "https://a.example.com,https://b.example.com": holds a comma: it looks like several origins joined into one string; give each origin as its own entry (from Go, split the list first, e.g. strings.Split(os.Getenv("ORIGINS"), ","), and trim each part)`},
		{name: "scheme typo in --origins", flags: []string{"--origins", "hhtp://localhost:3000"},
			want: `allow_origins[0] "hhtp://localhost:3000": scheme "hhtp" is not http or https, but a typo away from http: did you mean "http://localhost:3000"?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeSet(t, "bad.binpb", badSet(tt.service, nil))
			code, stdout, _ := runCmd(append([]string{"check", path}, tt.flags...)...)
			if code != exitProblems || !strings.Contains(stdout, tt.want) {
				t.Errorf("check exit %d, output:\n%s\nwant exit 1 and a line containing:\n%s", code, stdout, tt.want)
			}
		})
	}
}
