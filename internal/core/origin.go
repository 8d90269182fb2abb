package core

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/weppos/publicsuffix-go/publicsuffix"
)

// maxOriginLen bounds the Origin values we look at: a DNS name is at most 253
// bytes, so no browser serializes a longer origin. Longer values are refused
// without further work.
const maxOriginLen = 512

// OriginOptions relax origin validation where the user asked for it.
type OriginOptions struct {
	// AllowNull permits the "null" origin in allow_origins.
	AllowNull bool
	// AllowInsecure permits plain http:// origins other than loopback
	// together with credentials.
	AllowInsecure bool
	// Sets are the origin sets bound at run time (WithOriginSet), by name;
	// their members count as the origins of the policies that name them.
	Sets map[string][]string
	// CheckBindings requires every set an enabled policy names to be bound
	// in Sets, as New does. Off, the names are checked but not their
	// bindings: a lint of the protos alone, which cannot know the
	// deployment's sets.
	CheckBindings bool

	// named, when not nil, records the bound sets that an enabled policy
	// names, as Validate meets them, so New can log the bound sets that no
	// RPC names (see logOriginSets).
	named map[string]bool
}

// originPattern is one parsed allow_origins entry.
type originPattern struct {
	any       bool   // "*"
	exact     string // a full serialized origin, when not a pattern
	scheme    string // "https"
	suffix    string // ".example.com" for "https://*.example.com"; "" when the host is fixed
	host      string // the fixed host, when suffix == ""
	anyPort   bool   // ":*"
	port      string // fixed port digits, "" for the default port
	loopback  bool   // the host is a loopback name or address
	plainHTTP bool
}

// ParseOrigin parses one allow_origins entry and says precisely what is wrong
// with it. The accepted forms are documented on corspb.Policy.AllowOrigins.
func ParseOrigin(s string, opts OriginOptions) (originPattern, error) {
	var p originPattern
	switch s {
	case "":
		return p, errors.New("empty origin")
	case "*":
		p.any = true
		return p, nil
	case "null":
		if !opts.AllowNull {
			return p, &kindError{KindNullOrigin, `the "null" origin is shared by every sandboxed frame and local file, so allowing it allows them all; give the option that allows it if that is intended`}
		}
		p.exact = s
		return p, nil
	}
	if len(s) > maxOriginLen {
		return p, fmt.Errorf("origin longer than %d bytes", maxOriginLen)
	}
	if strings.Contains(s, ",") {
		return p, errors.New(`holds a comma: it looks like several origins joined into one string; give each origin as its own entry (from Go, split the list first, e.g. strings.Split(os.Getenv("ORIGINS"), ","), and trim each part)`)
	}
	if t := strings.TrimSpace(s); t != s {
		return p, fmt.Errorf("has leading or trailing whitespace: browsers send none, so it would never match (a list split on commas needs each origin trimmed: %q)", t)
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		if fix, ok := schemeFix(s); ok {
			return p, fmt.Errorf("not an origin: want scheme://host[:port]; did you mean %q?", fix)
		}
		return p, errors.New(`not an origin: want scheme://host[:port], such as "https://app.example.com"`)
	}
	if near := nearWebScheme(scheme); near != "" {
		return p, fmt.Errorf("scheme %q is not http or https, but a typo away from %s: did you mean %q? (the origin would never match a page served over http or https)", scheme, near, near+"://"+rest)
	}
	if !validScheme(scheme) {
		return p, fmt.Errorf("scheme %q is not a lower-case URL scheme", scheme)
	}
	p.scheme = scheme
	p.plainHTTP = scheme == "http"
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		what := map[byte]string{'/': "a path or trailing slash", '?': "a query", '#': "a fragment"}[rest[i]]
		return p, fmt.Errorf("has %s: an origin is scheme://host[:port] only (drop %q)", what, rest[i:])
	}
	if strings.Contains(rest, "@") {
		return p, errors.New("has userinfo: browsers never send user@ in an Origin")
	}
	host, port := rest, ""
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return p, errors.New("unterminated IPv6 literal")
		}
		host, port = rest[:end+1], rest[end+1:]
		if port != "" && port[0] != ':' {
			return p, fmt.Errorf("unexpected %q after the IPv6 literal", port)
		}
		port = strings.TrimPrefix(port, ":")
		if port == "" && strings.HasSuffix(rest, ":") {
			return p, errors.New("empty port after ':'")
		}
	} else if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		host, port = rest[:i], rest[i+1:]
		if port == "" {
			return p, errors.New("empty port after ':'")
		}
	}
	switch {
	case port == "*":
		p.anyPort = true
	case port != "":
		if err := checkPort(port, scheme); err != nil {
			return p, err
		}
		p.port = port
	}
	if host == "" {
		return p, errors.New("empty host")
	}
	if strings.Contains(host, "*") {
		if !strings.HasPrefix(host, "*.") || strings.Contains(host[2:], "*") {
			return p, errors.New(`a wildcard may only stand as the first label ("https://*.example.com") or as the port ("http://localhost:*")`)
		}
		base := host[2:]
		if err := checkDomain(base); err != nil {
			return p, err
		}
		if _, err := netip.ParseAddr(base); err == nil || looksNumeric(base) {
			return p, errors.New("a subdomain wildcard needs a domain name, not an IP address")
		}
		if err := checkWildcardBase(base); err != nil {
			return p, err
		}
		p.suffix = "." + base
		p.loopback = base == "localhost" || strings.HasSuffix(base, ".localhost")
	} else {
		if err := checkHost(host); err != nil {
			return p, err
		}
		p.host = host
		p.loopback = isLoopbackHost(host)
	}
	if !p.anyPort && p.suffix == "" {
		p.exact = s
	}
	return p, nil
}

// checkWildcardBase refuses a "*.base" pattern when some host it matches lies
// under a public suffix: base itself, or one longer than base, such as
// "s3.amazonaws.com" under "amazonaws.com" or "*.kawasaki.jp" under
// "kawasaki.jp". Exception rules of the list do not make a base safe: the
// wildcard still covers the other names under the wildcard rule.
func checkWildcardBase(base string) error {
	if publicSuffix(base) == base {
		return &kindError{KindWildcard, fmt.Sprintf("too broad: %q is a public suffix, so the pattern would allow sites of anyone who registers a name under it", base)}
	}
	if ps, ok := longerSuffixes()[base]; ok {
		what := "the public suffix"
		if strings.HasPrefix(ps, "*.") {
			what = "the public suffixes"
		}
		return &kindError{KindWildcard, fmt.Sprintf("the wildcard covers hosts under %s %q, where anyone can register a site; list the origins you own", what, ps)}
	}
	return nil
}

// publicSuffix returns the public suffix of name under the Public Suffix List
// (ICANN and private sections), with "*" as the default rule, so a name under
// an unlisted top-level domain has that domain as its public suffix.
func publicSuffix(name string) string {
	r := publicsuffix.DefaultList.Find(name, publicsuffix.DefaultFindOptions)
	n := r.Length // labels of the suffix for normal and wildcard rules
	switch {
	case r == publicsuffix.DefaultRule:
		n = 1
	case r.Type == publicsuffix.ExceptionType:
		n = r.Length - 1
	}
	return lastLabels(name, n)
}

// lastLabels returns the last n labels of name, or all of name.
func lastLabels(name string, n int) string {
	i := len(name)
	for ; n > 0 && i > 0; n-- {
		i = strings.LastIndexByte(name[:i], '.')
		if i < 0 {
			return name
		}
	}
	return name[i+1:]
}

// longerSuffixes maps every name that has a public suffix strictly below it
// to one such suffix, as written in the list ("*." for a wildcard rule): the
// one with fewest labels, then the shortest, then the first in byte order.
// It is built once, when the first wildcard pattern is validated; requests
// never consult it.
var longerSuffixes = sync.OnceValue(func() map[string]string {
	m := make(map[string]string)
	better := func(a, b string) bool { // a is a better example than b
		la, lb := strings.Count(a, "."), strings.Count(b, ".")
		if la != lb {
			return la < lb
		}
		if len(a) != len(b) {
			return len(a) < len(b)
		}
		return a < b
	}
	add := func(name, suffix string) {
		if old, ok := m[name]; !ok || better(suffix, old) {
			m[name] = suffix
		}
	}
	for _, r := range publicsuffix.DefaultRules() {
		var above, suffix string // above: the longest name with a suffix of the rule strictly below it
		switch r.Type {
		case publicsuffix.NormalType:
			// "s3.amazonaws.com" is a suffix: "amazonaws.com" and "com" are above it.
			suffix = r.Value
			_, above, _ = strings.Cut(r.Value, ".")
		case publicsuffix.WildcardType:
			// "*.kawasaki.jp": every "x.kawasaki.jp" is a suffix, so
			// "kawasaki.jp" and "jp" are above one.
			suffix = "*." + r.Value
			above = r.Value
		default:
			// An exception names a registrable domain, no suffix below it.
			continue
		}
		for above != "" {
			add(above, suffix)
			_, above, _ = strings.Cut(above, ".")
		}
	}
	return m
})

// Check reports problems of the pattern that depend on the rest of the policy.
func (p originPattern) checkCredentials(opts OriginOptions) error {
	if p.any {
		return &kindError{KindCredentials, `"*" cannot be used with allow_credentials: browsers refuse it; list the origins`}
	}
	if p.plainHTTP && !p.loopback && !opts.AllowInsecure {
		return &kindError{KindInsecureOrigin, "plain http:// origin with allow_credentials: anyone on the network path can impersonate it; use https://, or give the option that allows insecure origins"}
	}
	return nil
}

// nearWebScheme returns "https" or "http" when scheme is not one of them
// but one or two edits (insertion, deletion, substitution or transposition
// of adjacent letters, case ignored) away from one: "htps", "htp", "hhtp",
// "htttps", "https:" (from "https:://"). Such an origin is accepted by the
// URL grammar but is a typo, since no page is served over "htps"; without
// this check it passes validation and silently never matches. Real
// schemes that close (ftp, ftps, sftp, ws, wss) are left alone; other
// schemes browsers use for origins (chrome-extension, moz-extension,
// capacitor, app, tauri, ...) are too far to be caught.
func nearWebScheme(scheme string) string {
	switch scheme {
	case "http", "https", "ftp", "ftps", "sftp", "ws", "wss":
		return ""
	case "HTTP", "HTTPS":
		return "" // upper case: validScheme reports it with its own fix
	}
	l := strings.ToLower(scheme)
	if t := strings.TrimRight(l, ":/"); t != l && (t == "http" || t == "https") {
		return t // "https:" from "https:://"
	}
	ds, d := editDistance(l, "https"), editDistance(l, "http")
	switch {
	case ds <= 2 && ds <= d:
		return "https"
	case d <= 2:
		return "http"
	}
	return ""
}

// schemeFix proposes the origin meant by s when s lacks "://" but starts
// with http or https (or a near typo) followed by ':' or '/' ("https:/a.example",
// "https//a.example", "https:a.example").
func schemeFix(s string) (string, bool) {
	i := strings.IndexAny(s, ":/")
	if i <= 0 {
		return "", false
	}
	scheme, rest := strings.ToLower(s[:i]), strings.TrimLeft(s[i:], ":/")
	if rest == "" {
		return "", false
	}
	if scheme != "http" && scheme != "https" {
		if scheme = nearWebScheme(scheme); scheme == "" {
			return "", false
		}
	}
	return scheme + "://" + rest, true
}

// editDistance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and transpositions of adjacent
// bytes, each counting one. Inputs are short (schemes, set names).
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return max(len(a), len(b))
	}
	var d [65][65]int
	for i := 0; i <= len(a); i++ {
		d[i][0] = i
	}
	for j := 0; j <= len(b); j++ {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

func validScheme(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func checkPort(port, scheme string) error {
	if len(port) > 5 || port[0] == '0' {
		return fmt.Errorf("port %q is not how a browser writes a port (1-65535, no leading zero)", port)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %q is not a number from 1 to 65535", port)
	}
	if scheme == "http" && n == 80 || scheme == "https" && n == 443 {
		return fmt.Errorf("port %d is the default for %s: browsers omit it from the Origin, so remove \":%d\"", n, scheme, n)
	}
	return nil
}

func checkHost(host string) error {
	if strings.HasPrefix(host, "[") {
		a, err := netip.ParseAddr(host[1 : len(host)-1])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return fmt.Errorf("%s is not an IPv6 address", host)
		}
		if "["+a.String()+"]" != host {
			return fmt.Errorf("IPv6 literal %s is not in the form browsers send: write [%s]", host, a.String())
		}
		return nil
	}
	if looksNumeric(host) {
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is4() || a.String() != host {
			return fmt.Errorf("%q is not an IPv4 address as browsers write it", host)
		}
		return nil
	}
	return checkDomain(host)
}

// checkDomain accepts lower-case DNS names as browsers serialize them:
// labels of letters, digits, '-' and '_' (punycode for non-ASCII names).
func checkDomain(d string) error {
	if len(d) > 253 {
		return errors.New("host name longer than 253 bytes")
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" {
			return fmt.Errorf("host %q has an empty label", d)
		}
		if len(label) > 63 {
			return fmt.Errorf("host %q has a label longer than 63 bytes", d)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			switch {
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
			case c >= 'A' && c <= 'Z':
				return fmt.Errorf("host %q has upper case: browsers send host names in lower case, so it would never match", d)
			default:
				return fmt.Errorf("host %q has %q, which a browser never sends in a host name (use punycode for non-ASCII names)", d, c)
			}
		}
	}
	return nil
}

// looksNumeric reports whether the last label is all digits: WHATWG URL
// parsing treats such hosts as IPv4 addresses.
func looksNumeric(host string) bool {
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return false
	}
	for i := 0; i < len(last); i++ {
		if last[i] < '0' || last[i] > '9' {
			return false
		}
	}
	return true
}

func isLoopbackHost(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	h := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	a, err := netip.ParseAddr(h)
	return err == nil && a.IsLoopback()
}

// originMatcher decides whether a request's Origin is allowed. Exact
// origins are looked up in a map; patterns are checked one by one. Nothing
// is normalized: the Origin must be byte-equal to what a browser sends for
// an allowed origin.
type originMatcher struct {
	any      bool
	few      []string            // exact origins, when there are few: compared in turn
	exact    map[string]struct{} // exact origins, when there are many: hashed
	patterns []originPattern
}

// fewOrigins is how many exact origins are compared one by one rather than
// hashed: comparing strings of different lengths costs a length check.
const fewOrigins = 8

func newOriginMatcher(ps []originPattern) originMatcher {
	var m originMatcher
	var exact []string
	for _, p := range ps {
		switch {
		case p.any:
			m.any = true
		case p.exact != "":
			if !slices.Contains(exact, p.exact) {
				exact = append(exact, p.exact)
			}
		default:
			m.patterns = append(m.patterns, p)
		}
	}
	if len(exact) <= fewOrigins {
		m.few = exact
	} else {
		m.exact = make(map[string]struct{}, len(exact))
		for _, o := range exact {
			m.exact[o] = struct{}{}
		}
	}
	return m
}

// match reports whether origin is allowed. It does not allocate.
func (m *originMatcher) match(origin string) bool {
	if len(origin) > maxOriginLen || origin == "" {
		return false
	}
	if m.any {
		return true
	}
	for _, o := range m.few {
		if o == origin {
			return true
		}
	}
	if _, ok := m.exact[origin]; ok {
		return true
	}
	for i := range m.patterns {
		if m.patterns[i].match(origin) {
			return true
		}
	}
	return false
}

// match checks origin against a subdomain or port pattern.
func (p *originPattern) match(origin string) bool {
	rest, ok := strings.CutPrefix(origin, p.scheme)
	if !ok {
		return false
	}
	rest, ok = strings.CutPrefix(rest, "://")
	if !ok {
		return false
	}
	// Split the port off: hosts in patterns are names or IPv6 literals.
	host, port := rest, ""
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.HasSuffix(rest, "]") {
		host, port = rest[:i], rest[i+1:]
		if !browserPort(port, p.scheme) {
			return false
		}
	}
	if p.anyPort {
		// any port, default included
	} else if port != p.port {
		return false
	}
	if p.suffix == "" {
		return host == p.host
	}
	sub, ok := strings.CutSuffix(host, p.suffix)
	if !ok || sub == "" {
		return false
	}
	return validSubdomain(sub)
}

// browserPort reports whether port is how a browser serializes a non-default
// port: 1-65535 in digits without a leading zero.
func browserPort(port, scheme string) bool {
	if port == "" || len(port) > 5 || port[0] == '0' {
		return false
	}
	n := 0
	for i := 0; i < len(port); i++ {
		c := port[i]
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	if n > 65535 {
		return false
	}
	return !(scheme == "http" && n == 80 || scheme == "https" && n == 443)
}

// validSubdomain reports whether s is one or more lower-case DNS labels.
func validSubdomain(s string) bool {
	n := 0 // length of the current label
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
			n++
			if n > 63 {
				return false
			}
		case c == '.':
			if n == 0 {
				return false
			}
			n = 0
		default:
			return false
		}
	}
	return n > 0
}
