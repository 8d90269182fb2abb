package core_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/protocors/protocors/internal/core"
)

// refusedByProtection is the verdict the middlewares reach for a request to
// a route under p: refused when the method is unsafe, the origin is not
// granted, and the browser marked the request cross-origin.
func refusedByProtection(p *core.Engine, r *http.Request) bool {
	q := core.ReadRequest(r)
	return !core.SafeMethod(r.Method) && !p.AllowsOrigin(q.Origin) && core.CrossOrigin(r, &q)
}

// TestCrossOriginMatchesNetHTTP compares the protection's verdicts with
// net/http.CrossOriginProtection's on every combination of method,
// Sec-Fetch-Site, Origin and Host below, with the trusted origins equal to
// the policy's: the rule is meant to be Go's, with trusted origins per RPC.
func TestCrossOriginMatchesNetHTTP(t *testing.T) {
	const trusted = "https://app.example"
	p, err := core.Compile(core.Config{Origins: []string{trusted}, MaxAge: -1})
	if err != nil {
		t.Fatal(err)
	}
	cop := http.NewCrossOriginProtection()
	if err := cop.AddTrustedOrigin(trusted); err != nil {
		t.Fatal(err)
	}
	methods := []string{"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE", "PURGE", "post", "get"}
	sites := []string{"", "cross-site", "same-site", "same-origin", "none", "Cross-Site", "bogus"}
	origins := []string{
		"", trusted, "https://evil.example", "null",
		"https://api.example", "http://api.example", "https://api.example:8443", "https://API.example",
		"https://user@api.example", "https://api.example/path", "https://api.example:", "https://api.example:x",
		"http://[::1]:8080", "https://[::1]:8080", "api.example", "%zz", "https://app.example.", " https://app.example",
	}
	hosts := []string{"api.example", "api.example:8443", "[::1]:8080", "API.example"}
	n, refused := 0, 0
	for _, method := range methods {
		for _, site := range sites {
			for _, origin := range origins {
				for _, host := range hosts {
					r := httptest.NewRequest(method, "https://api.example/v1/x", nil)
					r.Host = host
					if site != "" {
						r.Header.Set("Sec-Fetch-Site", site)
					}
					if origin != "" {
						r.Header.Set("Origin", origin)
					}
					want := cop.Check(r) != nil
					got := refusedByProtection(p, r)
					if got != want {
						t.Errorf("%s Host %q Sec-Fetch-Site %q Origin %q: refused %t, net/http refuses: %t", method, host, site, origin, got, want)
					}
					n++
					if got {
						refused++
					}
				}
			}
		}
	}
	t.Logf("%d requests compared, %d refused by both", n, refused)
}

// TestCrossOriginAllocations: the check allocates nothing for the origins
// browsers send.
func TestCrossOriginAllocations(t *testing.T) {
	r := httptest.NewRequest("POST", "https://api.example/v1/x", nil)
	r.Header.Set("Origin", "https://evil.example:8443")
	q := core.ReadRequest(r)
	if got := testing.AllocsPerRun(100, func() { core.CrossOrigin(r, &q) }); got != 0 {
		t.Errorf("CrossOrigin without Sec-Fetch-Site: %v allocations, want 0", got)
	}
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	if got := testing.AllocsPerRun(100, func() { core.CrossOrigin(r, &q) }); got != 0 {
		t.Errorf("CrossOrigin with Sec-Fetch-Site: %v allocations, want 0", got)
	}
}

// FuzzCrossOrigin holds the protection to net/http.CrossOriginProtection's
// verdict on arbitrary header values.
func FuzzCrossOrigin(f *testing.F) {
	const trusted = "https://app.example"
	p, err := core.Compile(core.Config{Origins: []string{trusted}, MaxAge: -1})
	if err != nil {
		f.Fatal(err)
	}
	cop := http.NewCrossOriginProtection()
	if err := cop.AddTrustedOrigin(trusted); err != nil {
		f.Fatal(err)
	}
	f.Add("POST", "cross-site", "https://evil.example", "api.example")
	f.Add("PUT", "", "https://api.example", "api.example")
	f.Add("DELETE", "", "https://u@api.example:1", "api.example:1")
	f.Add("POST", "", "http://[::1]:80", "[::1]:80")
	f.Fuzz(func(t *testing.T, method, site, origin, host string) {
		r := httptest.NewRequest("GET", "https://api.example/", nil)
		r.Method, r.Host = method, host
		if site != "" {
			r.Header["Sec-Fetch-Site"] = []string{site}
		}
		if origin != "" {
			r.Header["Origin"] = []string{origin}
		}
		if got, want := refusedByProtection(p, r), cop.Check(r) != nil; got != want {
			t.Errorf("%q Host %q Sec-Fetch-Site %q Origin %q: refused %t, net/http refuses: %t", method, host, site, origin, got, want)
		}
	})
}
