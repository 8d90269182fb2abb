package main

import (
	"net/http"
	"strings"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Origins of the load: the shop's page (in Config.Origins), the factory's
// site (the "factory" origin set, the only origins RestockIceCream allows)
// and a page the API never authorizes.
const (
	shopOrigin    = "https://shop.example.com"
	factoryOrigin = "https://factory.example.com"
	evilOrigin    = "https://evil.example.net"
)

// Kinds of request, the rows of the report.
const (
	kindPreflight = "preflight"
	kindAllowed   = "actual, allowed"
	kindRefused   = "actual, refused"
	kindNoOrigin  = "no Origin"
)

var kinds = []string{kindPreflight, kindAllowed, kindRefused, kindNoOrigin}

// target is one request of the mix and the answer each server must give:
// its status, and whether Access-Control-Allow-Origin names the origin.
// Every target has its own method and URL (flavors differ where paths
// would not), which is how a vegeta result, carrying those but not the
// request headers, is traced back to its target.
type target struct {
	name, kind   string
	method, path string
	header       http.Header
	body         string
	// want is the status the API behind the middlewares answers, bare the
	// status of the same handlers without them (preflights reach the
	// muxes, which do not know OPTIONS; nothing is refused).
	want, bare int
	// acao: the API behind the middlewares grants the origin. Without
	// them, no response carries CORS headers.
	acao bool
}

const (
	connectPath = "/icecream.v1.IceCreamService/"
	jsonType    = "application/json"
)

func headers(kv ...string) http.Header {
	h := make(http.Header)
	for i := 0; i < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// crossSite is what a current browser adds to a cross-origin fetch from
// origin; the protection reads Sec-Fetch-Site.
func crossSite(origin string, kv ...string) http.Header {
	return headers(append([]string{"Origin", origin, "Sec-Fetch-Site", "cross-site"}, kv...)...)
}

// mix is the load: preflights (granted and refused), actual requests from
// allowed origins, unsafe ones from a refused origin (403 from the
// protection, before the handler), a safe one from a refused origin (it
// passes without CORS headers), and requests without Origin, on both the
// Connect and the grpc-gateway routes, templated ones (a variable, a custom
// verb) included.
var mix = []target{
	{name: "Connect preflight", kind: kindPreflight, method: http.MethodOptions, path: connectPath + "PutIceCream",
		header: headers("Origin", shopOrigin, "Access-Control-Request-Method", "POST",
			"Access-Control-Request-Headers", "connect-protocol-version,content-type,x-my-header"),
		want: http.StatusNoContent, bare: http.StatusMethodNotAllowed, acao: true},
	{name: "gateway preflight, PUT {flavor}", kind: kindPreflight, method: http.MethodOptions, path: "/v1/icecream/vanilla",
		header: headers("Origin", shopOrigin, "Access-Control-Request-Method", "PUT",
			"Access-Control-Request-Headers", "content-type,x-my-header"),
		want: http.StatusNoContent, bare: http.StatusNotImplemented, acao: true},
	{name: "gateway preflight, :restock from the shop (refused)", kind: kindPreflight, method: http.MethodOptions, path: "/v1/icecream/pistachio:restock",
		header: headers("Origin", shopOrigin, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type"),
		want:   http.StatusForbidden, bare: http.StatusNotImplemented},
	{name: "Connect GetIceCream", kind: kindAllowed, method: http.MethodPost, path: connectPath + "GetIceCream",
		header: crossSite(shopOrigin, "Content-Type", jsonType), body: `{"flavor":"vanilla"}`,
		want: http.StatusOK, bare: http.StatusOK, acao: true},
	{name: "gateway GET {flavor}", kind: kindAllowed, method: http.MethodGet, path: "/v1/icecream/vanilla",
		header: crossSite(shopOrigin), want: http.StatusOK, bare: http.StatusOK, acao: true},
	{name: "gateway PUT {flavor}", kind: kindAllowed, method: http.MethodPut, path: "/v1/icecream/chocolate",
		header: crossSite(shopOrigin, "Content-Type", jsonType, "X-My-Header", "load"), body: `{"scoops":8}`,
		want: http.StatusOK, bare: http.StatusOK, acao: true},
	{name: "gateway POST :restock from the factory", kind: kindAllowed, method: http.MethodPost, path: "/v1/icecream/pistachio:restock",
		header: crossSite(factoryOrigin, "Content-Type", jsonType), body: `{"scoops":1}`,
		want: http.StatusOK, bare: http.StatusOK, acao: true},
	{name: "Connect PutIceCream from a refused origin", kind: kindRefused, method: http.MethodPost, path: connectPath + "PutIceCream",
		header: crossSite(evilOrigin, "Content-Type", jsonType), body: `{"flavor":"vanilla","scoops":10}`,
		want: http.StatusForbidden, bare: http.StatusOK},
	{name: "gateway PUT {flavor} from a refused origin", kind: kindRefused, method: http.MethodPut, path: "/v1/icecream/vanilla",
		header: crossSite(evilOrigin, "Content-Type", jsonType), body: `{"scoops":10}`,
		want: http.StatusForbidden, bare: http.StatusOK},
	{name: "gateway GET {flavor} from a refused origin (safe: passes)", kind: kindRefused, method: http.MethodGet, path: "/v1/icecream/chocolate",
		header: crossSite(evilOrigin), want: http.StatusOK, bare: http.StatusOK},
	{name: "Connect ListIceCreams without Origin", kind: kindNoOrigin, method: http.MethodPost, path: connectPath + "ListIceCreams",
		header: headers("Content-Type", jsonType), body: `{}`, want: http.StatusOK, bare: http.StatusOK},
	{name: "gateway GET collection without Origin", kind: kindNoOrigin, method: http.MethodGet, path: "/v1/icecream",
		header: headers(), want: http.StatusOK, bare: http.StatusOK},
}

// key identifies a target from a result: method and URL.
func key(method, url string) string { return method + " " + url }

// targets returns the mix as vegeta targets on base, and an index from
// key to target.
func targets(base string) ([]vegeta.Target, map[string]*target) {
	tgts := make([]vegeta.Target, len(mix))
	index := make(map[string]*target, len(mix))
	for i := range mix {
		t := &mix[i]
		url := strings.TrimSuffix(base, "/") + t.path
		tgts[i] = vegeta.Target{Method: t.method, URL: url, Header: t.header.Clone()}
		if t.body != "" {
			tgts[i].Body = []byte(t.body)
		}
		k := key(t.method, url)
		if index[k] != nil {
			panic("two targets share " + k)
		}
		index[k] = t
	}
	return tgts, index
}
