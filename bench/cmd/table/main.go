// Command table turns the raw output of several benchmark passes into the
// tables of bench/README.md: per scenario, each middleware's overhead over
// the bare handler, and ours as a ratio to the better peer.
//
//	go run ./cmd/table -readme README.md results/raw.txt
//
// It replaces the text between the "<!-- table:begin -->" and
// "<!-- table:end -->" markers of the README, or prints the tables when
// -readme is empty.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

const (
	beginMarker = "<!-- table:begin -->"
	endMarker   = "<!-- table:end -->"
)

// Rows of the tables, in order; ours first, then the peers. ours are
// compared with jub0bs/cors (the must: the peer whose responses own their
// header values) and with the better peer (the goal). The literal routes
// (connect, gateway) have an unprotected sibling (the cross-origin request
// protection off), measured on actual requests only, and a metrics one;
// the templated gateway routes have neither.
var (
	ours      = []string{"connect", "gateway", "gateway-var", "gateway-name", "gateway-verb"}
	variants  = []string{"connect", "gateway"}
	noprotect = map[string]string{"connect": "connect-noprotect", "gateway": "gateway-noprotect"}
	metrics   = map[string]string{"connect": "connect-metrics", "gateway": "gateway-metrics"}
	peers     = []string{"rs-cors", "jub0bs-cors"}
	// mustPeer is the peer of the must bar: rs/cors hands every response
	// the same value slices (rs/cors#198), which DESIGN.md forbids us.
	mustPeer = "jub0bs-cors"
	extra    = []string{"core"}
	title    = map[string]string{
		"connect": "ours: Connect", "gateway": "ours: gateway `/v1/echo`", "rs-cors": "rs/cors", "jub0bs-cors": "jub0bs/cors",
		"gateway-var": "ours: gateway `/v1/things/{name}`", "gateway-name": "ours: gateway `/v1/{name=projects/*/things/*}`",
		"gateway-verb":      "ours: gateway `/v1/things/{name}:cancel`",
		"connect-noprotect": "Connect, protection off", "gateway-noprotect": "gateway, protection off",
		"core":                "engine alone",
		"connect-reconfigure": "ours: Connect, Reconfigure", "gateway-reconfigure": "ours: gateway, Reconfigure",
		"gateway-resources": "ours: gateway, AIP-style resources",
		"connect-metrics":   "Connect, metrics on", "gateway-metrics": "gateway, metrics on",
	}
	// short names ours in the ratio tables' headers.
	short = map[string]string{
		"connect": "Connect", "gateway": "gw `/v1/echo`", "gateway-var": "gw `{name}`",
		"gateway-name": "gw `{name=projects/*/things/*}`", "gateway-verb": "gw `{name}:cancel`",
	}
)

// sample is every pass's value of one benchmark, by unit.
type sample map[string][]float64

func (s sample) median(unit string) (float64, bool) {
	v := slices.Clone(s[unit])
	if len(v) == 0 {
		return 0, false
	}
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2], true
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2, true
}

// spread is half the range of the middle two thirds of the values: the
// noise band the "within noise" target is judged by.
func (s sample) spread(unit string) float64 {
	v := slices.Clone(s[unit])
	if len(v) < 2 {
		return 0
	}
	sort.Float64s(v)
	cut := len(v) / 6
	v = v[cut : len(v)-cut]
	return (v[len(v)-1] - v[0]) / 2
}

var procs = regexp.MustCompile(`-\d+$`)

// parse reads benchmark lines: name, iterations, then value-unit pairs.
func parse(r io.Reader) (map[string]sample, int, error) {
	out := make(map[string]sample)
	passes := make(map[string]int)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		name := procs.ReplaceAllString(strings.TrimPrefix(f[0], "Benchmark"), "")
		s := out[name]
		if s == nil {
			s = make(sample)
			out[name] = s
		}
		passes[name]++
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, 0, fmt.Errorf("%q: %v", sc.Text(), err)
			}
			s[f[i+1]] = append(s[f[i+1]], v)
		}
	}
	// The passes the time table's medians come from: the side-by-side
	// benchmark's where it ran (other benchmarks may have run more or
	// fewer times).
	n, sbs := 0, 0
	for name, p := range passes {
		n = max(n, p)
		if strings.HasPrefix(name, "SideBySide/") {
			sbs = max(sbs, p)
		}
	}
	if sbs > 0 {
		n = sbs
	}
	return out, n, sc.Err()
}

// key returns the value of "k=" in a sub-benchmark name.
func key(name, k string) string {
	for _, part := range strings.Split(name, "/") {
		if v, ok := strings.CutPrefix(part, k+"="); ok {
			return v
		}
	}
	return ""
}

// unranked are the scenarios whose bare row is a whole connect-go call
// (about 2.5 µs, varying by more than any middleware's overhead from pass
// to pass): their overheads are printed, not ranked. Elsewhere the ratio
// is ranked however noisy the machine: within a pass of the side-by-side
// benchmark every row sees the same drift, and the range in parentheses
// shows what is left of it.
var unranked = map[string]bool{"connect_unary": true}

// spreadOf is the bare row's spread in a scenario: the noise band below
// which overheads are not compared.
func spreadOf(data map[string]sample, scenario string) float64 {
	if sbs := data["SideBySide/scenario="+scenario]; sbs != nil {
		return sbs.spread("bare-ns/req")
	}
	return data["CORS/scenario="+scenario+"/impl=bare"].spread("ns/op")
}

// perPass returns the median, lowest and highest of the per-pass ratios
// of impl's overhead to the better of against's in that same pass (from
// BenchmarkSideBySide where it ran). Passes where that peer is at or
// below bare are left out.
func perPass(data map[string]sample, scenario, impl string, against []string) (med, lo, hi float64) {
	vals := func(name string) []float64 { return data["CORS/scenario="+scenario+"/impl="+name]["ns/op"] }
	if sbs := data["SideBySide/scenario="+scenario]; sbs != nil {
		vals = func(name string) []float64 { return sbs[name+"-ns/req"] }
	}
	base, ours := vals("bare"), vals(impl)
	var ratios []float64
	for k := range min(len(base), len(ours)) {
		best := math.Inf(1)
		for _, p := range against {
			if v := vals(p); k < len(v) {
				best = min(best, v[k]-base[k])
			}
		}
		if best < 5 || math.IsInf(best, 1) {
			continue
		}
		ratios = append(ratios, (ours[k]-base[k])/best)
	}
	if len(ratios) == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	med, _ = sample{"r": ratios}.median("r")
	return med, slices.Min(ratios), slices.Max(ratios)
}

func signed(v float64, unit string) string {
	switch unit {
	case "ns/op":
		return fmt.Sprintf("%+.0f", v)
	case "B/op":
		return fmt.Sprintf("%+.0f B", v)
	default:
		return fmt.Sprintf("%+.0f", v)
	}
}

func render(data map[string]sample, passes int) string {
	var scenarios []string
	seen := map[string]bool{}
	var names []string
	for n := range data {
		names = append(names, n)
	}
	sort.Strings(names)
	// Keep the benchmark's own order: scenario names are listed in the
	// order they first appear in the file's sorted names otherwise.
	for _, n := range order {
		if s := key(n, "scenario"); s != "" && !seen[s] {
			seen[s] = true
			scenarios = append(scenarios, s)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Median of %d passes. Times per request from BenchmarkSideBySide: within a pass, every row of a scenario runs in blocks of 64 requests in a new random order each round, so all rows see the same machine, and a row's time is its median block. Overhead = row minus the bare handler's row (the harness: a new header map per request, a handler writing one header). The gateway rows: a literal route (`/v1/echo`), and three templated ones served from one table: a variable, an AIP-style resource name, a custom verb after a variable.\n\n", passes)
	cols := append(append(slices.Clone(ours), peers...), extra...)
	get := func(scenario, impl, unit string) (float64, bool) {
		if unit == "ns/op" {
			// Times from BenchmarkSideBySide where it ran: every row in the
			// same milliseconds.
			if v, ok := data["SideBySide/scenario="+scenario].median(impl + "-ns/req"); ok {
				return v, true
			}
		}
		s := data["CORS/scenario="+scenario+"/impl="+impl]
		if s == nil {
			return 0, false
		}
		return s.median(unit)
	}
	// Time.
	b.WriteString("| scenario | bare ns/op |")
	for _, c := range cols {
		fmt.Fprintf(&b, " %s |", title[c])
	}
	b.WriteString("\n|---|---:|" + strings.Repeat("---:|", len(cols)) + "\n")
	for _, sc := range scenarios {
		base, _ := get(sc, "bare", "ns/op")
		fmt.Fprintf(&b, "| %s | %.0f |", sc, base)
		for _, c := range cols {
			if v, ok := get(sc, c, "ns/op"); ok {
				fmt.Fprintf(&b, " %s |", signed(v-base, "ns/op"))
			} else {
				b.WriteString(" – |")
			}
		}
		b.WriteString("\n")
	}
	ratioTable(&b, data, get, scenarios, []string{mustPeer},
		"\n**Must: ours ÷ jub0bs/cors** (≤ 1.0x on every row), the peer whose responses own their header values. Ratio of overheads over bare, per pass, then the median and in parentheses the lowest and highest pass.")
	ratioTable(&b, data, get, scenarios, peers,
		"\n**Goal: ours ÷ the better peer** (aim 0.7x), rs/cors or jub0bs/cors, whichever has the smaller overhead in the scenario.")
	// Memory.
	b.WriteString("\nAllocations: bytes and allocations per request over the bare row (budget: at most one allocation of ours, none on a refused preflight).\n\n")
	b.WriteString("| scenario | bare B/op, allocs/op |")
	for _, c := range cols {
		fmt.Fprintf(&b, " %s |", title[c])
	}
	b.WriteString("\n|---|---:|" + strings.Repeat("---:|", len(cols)) + "\n")
	for _, sc := range scenarios {
		bb, _ := get(sc, "bare", "B/op")
		ba, _ := get(sc, "bare", "allocs/op")
		fmt.Fprintf(&b, "| %s | %.0f B, %.0f |", sc, bb, ba)
		for _, c := range cols {
			vb, ok1 := get(sc, c, "B/op")
			va, ok2 := get(sc, c, "allocs/op")
			if !ok1 || !ok2 {
				b.WriteString(" – |")
				continue
			}
			fmt.Fprintf(&b, " %s, %s |", signed(vb-bb, "B/op"), signed(va-ba, "allocs/op"))
		}
		b.WriteString("\n")
	}
	variantTable(&b, get, scenarios, noprotect, false, "on", "off",
		"Cross-origin request protection: each middleware with it on (the default) and off, on actual requests (a preflight never reaches it). Overheads over bare as above; on − off is the protection's cost in ns/op, on ÷ off the ratio of the overheads. A forbidden request (`actual_refused*`) is answered 403 with the protection on, so the handler does not run there.")
	variantTable(&b, get, scenarios, metrics, true, "metrics", "none",
		"Metrics: each middleware with protocors.WithMeterProvider (the OpenTelemetry SDK, a reader nobody collects) and without (the default). Overheads over bare as above; metrics − none is what counting a decision costs, in ns/op.")
	// Gateway routing.
	routing(&b, data, "GatewayRoutes", "Gateway routing: one route per method, each its own literal prefix (`post /v1/rNNNNN/{name}`), the request matching the last route. Ratio to the smallest table (target: preflight at 1000 routes within 1.2x of 10).")
	routing(&b, data, "GatewayResources", "Gateway routing, AIP-style resources: four methods per resource (Get, Update, Delete, `:undelete`), every route `/v1/{name=projects/*/rNNNNN/*}`, the request for the first resource registered (the mux tries it last). Ratio to the smallest table.")
	// New.
	var news []string
	for _, n := range order {
		if strings.HasPrefix(n, "New/") {
			news = append(news, n)
		}
	}
	if len(news) > 0 {
		b.WriteString("\n`New` (and `Reconfigure`, which runs the same build and one atomic store) over a registry of 10,000 methods in 100 services, each with its own http rule (target: under 100 ms).\n\n")
		b.WriteString("| middleware | methods | ms | MB allocated | allocs |\n|---|---:|---:|---:|---:|\n")
		for _, n := range news {
			s := data[n]
			ns, _ := s.median("ns/op")
			bo, _ := s.median("B/op")
			al, _ := s.median("allocs/op")
			fmt.Fprintf(&b, "| %s | %s | %.1f | %.1f | %.0f |\n", title[key(n, "impl")], key(n, "methods"), ns/1e6, bo/(1<<20), al)
		}
	}
	return b.String()
}

// routing writes the table of one routing benchmark (bench): per table
// size, the preflight and the actual request, and each one's ratio to the
// smallest table.
func routing(b *strings.Builder, data map[string]sample, bench, intro string) {
	var routes []string
	for _, n := range order {
		if strings.HasPrefix(n, bench+"/") && key(n, "kind") == "preflight" {
			routes = append(routes, key(n, "routes"))
		}
	}
	if len(routes) == 0 {
		return
	}
	b.WriteString("\n" + intro + "\n\n")
	b.WriteString("| routes | preflight ns/op | B/op, allocs/op | ratio | actual ns/op | B/op, allocs/op | ratio |\n|---:|---:|---:|---:|---:|---:|---:|\n")
	first := map[string]float64{}
	for _, n := range routes {
		fmt.Fprintf(b, "| %s |", n)
		for _, kind := range []string{"preflight", "actual"} {
			s := data[bench+"/routes="+n+"/kind="+kind]
			ns, _ := s.median("ns/op")
			bo, _ := s.median("B/op")
			al, _ := s.median("allocs/op")
			if _, ok := first[kind]; !ok {
				first[kind] = ns
			}
			fmt.Fprintf(b, " %.0f | %.0f B, %.0f | %.2fx |", ns, bo, al, ns/first[kind])
		}
		b.WriteString("\n")
	}
}

// order is the benchmark names in the order they first appear.
var order []string

func main() {
	readme := flag.String("readme", "", "README to update between the markers; print when empty")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: table [-readme README.md] raw.txt")
		os.Exit(2)
	}
	raw, err := os.ReadFile(flag.Arg(0))
	if err != nil {
		fail(err)
	}
	data, passes, err := parse(bytes.NewReader(raw))
	if err != nil {
		fail(err)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(string(raw), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && strings.HasPrefix(f[0], "Benchmark") {
			n := procs.ReplaceAllString(strings.TrimPrefix(f[0], "Benchmark"), "")
			if !seen[n] {
				seen[n] = true
				order = append(order, n)
			}
		}
	}
	if len(data) == 0 {
		fail(errors.New("no benchmark results in " + flag.Arg(0)))
	}
	table := render(data, passes)
	if *readme == "" {
		fmt.Print(table)
		return
	}
	doc, err := os.ReadFile(*readme)
	if err != nil {
		fail(err)
	}
	before, rest, ok1 := strings.Cut(string(doc), beginMarker)
	_, after, ok2 := strings.Cut(rest, endMarker)
	if !ok1 || !ok2 {
		fail(fmt.Errorf("%s: markers %s and %s not found", *readme, beginMarker, endMarker))
	}
	out := before + beginMarker + "\n" + table + endMarker + after
	if err := os.WriteFile(*readme, []byte(out), 0o644); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "table:", err)
	os.Exit(1)
}

// variantTable compares each of ours with a variant row (variant[o]) on
// the scenarios both were measured in: overheads over bare, their
// difference and ratio, and allocations. on and off name the two columns;
// variantOn says whether the variant row is the "on" one.
func variantTable(b *strings.Builder, get func(scenario, impl, unit string) (float64, bool), scenarios []string, variant map[string]string, variantOn bool, on, off, intro string) {
	var rows []string
	for _, sc := range scenarios {
		for _, o := range variants {
			if _, ok := get(sc, variant[o], "ns/op"); ok {
				rows = append(rows, sc)
				break
			}
		}
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("\n" + intro + "\n\n| scenario |")
	for _, o := range variants {
		n := strings.TrimPrefix(title[o], "ours: ")
		fmt.Fprintf(b, " %s %s | %s %s | %s − %s | %s ÷ %s | allocs %s, %s |", n, on, n, off, on, off, on, off, on, off)
	}
	b.WriteString("\n|---|" + strings.Repeat("---:|", 5*len(variants)) + "\n")
	for _, sc := range rows {
		base, _ := get(sc, "bare", "ns/op")
		ba, _ := get(sc, "bare", "allocs/op")
		fmt.Fprintf(b, "| %s |", sc)
		for _, o := range variants {
			x, y := o, variant[o]
			if variantOn {
				x, y = y, x
			}
			vx, ok1 := get(sc, x, "ns/op")
			vy, ok2 := get(sc, y, "ns/op")
			ax, _ := get(sc, x, "allocs/op")
			ay, _ := get(sc, y, "allocs/op")
			if !ok1 || !ok2 {
				b.WriteString(" – | – | – | – | – |")
				continue
			}
			ratio := "–"
			if vy-base >= 20 { // a ratio to a near-zero overhead says nothing
				ratio = fmt.Sprintf("%.2fx", (vx-base)/(vy-base))
			}
			fmt.Fprintf(b, " %s | %s | %s | %s | %s, %s |", signed(vx-base, "ns/op"), signed(vy-base, "ns/op"),
				signed(vx-vy, "ns/op"), ratio, signed(ax-ba, "allocs/op"), signed(ay-ba, "allocs/op"))
		}
		b.WriteString("\n")
	}
}

// ratioTable writes, per scenario, each of ours as a ratio of its overhead
// to the better of against's: the per-pass median, lowest and highest;
// where that peer is at or below bare, or inside the bare row's own noise,
// the overheads themselves.
func ratioTable(b *strings.Builder, data map[string]sample, get func(scenario, impl, unit string) (float64, bool), scenarios, against []string, intro string) {
	b.WriteString(intro + "\n\n| scenario |")
	for _, o := range ours {
		fmt.Fprintf(b, " %s |", short[o])
	}
	b.WriteString("\n|---|" + strings.Repeat("---:|", len(ours)) + "\n")
	for _, sc := range scenarios {
		base, _ := get(sc, "bare", "ns/op")
		best, bestName := math.Inf(1), ""
		for _, p := range against {
			if v, ok := get(sc, p, "ns/op"); ok && v-base < best {
				best, bestName = v-base, p
			}
		}
		fmt.Fprintf(b, "| %s |", sc)
		for _, o := range ours {
			v, ok := get(sc, o, "ns/op")
			v -= base
			switch {
			case !ok || bestName == "":
				b.WriteString(" – |")
			case best < 5:
				// A ratio to an overhead at or below zero means nothing:
				// compare the overheads themselves.
				fmt.Fprintf(b, " %s ns vs %s ns (%s ≈ bare) |", signed(v, "ns/op"), signed(best, "ns/op"), title[bestName])
			case unranked[sc]:
				// The bare row is a whole connect-go call, whose own
				// variation is larger than any row's overhead: a ratio
				// would rank noise.
				fmt.Fprintf(b, " not ranked: %s vs %s ns, bare ±%.0f |", signed(v, "ns/op"), signed(best, "ns/op"), spreadOf(data, sc))
			default:
				med, lo, hi := perPass(data, sc, o, against)
				name := ""
				if len(against) > 1 {
					name = " " + strings.TrimSuffix(title[bestName], "/cors")
				}
				fmt.Fprintf(b, " %.2fx (%.2f–%.2f)%s |", med, lo, hi, name)
			}
		}
		b.WriteString("\n")
	}
}
