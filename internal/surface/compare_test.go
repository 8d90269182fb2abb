package surface_test

import (
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/internal/inspect"
	"github.com/protocors/protocors/internal/surface"
	st "github.com/protocors/protocors/internal/surface/surfacetest"
)

func build(t *testing.T, f st.File, d surface.Deployment) *surface.Surface {
	t.Helper()
	img, err := inspect.NewImage(f.Set())
	if err != nil {
		t.Fatal(err)
	}
	return surface.New(img.Methods(), d)
}

func compare(t *testing.T, old, new st.File) []surface.Change {
	t.Helper()
	return surface.Compare(build(t, old, surface.Deployment{}), build(t, new, surface.Deployment{}))
}

func lines(cs []surface.Change) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.String())
	}
	return out
}

// one is a service Shop with one RPC Get (GET /v1/items/{id}) under the
// service policy p.
func one(p *corspb.Policy) st.File {
	return st.File{Services: []st.Service{{Name: "Shop", Policy: p, Methods: []st.Method{{Name: "Get", HTTP: st.Get("/v1/items/{id}")}}}}}
}

// What counts as wider: wildcards cover the origins they match, "*" headers
// cover all but Authorization, no max age is the browsers' 5 seconds.
func TestClassify(t *testing.T) {
	p := func(f func(*corspb.Policy)) *corspb.Policy {
		q := &corspb.Policy{AllowOrigins: []string{"https://app.example"}}
		f(q)
		return q
	}
	origins := func(o ...string) *corspb.Policy { return p(func(q *corspb.Policy) { q.AllowOrigins = o }) }
	headers := func(h ...string) *corspb.Policy { return p(func(q *corspb.Policy) { q.AllowHeaders = h }) }
	maxAge := func(v *uint32) *corspb.Policy { return p(func(q *corspb.Policy) { q.MaxAgeSeconds = v }) }
	tests := []struct {
		name     string
		old, new *corspb.Policy
		want     []string
	}{
		{"a host the wildcard matched", origins("https://*.example.com"), origins("https://a.example.com"),
			[]string{"narrows shop.v1.Shop.Get: allow_origins: https://*.example.com -> https://a.example.com (service shop.v1.Shop)"}},
		{"a wildcard over a host", origins("https://a.example.com"), origins("https://*.example.com"),
			[]string{"widens shop.v1.Shop.Get: allow_origins: https://a.example.com -> https://*.example.com (service shop.v1.Shop)"}},
		{"a deeper wildcard", origins("https://*.example.com"), origins("https://*.a.example.com"),
			[]string{"narrows shop.v1.Shop.Get: allow_origins: https://*.example.com -> https://*.a.example.com (service shop.v1.Shop)"}},
		{"any port of localhost covers one", origins("http://localhost:*"), origins("http://localhost:3000", "http://localhost:8080"),
			[]string{"narrows shop.v1.Shop.Get: allow_origins: http://localhost:* -> http://localhost:3000, http://localhost:8080 (service shop.v1.Shop)"}},
		{"star to a list", origins("*"), origins("https://app.example"),
			[]string{"narrows shop.v1.Shop.Get: allow_origins: * -> https://app.example (service shop.v1.Shop)"}},
		{"one origin swapped for another", origins("https://a.example"), origins("https://b.example"),
			[]string{"widens shop.v1.Shop.Get: allow_origins: https://a.example -> https://b.example (service shop.v1.Shop)"}},
		{"star headers do not cover Authorization", headers("*"), headers("*", "Authorization"),
			[]string{"widens shop.v1.Shop.Get: allow_headers: * -> *, Authorization (service shop.v1.Shop)"}},
		{"star headers cover a name", headers("*"), headers("X-Trace"),
			[]string{"narrows shop.v1.Shop.Get: allow_headers: * -> X-Trace (service shop.v1.Shop)"}},
		{"a header's case", headers("X-Trace"), headers("x-trace"),
			[]string{"neutral shop.v1.Shop.Get: allow_headers: X-Trace -> x-trace (service shop.v1.Shop)"}},
		{"the same headers reordered", headers("A", "B"), headers("B", "A"), []string{}},
		{"max age 0 caches less than none", maxAge(nil), maxAge(proto.Uint32(0)),
			[]string{"narrows shop.v1.Shop.Get: max_age_seconds: unset -> 0 (service shop.v1.Shop)"}},
		{"max age 5 is the default", maxAge(nil), maxAge(proto.Uint32(5)),
			[]string{"neutral shop.v1.Shop.Get: max_age_seconds: unset -> 5 (service shop.v1.Shop)"}},
		{"a set replaces literal origins", origins("https://app.example"), p(func(q *corspb.Policy) { q.AllowOrigins, q.AllowOriginSets = nil, []string{"web"} }),
			[]string{
				"narrows shop.v1.Shop.Get: allow_origins: https://app.example -> - (service shop.v1.Shop)",
				"widens shop.v1.Shop.Get: allow_origin_sets: - -> web (not bound) (service shop.v1.Shop)",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := lines(compare(t, one(tt.old), one(tt.new)))
			if !slices.Equal(got, tt.want) {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// Each change locates its cause: the descriptor whose option set the value
// and the source path of that value, in the version that has it.
func TestChangeLocatesCause(t *testing.T) {
	svc := &corspb.Policy{AllowOrigins: []string{"https://app.example"}}
	creds := &corspb.Policy{AllowOrigins: []string{"https://app.example"}, AllowCredentials: proto.Bool(true)}
	cs := compare(t, one(svc), one(creds))
	if len(cs) != 1 {
		t.Fatalf("changes %v", lines(cs))
	}
	c := cs[0]
	sd, ok := c.Descriptor.(protoreflect.ServiceDescriptor)
	if !ok || sd.FullName() != "shop.v1.Shop" || c.Against {
		t.Fatalf("descriptor %v (against %v), want the new service", c.Descriptor, c.Against)
	}
	if want := inspect.PolicyPath(sd, "allow_credentials"); !slices.Equal(c.Path, want) {
		t.Errorf("path %v, want %v", c.Path, want)
	}

	// CORS back on because the method's enabled: false went away: the cause
	// is in the old version.
	off := st.File{Services: []st.Service{{Name: "Shop", Policy: svc, Methods: []st.Method{{Name: "Get", Policy: &corspb.Policy{Enabled: proto.Bool(false)}}}}}}
	on := st.File{Services: []st.Service{{Name: "Shop", Policy: svc, Methods: []st.Method{{Name: "Get"}}}}}
	cs = compare(t, off, on)
	if len(cs) != 1 || cs[0].Class != surface.Widens || cs[0].Scope != "method" || !cs[0].Against {
		t.Fatalf("changes %v, against %v", lines(cs), len(cs) == 1 && cs[0].Against)
	}
	if want := "widens shop.v1.Shop.Get: cors: disabled -> enabled [origins https://app.example; credentials false] (method shop.v1.Shop.Get)"; cs[0].String() != want {
		t.Errorf("got %s\nwant %s", cs[0], want)
	}
}

// Routes of one path shape share Access-Control-Allow-Methods when their
// policies are equal as sets, whatever the order of their lists.
func TestAllowMethodsComparesPolicies(t *testing.T) {
	file := func(delOrigins ...string) st.File {
		return st.File{Services: []st.Service{{Name: "Shop", Policy: &corspb.Policy{AllowOrigins: []string{"https://a.example", "https://b.example"}}, Methods: []st.Method{
			{Name: "Get", HTTP: st.Get("/v1/items/{id}")},
			{Name: "Delete", HTTP: st.Delete("/v1/items/{name}"), Policy: &corspb.Policy{AllowOrigins: delOrigins}},
		}}}}
	}
	got := lines(compare(t, file("https://a.example"), file("https://b.example", "https://a.example")))
	want := []string{
		"widens shop.v1.Shop.Get GET /v1/items/{id}: Access-Control-Allow-Methods: GET -> GET, DELETE (method shop.v1.Shop.Delete)",
		"widens shop.v1.Shop.Delete: allow_origins: https://a.example -> https://b.example, https://a.example (method shop.v1.Shop.Delete)",
		"widens shop.v1.Shop.Delete DELETE /v1/items/{name}: Access-Control-Allow-Methods: DELETE -> GET, DELETE (method shop.v1.Shop.Get)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The runtime default is the outermost scope, as in New.
func TestDeploymentDefault(t *testing.T) {
	f := st.File{Services: []st.Service{{Name: "Shop", Methods: []st.Method{{Name: "Get"}}}}}
	old := build(t, f, surface.Deployment{})
	new := build(t, f, surface.Deployment{Origins: []string{"https://app.example"}})
	got := lines(surface.Compare(old, new))
	want := []string{"widens shop.v1.Shop.Get: cors: no policy -> enabled [origins https://app.example; credentials false] (runtime default)"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if !surface.Widened(surface.Compare(old, new)) || surface.Widened(surface.Compare(new, old)) {
		t.Error("Widened disagrees with the classes")
	}
}
