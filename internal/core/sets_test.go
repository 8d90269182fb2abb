package core_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/protocors/protocors"
	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/interceptor"
)

// TestOriginSetMistakes checks what New says about origin set bindings
// that do not fit the proto: a misspelled set is an error naming the bound
// set meant; a set bound but named by no RPC, and a set bound to no
// origins, are logged once at New (not errors: one deployment's bindings may
// serve several servers).
func TestOriginSetMistakes(t *testing.T) {
	t.Parallel()
	md := buildMethods(t, typed, nil,
		&corspb.Policy{AllowOrigins: []string{"https://shop.example.com"}},
		map[string]*corspb.Policy{
			"Refund": {AllowOriginSets: []string{"admin"}},
			"Audit":  {AllowOrigins: []string{"https://audit.example.com"}, AllowOriginSets: []string{"auditors"}},
			"Get":    nil,
		})
	files := new(protoregistry.Files)
	if err := files.RegisterFile(md["Get"].ParentFile()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		sets    []protocors.Option
		wantErr string   // the whole error; "" for none
		wantLog []string // each a log line's message and attributes, in order
	}{
		{
			name: "misspelled set",
			sets: []protocors.Option{
				protocors.WithOriginSet("admins", "https://admin.example.com"),
				protocors.WithOriginSet("auditors", "https://a.example.com"),
			},
			wantErr: `protocors: test.v1.Svc.Refund: allow_origin_sets[0] "admin": origin set "admin" (named by test.v1.Svc.Refund) is not bound: give its origins at run time with protocors.WithOriginSet("admin", origins...); did you mean the bound set "admins"? (fix the name in the proto or in WithOriginSet)`,
		},
		{
			name: "unbound set with no close name",
			sets: []protocors.Option{
				protocors.WithOriginSet("qa", "https://qa.example.com"),
				protocors.WithOriginSet("auditors", "https://a.example.com"),
			},
			wantErr: `protocors: test.v1.Svc.Refund: allow_origin_sets[0] "admin": origin set "admin" (named by test.v1.Svc.Refund) is not bound: give its origins at run time with protocors.WithOriginSet("admin", origins...)`,
		},
		{
			name: "bound but unused, bound to nothing",
			sets: []protocors.Option{
				protocors.WithOriginSet("admin", "https://admin.example.com"),
				protocors.WithOriginSet("auditors"),
				protocors.WithOriginSet("partners", "https://partner.example.com"),
			},
			wantLog: []string{
				`level=WARN msg="protocors: origin set bound to no origins" set=auditors detail="protocors.WithOriginSet(\"auditors\") was given no origins (an unset variable?), so the set allows nobody: the RPCs that name it get only their other origins"`,
				`level=WARN msg="protocors: origin set bound but named by no RPC" set=partners detail="no CORS-enabled RPC this middleware serves names \"partners\" in allow_origin_sets, so its origins are allowed nowhere: check the spelling against the proto options (or ignore this if the binding serves another server)"`,
			},
		},
		{
			name: "every set bound and used",
			sets: []protocors.Option{
				protocors.WithOriginSet("admin", "https://admin.example.com"),
				protocors.WithOriginSet("auditors", "https://a.example.com"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{
				ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
					if a.Key == slog.TimeKey {
						return slog.Attr{}
					}
					return a
				},
			}))
			opts := append([]protocors.Option{protocors.WithFiles(files), protocors.WithLogger(logger)}, tt.sets...)
			_, err := interceptor.New(opts...)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("New succeeded, want %s", tt.wantErr)
			case tt.wantErr != "" && err.Error() != tt.wantErr:
				t.Fatalf("New error:\n%v\nwant:\n%s", err, tt.wantErr)
			}
			var got []string
			if s := strings.TrimSpace(buf.String()); s != "" {
				got = strings.Split(s, "\n")
			}
			if strings.Join(got, "\n") != strings.Join(tt.wantLog, "\n") {
				t.Errorf("log at New:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.wantLog, "\n"))
			}
		})
	}
}

// New refuses the scheme typo and the unsplit list where a deployment
// gives them, WithOrigins and WithOriginSet, with the fix that works (not
// "drop //b.example.com", which left "https://a.example.com,https:").
func TestNewOriginTypos(t *testing.T) {
	t.Parallel()
	md := buildMethods(t, typed, nil, nil, map[string]*corspb.Policy{"Get": {AllowOriginSets: []string{"admin"}}})
	files := new(protoregistry.Files)
	if err := files.RegisterFile(md["Get"].ParentFile()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts []protocors.Option
		want string
	}{
		{"unsplit WithOrigins", []protocors.Option{protocors.WithOrigins("https://a.example.com,https://b.example.com"), protocors.WithOriginSet("admin", "https://admin.example.com")},
			`protocors: runtime default: allow_origins[0] "https://a.example.com,https://b.example.com": holds a comma: it looks like several origins joined into one string; give each origin as its own entry (from Go, split the list first, e.g. strings.Split(os.Getenv("ORIGINS"), ","), and trim each part)`},
		{"scheme typo in WithOrigins", []protocors.Option{protocors.WithOrigins("htps://shop.example.com"), protocors.WithOriginSet("admin", "https://admin.example.com")},
			`protocors: runtime default: allow_origins[0] "htps://shop.example.com": scheme "htps" is not http or https, but a typo away from https: did you mean "https://shop.example.com"? (the origin would never match a page served over http or https)`},
		{"scheme typo in WithOriginSet", []protocors.Option{protocors.WithOriginSet("admin", "https://admin.example.com", "htttps://ops.example.com")},
			`protocors: protocors.WithOriginSet("admin"): origins[1] "htttps://ops.example.com": scheme "htttps" is not http or https, but a typo away from https: did you mean "https://ops.example.com"? (the origin would never match a page served over http or https)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := interceptor.New(append([]protocors.Option{protocors.WithFiles(files)}, tt.opts...)...)
			if err == nil || err.Error() != tt.want {
				t.Errorf("New: %v\nwant: %s", err, tt.want)
			}
		})
	}
}
