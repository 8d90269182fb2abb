// Package conformance runs the shared CORS conformance cases
// (testdata/conformance-sample.jsonl, format in testdata/FORMAT.md) against
// either middleware. Each case's policy is written as protobuf options on a
// descriptor built at run time, the way a user's proto file would carry it,
// alternating between service and method scope and between typed and
// unknown-field encodings of the extension.
package conformance

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"testing"
)

//go:embed testdata/conformance-sample.jsonl
var sample []byte

// Case is one line of the conformance file.
type Case struct {
	ID       string  `json:"id"`
	Title    string  `json:"title"`
	Category string  `json:"category"`
	Level    string  `json:"level"`
	Policy   Policy  `json:"policy"`
	Request  Request `json:"request"`
	Expect   Expect  `json:"expect"`
}

// Policy is a case's CORS policy plus the HTTP methods its route binds.
type Policy struct {
	Origins       []string `json:"origins"`
	Credentials   bool     `json:"credentials"`
	AllowHeaders  []string `json:"allow_headers"`
	ExposeHeaders []string `json:"expose_headers"`
	MaxAge        *uint32  `json:"max_age_s"`
	Methods       []string `json:"methods"`
}

// Request describes what to send.
type Request struct {
	Method    string                     `json:"method"`
	PathKind  string                     `json:"path_kind"`
	Headers   map[string]json.RawMessage `json:"headers"`
	Generated []Generated                `json:"generated_headers"`
	Repeat    int                        `json:"repeat"`
	App       string                     `json:"app"`
	Outer     string                     `json:"outer"`
}

// Generated is a synthesized header value.
type Generated struct {
	Name   string `json:"name"`
	Prefix string `json:"prefix"`
	Unit   string `json:"unit"`
	Count  int    `json:"count"`
	Sep    string `json:"sep"`
	Suffix string `json:"suffix"`
	Lines  int    `json:"lines"`
}

// Expect holds the checks of a case.
type Expect struct {
	Status         string              `json:"status"`
	HeadersPresent map[string]string   `json:"headers_present"`
	HeadersAbsent  []string            `json:"headers_absent"`
	VaryContains   []string            `json:"vary_contains"`
	AppInvoked     *bool               `json:"app_invoked"`
	MustNotContain map[string][]string `json:"must_not_contain"`
	MaxLines       map[string]int      `json:"max_lines"`
	TokensOnly     []string            `json:"tokens_only"`
	BodyEmpty      bool                `json:"body_empty"`
	MaxMS          float64             `json:"max_ms"`
	MaxHeaderBytes int                 `json:"max_response_header_bytes"`
	ConfigError    bool                `json:"config_error"`
	ConfigErrorOK  bool                `json:"config_error_ok"`
	Browser        *Browser            `json:"browser"`
	ForbidPair     json.RawMessage     `json:"forbid_pair"`
}

// Browser asks to replay the browser's CORS checks on the response.
type Browser struct {
	Credentials string `json:"credentials"` // "omit", "same-origin" or "include"
	Outcome     string `json:"outcome"`     // "allowed" or "blocked"
}

// Load parses the embedded conformance cases.
func Load(tb testing.TB) []Case {
	tb.Helper()
	var cases []Case
	sc := bufio.NewScanner(bytes.NewReader(sample))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var c Case
		if err := json.Unmarshal(line, &c); err != nil {
			tb.Fatalf("conformance case %q: %v", line, err)
		}
		cases = append(cases, c)
	}
	if len(cases) == 0 {
		tb.Fatal("no conformance cases")
	}
	return cases
}

// headerLines returns the field lines of the case's request headers.
func (r *Request) headerLines(tb testing.TB) map[string][]string {
	out := make(map[string][]string)
	for k, raw := range r.Headers {
		var one string
		if err := json.Unmarshal(raw, &one); err == nil {
			out[k] = append(out[k], one)
			continue
		}
		var many []string
		if err := json.Unmarshal(raw, &many); err != nil {
			tb.Fatalf("header %s: %s", k, raw)
		}
		out[k] = append(out[k], many...)
	}
	for _, g := range r.Generated {
		var b bytes.Buffer
		b.WriteString(g.Prefix)
		for i := 0; i < g.Count; i++ {
			if i > 0 {
				b.WriteString(g.Sep)
			}
			b.Write(bytes.ReplaceAll([]byte(g.Unit), []byte("{i}"), []byte(itoa(i))))
		}
		b.WriteString(g.Suffix)
		lines := max(g.Lines, 1)
		for i := 0; i < lines; i++ {
			out[g.Name] = append(out[g.Name], b.String())
		}
	}
	return out
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}
