package surfacetest

import (
	"google.golang.org/protobuf/proto"

	"github.com/protocors/protocors/corspb"
)

// Pair is an API before and after one change, the deployment both run
// under, and the lines `protocors diff` prints for it.
type Pair struct {
	Name     string
	Old, New File
	// Origins is the runtime default (--origins) of both versions.
	Origins []string
	// OldSets and NewSets bind origin sets in each version
	// (--old-origin-set, --new-origin-set); the buf plugin binds none.
	OldSets, NewSets map[string][]string
	// Want are the lines, in order.
	Want []string
}

// Reviewed lines: each names the class, the RPC (and route), the field, the
// old and new values and the scope that caused the change.
const (
	app   = "https://app.example"
	admin = "https://admin.example"
	other = "https://other.example"
)

func policy(origins ...string) *corspb.Policy { return &corspb.Policy{AllowOrigins: origins} }

// shop is the API most pairs change: a service open to app.example, with a
// read and a delete at one URL.
func shop(svc *corspb.Policy, get, del Method) File {
	return File{Services: []Service{{Name: "Shop", Policy: svc, Methods: []Method{get, del}}}}
}

var (
	getItem = Method{Name: "GetItem", HTTP: Get("/v1/items/{id}")}
	delItem = Method{Name: "DeleteItem", HTTP: Delete("/v1/items/{id}")}
)

func with(m Method, f func(*Method)) Method {
	f(&m)
	return m
}

// Pairs are the changes the tests run through both `protocors diff` and the
// breaking rule: each kind of widening, and narrowings, at file, service and
// method scope, with origin sets and additional bindings.
func Pairs() []Pair {
	noPolicy := File{Services: []Service{{Name: "Shop", Methods: []Method{getItem}}}}
	filePolicy := File{Policy: policy(app), Services: []Service{{Name: "Shop", Methods: []Method{getItem}}}}
	fileTwo := File{Policy: policy(app), Services: []Service{{Name: "Shop", Methods: []Method{getItem, {Name: "ListItems", HTTP: Get("/v1/items")}}}}}
	svc := policy(app)
	svcCreds := &corspb.Policy{AllowOrigins: []string{app}, AllowCredentials: proto.Bool(true)}
	base := shop(svc, getItem, delItem)
	return []Pair{
		{
			Name: "file scope enables CORS",
			Old:  noPolicy, New: filePolicy,
			Want: []string{
				"widens shop.v1.Shop.GetItem: cors: no policy -> enabled [origins https://app.example; credentials false] (file shop/v1/shop.proto)",
			},
		},
		{
			Name: "file scope removed",
			Old:  filePolicy, New: noPolicy,
			Want: []string{
				"narrows shop.v1.Shop.GetItem: cors: enabled [origins https://app.example; credentials false] -> no policy (file shop/v1/shop.proto)",
			},
		},
		{
			Name: "new RPC under a file policy",
			Old:  filePolicy, New: fileTwo,
			Want: []string{
				"widens shop.v1.Shop.ListItems: cors: absent -> enabled [origins https://app.example; credentials false] (file shop/v1/shop.proto)",
				"widens shop.v1.Shop.ListItems GET /v1/items: route: absent -> GET /v1/items (method shop.v1.Shop.ListItems)",
			},
		},
		{
			Name: "RPC removed under a file policy",
			Old:  fileTwo, New: filePolicy,
			Want: []string{
				"narrows shop.v1.Shop.ListItems: cors: enabled [origins https://app.example; credentials false] -> absent (file shop/v1/shop.proto)",
				"narrows shop.v1.Shop.ListItems GET /v1/items: route: GET /v1/items -> absent (method shop.v1.Shop.ListItems)",
			},
		},
		{
			Name: "new RPC under the runtime default",
			Old:  noPolicy, New: File{Services: []Service{{Name: "Shop", Methods: []Method{getItem, {Name: "ListItems"}}}}},
			Origins: []string{app},
			Want: []string{
				"widens shop.v1.Shop.ListItems: cors: absent -> enabled [origins https://app.example; credentials false] (runtime default)",
			},
		},
		{
			Name: "service adds credentials",
			Old:  base, New: shop(svcCreds, getItem, delItem),
			Want: []string{
				"widens shop.v1.Shop.GetItem: allow_credentials: false -> true (service shop.v1.Shop)",
				"widens shop.v1.Shop.DeleteItem: allow_credentials: false -> true (service shop.v1.Shop)",
			},
		},
		{
			Name: "service drops credentials",
			Old:  shop(svcCreds, getItem, delItem), New: base,
			Want: []string{
				"narrows shop.v1.Shop.GetItem: allow_credentials: true -> false (service shop.v1.Shop)",
				"narrows shop.v1.Shop.DeleteItem: allow_credentials: true -> false (service shop.v1.Shop)",
			},
		},
		{
			Name: "service adds an origin, a header, an exposed header and a longer max age",
			Old:  base,
			New: shop(&corspb.Policy{AllowOrigins: []string{app, other}, AllowHeaders: []string{"X-Trace"}, ExposeHeaders: []string{"X-Total"}, MaxAgeSeconds: proto.Uint32(600)},
				getItem, delItem),
			Want: []string{
				"widens shop.v1.Shop.GetItem: allow_origins: https://app.example -> https://app.example, https://other.example (service shop.v1.Shop)",
				"widens shop.v1.Shop.GetItem: allow_headers: - -> X-Trace (service shop.v1.Shop)",
				"widens shop.v1.Shop.GetItem: expose_headers: - -> X-Total (service shop.v1.Shop)",
				"widens shop.v1.Shop.GetItem: max_age_seconds: unset -> 600 (service shop.v1.Shop)",
				"widens shop.v1.Shop.DeleteItem: allow_origins: https://app.example -> https://app.example, https://other.example (service shop.v1.Shop)",
				"widens shop.v1.Shop.DeleteItem: allow_headers: - -> X-Trace (service shop.v1.Shop)",
				"widens shop.v1.Shop.DeleteItem: expose_headers: - -> X-Total (service shop.v1.Shop)",
				"widens shop.v1.Shop.DeleteItem: max_age_seconds: unset -> 600 (service shop.v1.Shop)",
			},
		},
		{
			Name: "method narrows origins and disables CORS",
			Old:  shop(policy(app, other), getItem, delItem),
			New: shop(policy(app, other),
				with(getItem, func(m *Method) { m.Policy = policy(app) }),
				with(delItem, func(m *Method) { m.Policy = &corspb.Policy{Enabled: proto.Bool(false)} })),
			Want: []string{
				"narrows shop.v1.Shop.GetItem: allow_origins: https://app.example, https://other.example -> https://app.example (method shop.v1.Shop.GetItem)",
				"narrows shop.v1.Shop.GetItem GET /v1/items/{id}: Access-Control-Allow-Methods: GET, DELETE -> GET (method shop.v1.Shop.DeleteItem)",
				"narrows shop.v1.Shop.DeleteItem: cors: enabled [origins https://app.example, https://other.example; credentials false] -> disabled (method shop.v1.Shop.DeleteItem)",
			},
		},
		{
			Name: "method re-enables CORS and allows a header",
			Old: shop(svc, getItem,
				with(delItem, func(m *Method) { m.Policy = &corspb.Policy{Enabled: proto.Bool(false)} })),
			New: shop(svc,
				with(getItem, func(m *Method) { m.Policy = &corspb.Policy{AllowHeaders: []string{"X-Trace"}} }),
				delItem),
			Want: []string{
				"widens shop.v1.Shop.GetItem: allow_headers: - -> X-Trace (method shop.v1.Shop.GetItem)",
				"widens shop.v1.Shop.DeleteItem: cors: disabled -> enabled [origins https://app.example; credentials false] (method shop.v1.Shop.DeleteItem)",
			},
		},
		{
			Name: "method names an origin set",
			Old:  base,
			New: shop(svc, getItem,
				with(delItem, func(m *Method) { m.Policy = &corspb.Policy{AllowOriginSets: []string{"admin"}} })),
			NewSets: map[string][]string{"admin": {admin}},
			Want: []string{
				"narrows shop.v1.Shop.GetItem GET /v1/items/{id}: Access-Control-Allow-Methods: GET, DELETE -> GET (method shop.v1.Shop.DeleteItem)",
				"narrows shop.v1.Shop.DeleteItem: allow_origins: https://app.example -> - (method shop.v1.Shop.DeleteItem)",
				"widens shop.v1.Shop.DeleteItem: allow_origin_sets: - -> admin (https://admin.example) (method shop.v1.Shop.DeleteItem)",
				"narrows shop.v1.Shop.DeleteItem DELETE /v1/items/{id}: Access-Control-Allow-Methods: GET, DELETE -> DELETE (method shop.v1.Shop.GetItem)",
			},
		},
		{
			Name: "origin set binding grows",
			Old: shop(svc, getItem,
				with(delItem, func(m *Method) { m.Policy = &corspb.Policy{AllowOriginSets: []string{"admin"}} })),
			New: shop(svc, getItem,
				with(delItem, func(m *Method) { m.Policy = &corspb.Policy{AllowOriginSets: []string{"admin"}} })),
			OldSets: map[string][]string{"admin": {admin}},
			NewSets: map[string][]string{"admin": {admin, other}},
			Want: []string{
				"widens shop.v1.Shop.DeleteItem: origin set admin: https://admin.example -> https://admin.example, https://other.example (origin set admin)",
			},
		},
		{
			Name: "additional binding and a binding that becomes a GET",
			Old: shop(svc, getItem,
				with(delItem, func(m *Method) { m.HTTP = Post("/v1/items/{id}:delete") })),
			New: shop(svc,
				with(getItem, func(m *Method) { m.HTTP = Get("/v1/items/{id}", Get("/v1/shelves/*/items/{id}")) }),
				with(delItem, func(m *Method) { m.HTTP = Get("/v1/items/{id}:delete") })),
			Want: []string{
				"widens shop.v1.Shop.GetItem GET /v1/shelves/*/items/{id}: route: absent -> GET /v1/shelves/*/items/{id} (method shop.v1.Shop.GetItem)",
				// "/v1/items/{id}" matches "/v1/items/7:delete" too, where
				// the old POST was listed with GET.
				"narrows shop.v1.Shop.GetItem GET /v1/items/{id}: Access-Control-Allow-Methods: GET, POST -> GET (method shop.v1.Shop.DeleteItem)",
				"widens shop.v1.Shop.DeleteItem GET /v1/items/{id}:delete: route method: POST -> GET (method shop.v1.Shop.DeleteItem)",
			},
		},
		{
			Name: "additional binding removed",
			Old: shop(svc,
				with(getItem, func(m *Method) { m.HTTP = Get("/v1/items/{id}", Get("/v1/shelves/*/items/{id}")) }),
				delItem),
			New: base,
			Want: []string{
				"narrows shop.v1.Shop.GetItem GET /v1/shelves/*/items/{id}: route: GET /v1/shelves/*/items/{id} -> absent (method shop.v1.Shop.GetItem)",
			},
		},
		{
			Name: "a method newly listed in Access-Control-Allow-Methods",
			Old: shop(svc, getItem,
				with(delItem, func(m *Method) { m.Policy = &corspb.Policy{AllowHeaders: []string{"X-Confirm"}} })),
			New: base,
			Want: []string{
				"widens shop.v1.Shop.GetItem GET /v1/items/{id}: Access-Control-Allow-Methods: GET -> GET, DELETE (method shop.v1.Shop.DeleteItem)",
				"narrows shop.v1.Shop.DeleteItem: allow_headers: X-Confirm -> - (method shop.v1.Shop.DeleteItem)",
				"widens shop.v1.Shop.DeleteItem DELETE /v1/items/{id}: Access-Control-Allow-Methods: DELETE -> GET, DELETE (method shop.v1.Shop.GetItem)",
			},
		},
		{
			Name: "Connect GET",
			Old:  base,
			New:  shop(svc, with(getItem, func(m *Method) { m.NoSideEffects = true }), delItem),
			Want: []string{
				"widens shop.v1.Shop.GetItem: connect methods: POST -> GET, POST (method shop.v1.Shop.GetItem)",
			},
		},
		{
			Name: "neutral: same origins reordered, an RPC without CORS added",
			Old:  File{Services: []Service{{Name: "Shop", Policy: policy(app, other), Methods: []Method{getItem}}}},
			New: File{Services: []Service{
				{Name: "Shop", Policy: policy(other, app), Methods: []Method{getItem}},
				{Name: "Internal", Methods: []Method{{Name: "Sync", HTTP: Post("/v1/sync")}}},
			}},
			Want: []string{
				"neutral shop.v1.Internal.Sync: cors: absent -> no policy (method shop.v1.Internal.Sync)",
				"neutral shop.v1.Internal.Sync POST /v1/sync: route: absent -> POST /v1/sync (body *) (method shop.v1.Internal.Sync)",
			},
		},
		{
			Name: "no change",
			Old:  base, New: base,
			Want: []string{},
		},
	}
}
