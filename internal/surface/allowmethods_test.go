package surface_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/protocors/protocors/corspb"
	st "github.com/protocors/protocors/internal/surface/surfacetest"
)

// The gateway middleware lists another method in a preflight's
// Access-Control-Allow-Methods when its route has the same policy; the
// exposed headers are no part of a preflight answer, so routes that differ
// only in expose_headers share it. A change that makes DeleteItem's policy
// equal to GetItem's, each exposing its own header, lists DELETE at GET's
// URL: diff must report that widening, not only DeleteItem's narrowed
// origins.
func TestAllowMethodsIgnoreExposedHeaders(t *testing.T) {
	const app, other = "https://app.example", "https://other.example"
	file := func(delOrigins ...string) st.File {
		return st.File{Services: []st.Service{{Name: "Shop", Methods: []st.Method{
			{Name: "GetItem", HTTP: st.Get("/v1/items/{id}"), Policy: &corspb.Policy{AllowOrigins: []string{app}, ExposeHeaders: []string{"X-A"}}},
			{Name: "DeleteItem", HTTP: st.Delete("/v1/items/{id}"), Policy: &corspb.Policy{AllowOrigins: delOrigins, ExposeHeaders: []string{"X-B"}}},
		}}}}
	}
	got := lines(compare(t, file(app, other), file(app)))
	want := []string{
		"widens shop.v1.Shop.GetItem GET /v1/items/{id}: Access-Control-Allow-Methods: GET -> GET, DELETE (method shop.v1.Shop.DeleteItem)",
		"narrows shop.v1.Shop.DeleteItem: allow_origins: https://app.example, https://other.example -> https://app.example (method shop.v1.Shop.DeleteItem)",
		"widens shop.v1.Shop.DeleteItem DELETE /v1/items/{id}: Access-Control-Allow-Methods: DELETE -> GET, DELETE (method shop.v1.Shop.GetItem)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The middleware lists the methods of the routes the mux runs at the
// request's path, whatever their templates: "/v1/{a}/{b}" is another path
// shape than "/v1/items/{id}" but matches "/v1/items/7". A change that
// gives DELETE /v1/{a}/{b} GetItem's policy lists DELETE at GetItem's URLs.
func TestAllowMethodsAcrossTemplates(t *testing.T) {
	const app, other = "https://app.example", "https://other.example"
	file := func(delOrigins ...string) st.File {
		return st.File{Services: []st.Service{{Name: "Shop", Methods: []st.Method{
			{Name: "GetItem", HTTP: st.Get("/v1/items/{id}"), Policy: &corspb.Policy{AllowOrigins: []string{app}}},
			{Name: "Purge", HTTP: st.Delete("/v1/{a}/{b}"), Policy: &corspb.Policy{AllowOrigins: delOrigins}},
			{Name: "List", HTTP: st.Get("/v2/items"), Policy: &corspb.Policy{AllowOrigins: []string{app}}},
		}}}}
	}
	got := lines(compare(t, file(app, other), file(app)))
	want := []string{
		"widens shop.v1.Shop.GetItem GET /v1/items/{id}: Access-Control-Allow-Methods: GET -> GET, DELETE (method shop.v1.Shop.Purge)",
		"narrows shop.v1.Shop.Purge: allow_origins: https://app.example, https://other.example -> https://app.example (method shop.v1.Shop.Purge)",
		"widens shop.v1.Shop.Purge DELETE /v1/{a}/{b}: Access-Control-Allow-Methods: DELETE -> GET, DELETE (method shop.v1.Shop.GetItem)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
