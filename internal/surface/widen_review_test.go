package surface_test

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/protocors/protocors/corspb"
	"github.com/protocors/protocors/internal/surface"
	st "github.com/protocors/protocors/internal/surface/surfacetest"
)

// Every pair widens what some other origin may do; `protocors diff` must
// say so (a widening classified neutral or narrows lets it pass review).
func TestWideningsNeverMissed(t *testing.T) {
	const app = "https://app.example"
	get := st.Method{Name: "GetItem", HTTP: st.Get("/v1/items/{id}")}
	post := st.Method{Name: "PutItem", HTTP: st.Post("/v1/items/{id}")}
	file := func(p *corspb.Policy, ms ...st.Method) st.File {
		return st.File{Policy: p, Services: []st.Service{{Name: "Shop", Methods: ms}}}
	}
	svc := func(p *corspb.Policy, ms ...st.Method) st.File {
		return st.File{Services: []st.Service{{Name: "Shop", Policy: p, Methods: ms}}}
	}
	with := func(m st.Method, f func(*st.Method)) st.Method { f(&m); return m }
	creds := &corspb.Policy{AllowOrigins: []string{app}, AllowCredentials: proto.Bool(true)}
	tests := []struct {
		name             string
		old, new         st.File
		origins          []string
		oldSets, newSets map[string][]string
	}{
		{name: "credentials inherited once the method's false goes",
			old: svc(creds, with(post, func(m *st.Method) { m.Policy = &corspb.Policy{AllowCredentials: proto.Bool(false)} })),
			new: svc(creds, post)},
		{name: "credentials on a method that inherits the runtime default's origins",
			origins: []string{app},
			old:     svc(nil, post),
			new:     svc(nil, with(post, func(m *st.Method) { m.Policy = &corspb.Policy{AllowCredentials: proto.Bool(true)} }))},
		{name: "origin broadened to a pattern",
			old: svc(&corspb.Policy{AllowOrigins: []string{"https://a.example"}}, get),
			new: svc(&corspb.Policy{AllowOrigins: []string{"https://*.example"}}, get)},
		{name: "pattern port widened",
			old: svc(&corspb.Policy{AllowOrigins: []string{"https://*.example"}}, get),
			new: svc(&corspb.Policy{AllowOrigins: []string{"https://*.example:*"}}, get)},
		{name: "header star added",
			old: svc(&corspb.Policy{AllowOrigins: []string{app}, AllowHeaders: []string{"X-A"}}, get),
			new: svc(&corspb.Policy{AllowOrigins: []string{app}, AllowHeaders: []string{"X-A", "*"}}, get)},
		{name: "authorization added next to star",
			old: svc(&corspb.Policy{AllowOrigins: []string{app}, AllowHeaders: []string{"*"}}, get),
			new: svc(&corspb.Policy{AllowOrigins: []string{app}, AllowHeaders: []string{"*", "Authorization"}}, get)},
		{name: "additional binding under a file policy",
			old: file(&corspb.Policy{AllowOrigins: []string{app}}, post),
			new: file(&corspb.Policy{AllowOrigins: []string{app}}, with(post, func(m *st.Method) { m.HTTP = st.Post("/v1/items/{id}", st.Post("/v1/things/{id}")) }))},
		{name: "additional binding of another method at the same path",
			old: file(&corspb.Policy{AllowOrigins: []string{app}}, post),
			new: file(&corspb.Policy{AllowOrigins: []string{app}}, with(post, func(m *st.Method) { m.HTTP = st.Post("/v1/items/{id}", st.Delete("/v1/items/{id}")) }))},
		{name: "enabled false removed at method scope",
			old: file(&corspb.Policy{AllowOrigins: []string{app}}, with(post, func(m *st.Method) { m.Policy = &corspb.Policy{Enabled: proto.Bool(false)} })),
			new: file(&corspb.Policy{AllowOrigins: []string{app}}, post)},
		{name: "enabled false replaced by true at method scope under a disabled service",
			old: st.File{Policy: &corspb.Policy{AllowOrigins: []string{app}}, Services: []st.Service{{Name: "Shop", Policy: &corspb.Policy{Enabled: proto.Bool(false)}, Methods: []st.Method{post}}}},
			new: st.File{Policy: &corspb.Policy{AllowOrigins: []string{app}}, Services: []st.Service{{Name: "Shop", Policy: &corspb.Policy{Enabled: proto.Bool(false)}, Methods: []st.Method{with(post, func(m *st.Method) { m.Policy = &corspb.Policy{Enabled: proto.Bool(true)} })}}}}},
		{name: "origin set bound wider",
			old:     svc(&corspb.Policy{AllowOriginSets: []string{"admin"}}, post),
			new:     svc(&corspb.Policy{AllowOriginSets: []string{"admin"}}, post),
			oldSets: map[string][]string{"admin": {"https://admin.example"}},
			newSets: map[string][]string{"admin": {"https://admin.example", "https://*.example"}}},
		{name: "origin set bound wider, set and origins in one scope",
			old:     svc(&corspb.Policy{AllowOrigins: []string{app}, AllowOriginSets: []string{"admin"}}, post),
			new:     svc(&corspb.Policy{AllowOrigins: []string{app}, AllowOriginSets: []string{"admin"}}, post),
			oldSets: map[string][]string{"admin": {"https://admin.example"}},
			newSets: map[string][]string{"admin": {"https://admin.example", "https://evil.example"}}},
		{name: "literal origins replaced by a set bound wider",
			old:     svc(&corspb.Policy{AllowOrigins: []string{"https://admin.example"}}, post),
			new:     svc(&corspb.Policy{AllowOriginSets: []string{"admin"}}, post),
			newSets: map[string][]string{"admin": {"https://admin.example", "https://evil.example"}}},
		{name: "expose star added",
			old: svc(&corspb.Policy{AllowOrigins: []string{app}, ExposeHeaders: []string{"X-A"}}, get),
			new: svc(&corspb.Policy{AllowOrigins: []string{app}, ExposeHeaders: []string{"*"}}, get)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := surface.Compare(
				build(t, tt.old, surface.Deployment{Origins: tt.origins, Sets: tt.oldSets}),
				build(t, tt.new, surface.Deployment{Origins: tt.origins, Sets: tt.newSets}))
			if !surface.Widened(cs) {
				t.Errorf("no widening reported:\n%s", strings.Join(lines(cs), "\n"))
			}
		})
	}
}
