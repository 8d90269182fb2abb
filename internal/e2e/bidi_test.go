package e2e_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/websocket"
)

// Firefox, driven over WebDriver BiDi, which it speaks natively: no
// geckodriver, no Selenium (both download driver binaries). This is the
// thin client the tests need (session.new, browsingContext.create and
// navigate, script.evaluate, storage.setCookie, browser.close) over
// golang.org/x/net/websocket, which the module already requires. No Go
// WebDriver BiDi client is on the module proxy, and npm's puppeteer-core
// (which drives Firefox over BiDi) would have to run in a node process the
// Go tests talk to through a protocol of our own anyway.

// bidiTimeout bounds every command; navigate and evaluate included.
const bidiTimeout = 60 * time.Second

// firefox is a headless Firefox with one BiDi session.
type firefox struct {
	cmd  *exec.Cmd
	conn *bidiConn
}

var bidiListening = regexp.MustCompile(`WebDriver BiDi listening on (ws://\S+)`)

func launchFirefox(path, profile string) (browser, error) {
	// appHost and apiHost are loopback (harness_test.go). Firefox reads
	// user.js from the profile at start.
	prefs := fmt.Sprintf("user_pref(%q, %q);\n", "network.dns.localDomains", appHost+","+apiHost)
	if err := os.WriteFile(filepath.Join(profile, "user.js"), []byte(prefs), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(path, "--headless", "--remote-debugging-port", "0",
		"--remote-allow-origins", "http://localhost", "--profile", profile)
	// Its own process group, so close can end Firefox's content processes
	// with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	f := &firefox{cmd: cmd}
	// Firefox prints the WebSocket address on stderr; read it, then keep
	// draining stderr so Firefox never blocks on it.
	addr := make(chan string, 1)
	var mu sync.Mutex
	var lines []string // the first lines, for the error below
	go func() {
		sc := bufio.NewScanner(stderr)
		found := false
		for sc.Scan() {
			if !found {
				if m := bidiListening.FindStringSubmatch(sc.Text()); m != nil {
					found = true
					addr <- m[1]
					continue
				}
				mu.Lock()
				lines = append(lines, sc.Text())
				mu.Unlock()
			}
		}
		io.Copy(io.Discard, stderr)
		close(addr)
	}()
	var ws string
	select {
	case a, ok := <-addr:
		if ok {
			ws = a
		}
	case <-time.After(30 * time.Second):
	}
	if ws == "" {
		f.kill()
		mu.Lock()
		defer mu.Unlock()
		return nil, fmt.Errorf("no WebDriver BiDi address on stderr:\n%s", strings.Join(lines, "\n"))
	}
	if f.conn, err = dialBiDi(ws + "/session"); err != nil {
		f.kill()
		return nil, err
	}
	if err := f.conn.call("session.new", map[string]any{"capabilities": map[string]any{}}, nil); err != nil {
		f.close()
		return nil, err
	}
	return f, nil
}

// close asks Firefox to quit, then ends its process group.
func (f *firefox) close() {
	if f.conn != nil {
		f.conn.call("browser.close", map[string]any{}, nil)
		f.conn.close()
	}
	done := make(chan struct{})
	go func() { f.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
	}
	f.kill()
	<-done
}

func (f *firefox) kill() {
	syscall.Kill(-f.cmd.Process.Pid, syscall.SIGKILL)
}

func (f *firefox) open(url string) (tab, error) {
	var created struct {
		Context string `json:"context"`
	}
	if err := f.conn.call("browsingContext.create", map[string]any{"type": "tab"}, &created); err != nil {
		return nil, err
	}
	t := &firefoxTab{conn: f.conn, context: created.Context}
	if err := f.conn.call("browsingContext.navigate", map[string]any{
		"context": t.context, "url": url, "wait": "complete",
	}, nil); err != nil {
		t.close()
		return nil, err
	}
	return t, nil
}

type firefoxTab struct {
	conn    *bidiConn
	context string
}

func (t *firefoxTab) close() {
	t.conn.call("browsingContext.close", map[string]any{"context": t.context}, nil)
}

func (t *firefoxTab) evalString(expr string) (string, error) {
	var res struct {
		Type   string `json:"type"` // success, exception
		Result struct {
			Type  string `json:"type"`
			Value any    `json:"value"`
		} `json:"result"`
		ExceptionDetails struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := t.conn.call("script.evaluate", map[string]any{
		"expression":      expr,
		"target":          map[string]any{"context": t.context},
		"awaitPromise":    true,
		"resultOwnership": "none",
	}, &res); err != nil {
		return "", err
	}
	if res.Type == "exception" {
		return "", errors.New(res.ExceptionDetails.Text)
	}
	s, ok := res.Result.Value.(string)
	if res.Result.Type != "string" || !ok {
		return "", fmt.Errorf("evaluated to a %s, not a string", res.Result.Type)
	}
	return s, nil
}

func (t *firefoxTab) setCookie(rawURL, name, value string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	return t.conn.call("storage.setCookie", map[string]any{
		"cookie": map[string]any{
			"name":   name,
			"value":  map[string]any{"type": "string", "value": value},
			"domain": u.Hostname(),
			"path":   "/",
		},
	}, nil)
}

// bidiConn is a WebDriver BiDi connection: commands with ids, answered in
// any order. Events are ignored (the tests subscribe to none).
type bidiConn struct {
	ws  *websocket.Conn
	wmu sync.Mutex // one frame at a time

	mu      sync.Mutex
	next    int
	pending map[int]chan bidiMessage
	err     error // set when the connection is gone
}

type bidiMessage struct {
	Type    string          `json:"type"` // success, error, event
	ID      *int            `json:"id"`
	Result  json.RawMessage `json:"result"`
	Error   string          `json:"error"`
	Message string          `json:"message"`
}

func dialBiDi(addr string) (*bidiConn, error) {
	// Firefox accepts WebSocket clients whose Origin it was told to
	// (--remote-allow-origins).
	ws, err := websocket.Dial(addr, "", "http://localhost")
	if err != nil {
		return nil, err
	}
	c := &bidiConn{ws: ws, pending: map[int]chan bidiMessage{}}
	go c.read()
	return c, nil
}

func (c *bidiConn) read() {
	for {
		var data []byte
		err := websocket.Message.Receive(c.ws, &data)
		if err != nil {
			c.mu.Lock()
			c.err = fmt.Errorf("WebDriver BiDi connection: %w", err)
			for id, ch := range c.pending {
				close(ch)
				delete(c.pending, id)
			}
			c.mu.Unlock()
			return
		}
		var m bidiMessage
		if json.Unmarshal(data, &m) != nil || m.ID == nil {
			continue // an event, or not for us
		}
		c.mu.Lock()
		ch := c.pending[*m.ID]
		delete(c.pending, *m.ID)
		c.mu.Unlock()
		if ch != nil {
			ch <- m
		}
	}
}

// call sends a command and decodes its result into result (nil: ignore it).
func (c *bidiConn) call(method string, params, result any) error {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return c.err
	}
	c.next++
	id := c.next
	ch := make(chan bidiMessage, 1)
	c.pending[id] = ch
	c.mu.Unlock()

	msg, err := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	if err == nil {
		c.wmu.Lock()
		err = websocket.Message.Send(c.ws, string(msg))
		c.wmu.Unlock()
	}
	if err != nil {
		c.forget(id)
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case m, ok := <-ch:
		if !ok {
			c.mu.Lock()
			defer c.mu.Unlock()
			return fmt.Errorf("%s: %w", method, c.err)
		}
		if m.Type == "error" {
			return fmt.Errorf("%s: %s: %s", method, m.Error, m.Message)
		}
		if result != nil {
			return json.Unmarshal(m.Result, result)
		}
		return nil
	case <-time.After(bidiTimeout):
		c.forget(id)
		return fmt.Errorf("%s: no answer in %v", method, bidiTimeout)
	}
}

func (c *bidiConn) forget(id int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pending, id)
}

func (c *bidiConn) close() { c.ws.Close() }
