// Command load is the load test of bench/README.md: the example's API
// (examples/icecream, as shop.Start serves it) behind the protocors
// middlewares, and the same handlers without them, each in a process of
// its own on a loopback port, under a fixed-rate mix of preflights,
// allowed and refused actual requests and requests without Origin from
// vegeta, while the middlewares' origins are replaced (Reconfigure) every
// 100 ms.
//
//	cd bench && go run ./cmd/load -duration 30s
//
// It reports, per server, p50/p99/max latency, overall and per kind of
// request, every answer that differs from what the target expects (status,
// and Access-Control-Allow-Origin granted or absent), and the server
// process's RSS at start, after the first round of windows and at the end.
// The two servers are attacked in alternating windows (-window), so drift
// on a shared machine hits both alike. -readme writes the tables into
// README.md between the "<!-- load:begin -->" and "<!-- load:end -->"
// markers. It exits 1 on any unexpected answer.
//
// Why vegeta (github.com/tsenart/vegeta/v12, as a library): it paces
// requests at a constant rate (an open model: a slow response does not
// slow the next request down, so the latency is not hidden by coordinated
// omission as in closed-loop tools such as hey or wrk without -R), it
// returns every result with its status and response headers, which the
// per-target checks need, and it computes quantiles itself. k6 and wrk2 do
// the same from outside the Go toolchain (a JavaScript runtime, a C
// build), which the machines that run this cannot fetch.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func main() {
	if mode := os.Getenv(serveEnv); mode != "" {
		every, _ := time.ParseDuration(os.Getenv(reconfigureEnv))
		if err := serve(mode, every, os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "load server:", err)
			os.Exit(1)
		}
		return
	}
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		os.Exit(2)
	}
	rep, err := run(cfg, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
	out := rep.markdown(cfg)
	fmt.Print(out)
	if cfg.readme != "" {
		if err := writeReadme(cfg.readme, out); err != nil {
			fmt.Fprintln(os.Stderr, "load:", err)
			os.Exit(1)
		}
	}
	if n := rep.unexpected(); n > 0 {
		fmt.Fprintf(os.Stderr, "load: %d unexpected answers\n", n)
		os.Exit(1)
	}
}

// config is the command's flags.
type config struct {
	duration    time.Duration // of load per server
	window      time.Duration // attack windows, alternating between servers
	rate        int           // requests per second
	reconfigure time.Duration // between two Reconfigure calls
	readme      string
}

// Bounds: the load test is a command a developer runs, never a service.
const (
	maxDuration = 10 * time.Minute
	maxRate     = 20000
)

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.DurationVar(&c.duration, "duration", 30*time.Second, "load per server (at most 10m)")
	fs.DurationVar(&c.window, "window", 5*time.Second, "length of one attack window; the servers take turns")
	fs.IntVar(&c.rate, "rate", 500, "requests per second (at most 20000)")
	fs.DurationVar(&c.reconfigure, "reconfigure", 100*time.Millisecond, "interval between two Reconfigure calls on the middlewares (0: none)")
	fs.StringVar(&c.readme, "readme", "", "README to write the tables into, between the load markers")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	var err error
	switch {
	case fs.NArg() > 0:
		err = fmt.Errorf("unexpected arguments: %q", fs.Args())
	case c.duration <= 0 || c.duration > maxDuration:
		err = fmt.Errorf("-duration %v: want more than 0 and at most %v", c.duration, maxDuration)
	case c.window < 100*time.Millisecond || c.window > c.duration:
		err = fmt.Errorf("-window %v: want at least 100ms and at most -duration", c.window)
	case c.rate < 1 || c.rate > maxRate:
		err = fmt.Errorf("-rate %d: want 1 to %d", c.rate, maxRate)
	case c.reconfigure < 0:
		err = fmt.Errorf("-reconfigure %v: negative", c.reconfigure)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
	}
	return c, err
}

// child is one running server process.
type child struct {
	mode  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines *bufio.Scanner
	base  string
}

// start runs this program as a server process in mode.
func start(mode string, every time.Duration) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), serveEnv+"="+mode, reconfigureEnv+"="+every.String())
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{mode: mode, cmd: cmd, stdin: stdin, lines: bufio.NewScanner(stdout)}
	if !c.lines.Scan() {
		c.stop()
		return nil, fmt.Errorf("%s server: no address", mode)
	}
	base, ok := strings.CutPrefix(c.lines.Text(), "listening ")
	if !ok || !strings.HasPrefix(base, "http://127.0.0.1:") {
		c.stop()
		return nil, fmt.Errorf("%s server: %q, want a loopback address", mode, c.lines.Text())
	}
	c.base = base
	return c, nil
}

// stop closes the server's input, which stops it, and returns what it
// printed on the way out.
func (c *child) stop() (childStats, error) {
	var s childStats
	c.stdin.Close()
	var err error
	for c.lines.Scan() {
		if rest, ok := strings.CutPrefix(c.lines.Text(), "stats "); ok {
			var last string
			if _, err = fmt.Sscanf(rest, "%d %d %q", &s.Reconfigured, &s.Failed, &last); err == nil {
				s.LastError = last
			}
		}
	}
	return s, errors.Join(err, c.cmd.Wait())
}

// rss returns the resident set size of process pid in bytes, from Linux's
// /proc (-1 elsewhere).
func rss(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return -1
			}
			return kb << 10
		}
	}
	return -1
}

// server is the load's record of one server.
type server struct {
	mode              string
	all               vegeta.Metrics
	byKind            map[string]*vegeta.Metrics
	byTarget          map[string]int // responses per target name
	refusals          int            // expected 403s
	bad               []string       // unexpected answers, the first few
	badCount          int
	rssStart, rssWarm int64
	rssEnd            int64
	stats             childStats
	tgts              []vegeta.Target
	index             map[string]*target
	// client is shared by the server's attacks (one vegeta.Attacker
	// each: an attacker stops for good after its first attack), so the
	// connections stay open from one window to the next.
	client *http.Client
}

// check records one result against its target's expectation.
func (s *server) check(r *vegeta.Result) {
	s.all.Add(r)
	t := s.index[key(r.Method, r.URL)]
	if t == nil {
		s.fail(fmt.Sprintf("%s %s: no such target", r.Method, r.URL))
		return
	}
	s.byTarget[t.name]++
	m := s.byKind[t.kind]
	if m == nil {
		m = new(vegeta.Metrics)
		s.byKind[t.kind] = m
	}
	m.Add(r)
	want, acao := t.bare, ""
	if s.mode == modeCORS {
		want = t.want
		if t.acao {
			acao = t.header.Get("Origin")
		}
	}
	got := ""
	if r.Headers != nil {
		got = r.Headers.Get("Access-Control-Allow-Origin")
	}
	switch {
	case r.Code == 0:
		s.fail(fmt.Sprintf("%s: %s", t.name, r.Error))
	case int(r.Code) != want:
		s.fail(fmt.Sprintf("%s: status %d, want %d", t.name, r.Code, want))
	case got != acao:
		s.fail(fmt.Sprintf("%s: Access-Control-Allow-Origin %q, want %q", t.name, got, acao))
	case s.mode == modeCORS && want == 403:
		s.refusals++
	}
}

func (s *server) fail(msg string) {
	s.badCount++
	if len(s.bad) < 10 {
		s.bad = append(s.bad, msg)
	}
}

// attack sends one window of load to s and checks every result.
func (s *server) attack(rate int, d time.Duration) {
	tr := vegeta.NewStaticTargeter(s.tgts...)
	a := vegeta.NewAttacker(vegeta.Client(s.client), vegeta.MaxBody(0), vegeta.MaxWorkers(256))
	for r := range a.Attack(tr, vegeta.Rate{Freq: rate, Per: time.Second}, d, s.mode) {
		s.check(r)
	}
}

// report is the outcome of a run.
type report struct {
	servers []*server
	windows int
}

func (r *report) unexpected() int {
	n := 0
	for _, s := range r.servers {
		n += s.badCount
	}
	return n
}

// run starts both servers, loads them in alternating windows for
// cfg.duration each, and stops them. Progress goes to log.
func run(cfg config, log io.Writer) (*report, error) {
	rep := &report{windows: int(math.Ceil(float64(cfg.duration) / float64(cfg.window)))}
	var children []*child
	defer func() {
		for _, c := range children {
			if c.cmd.ProcessState == nil {
				c.stop()
			}
		}
	}()
	for _, mode := range []string{modeBare, modeCORS} {
		c, err := start(mode, cfg.reconfigure)
		if err != nil {
			return nil, err
		}
		children = append(children, c)
		tgts, index := targets(c.base)
		s := &server{
			mode: mode, tgts: tgts, index: index,
			byKind: map[string]*vegeta.Metrics{}, byTarget: map[string]int{},
			rssStart: rss(c.cmd.Process.Pid),
			client: &http.Client{
				Timeout: 5 * time.Second,
				// Never follow a redirect: the API sends none, and a
				// 3xx must count as an unexpected answer.
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
				Transport:     &http.Transport{MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute},
			},
		}
		rep.servers = append(rep.servers, s)
	}
	for w := range rep.windows {
		d := min(cfg.window, cfg.duration-time.Duration(w)*cfg.window)
		order := []int{0, 1}
		if w%2 == 1 {
			order = []int{1, 0}
		}
		for _, i := range order {
			s := rep.servers[i]
			fmt.Fprintf(log, "window %d/%d: %s, %v at %d/s\n", w+1, rep.windows, s.mode, d, cfg.rate)
			s.attack(cfg.rate, d)
		}
		if w == 0 {
			for i, s := range rep.servers {
				s.rssWarm = rss(children[i].cmd.Process.Pid)
			}
		}
	}
	var errs []error
	for i, s := range rep.servers {
		s.rssEnd = rss(children[i].cmd.Process.Pid)
		s.all.Close()
		for _, m := range s.byKind {
			m.Close()
		}
		st, err := children[i].stop()
		s.stats = st
		if err != nil {
			errs = append(errs, fmt.Errorf("%s server: %w", s.mode, err))
		}
		for _, t := range mix {
			if s.byTarget[t.name] == 0 {
				s.fail(t.name + ": no response")
			}
		}
	}
	cors := rep.servers[1]
	if cfg.reconfigure > 0 && (cors.stats.Reconfigured == 0 || cors.stats.Failed > 0) {
		errs = append(errs, fmt.Errorf("calls to Reconfigure: %d succeeded, %d failed (%s)", cors.stats.Reconfigured, cors.stats.Failed, cors.stats.LastError))
	}
	return rep, errors.Join(errs...)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/float64(time.Millisecond)) }

func mib(b int64) string {
	if b < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f", float64(b)/(1<<20))
}

// title names a server in the tables.
var title = map[string]string{modeBare: "without the middlewares", modeCORS: "behind protocors (Connect and gateway)"}

// markdown renders the report's tables.
func (r *report) markdown(cfg config) string {
	var b strings.Builder
	cors := r.servers[1]
	fmt.Fprintf(&b, "`go run ./cmd/load -duration %v -rate %d -window %v -reconfigure %v`: %d requests a second for %v per server, in %d windows of up to %v taking turns, over TCP loopback; a mix of %d targets in turn (preflights granted and refused, actual requests allowed and refused, requests without Origin, on Connect and grpc-gateway routes). Reconfigure: %d calls during the run, %d failed. Latency as vegeta measures it (request written to response read), in ms.\n\n",
		cfg.duration, cfg.rate, cfg.window, cfg.reconfigure, cfg.rate, cfg.duration, r.windows, cfg.window, len(mix), cors.stats.Reconfigured, cors.stats.Failed)
	b.WriteString("| server | requests | p50 | p90 | p99 | max | unexpected answers | expected 403 | RSS start MiB | RSS after first window | RSS end |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range r.servers {
		l := s.all.Latencies
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %d | %d | %s | %s | %s |\n", title[s.mode], s.all.Requests,
			ms(l.P50), ms(l.P90), ms(l.P99), ms(l.Max), s.badCount, s.refusals, mib(s.rssStart), mib(s.rssWarm), mib(s.rssEnd))
	}
	b.WriteString("\nBy kind of request, p50 / p99 in ms:\n\n| kind | without | behind protocors |\n|---|---:|---:|\n")
	for _, k := range kinds {
		fmt.Fprintf(&b, "| %s |", k)
		for _, s := range r.servers {
			if m := s.byKind[k]; m != nil {
				fmt.Fprintf(&b, " %s / %s |", ms(m.Latencies.P50), ms(m.Latencies.P99))
			} else {
				b.WriteString(" – |")
			}
		}
		b.WriteString("\n")
	}
	for _, s := range r.servers {
		for _, msg := range s.bad {
			fmt.Fprintf(&b, "\n- unexpected (%s): %s", s.mode, msg)
		}
	}
	return b.String()
}

const (
	beginMarker = "<!-- load:begin -->"
	endMarker   = "<!-- load:end -->"
)

// writeReadme replaces the text between the load markers of path.
func writeReadme(path, table string) error {
	doc, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	before, rest, ok1 := strings.Cut(string(doc), beginMarker)
	_, after, ok2 := strings.Cut(rest, endMarker)
	if !ok1 || !ok2 {
		return fmt.Errorf("%s: markers %s and %s not found", path, beginMarker, endMarker)
	}
	return os.WriteFile(path, []byte(before+beginMarker+"\n"+table+"\n"+endMarker+after), 0o644)
}
