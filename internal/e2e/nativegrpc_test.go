package e2e_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/protocors/protocors/examples/icecream/shop"
)

// grpcJSONFetch is a fetch of one unary gRPC call with the JSON codec, as a
// page can make it: POST, Content-Type application/grpc+json, the message in
// gRPC's length-prefixed framing (a flag byte, then the length as four
// big-endian bytes). connect-go serves that over HTTP/1.1.
const grpcJSONFetch = `(async (url, message) => {
  const m = new TextEncoder().encode(message);
  const body = new Uint8Array(5 + m.length);
  new DataView(body.buffer).setUint32(1, m.length);
  body.set(m, 5);
  try {
    const res = await fetch(url, { method: "POST", headers: { "Content-Type": "application/grpc+json" }, body });
    return { outcome: "allowed", status: res.status };
  } catch (e) {
    return { outcome: "blocked", error: String(e) };
  }
})`

// grpcFrame is message in gRPC's length-prefixed framing, uncompressed.
func grpcFrame(message string) []byte {
	b := make([]byte, 5, 5+len(message))
	binary.BigEndian.PutUint32(b[1:], uint32(len(message)))
	return append(b, message...)
}

// jsValue is v as a JavaScript literal (JSON).
func jsValue(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestAttackGRPCContentType (issue 19, hole 1): a page whose origin the
// factory set allowed restocks over Connect with application/json, so the
// browser caches the preflight's grant of Content-Type for the
// RestockIceCream URL (the example's max_age_seconds: 600). The server then
// removes the page's origin with Reconfigure. The page sends the same call
// as gRPC (Content-Type application/grpc+json, a framed JSON body): the
// cached grant covers the header, so the browser sends it without asking.
// The Connect middleware must judge it like any other cross-origin POST
// (Origin and Sec-Fetch-Site say a browser sent it, whatever the
// Content-Type) and refuse it before RestockIceCream runs: the stock does
// not move. So must it the application/json form. The controls: the grant
// step restocks, and a native gRPC client (no Origin, no Sec-Fetch-Site)
// still restocks with the very bytes the page sent.
func TestAttackGRPCContentType(t *testing.T) {
	inEachEngine(t, func(t *testing.T, s *suite) {
		api, err := shop.NewAPI(shop.NewStore(), []string{s.page},
			map[string][]string{shop.SetFactory: {s.refused}}, slog.New(slog.DiscardHandler), false)
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var seen []string // "METHOD content-type -> status", preflights "OPTIONS [ACRH] -> status"
		apiURL, err := s.serve("127.0.0.1:0", "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sw := &statusWriter{ResponseWriter: w}
			api.ServeHTTP(sw, r)
			line := fmt.Sprintf("%s %s -> %d", r.Method, r.Header.Get("Content-Type"), sw.code())
			if r.Method == http.MethodOptions {
				line = fmt.Sprintf("OPTIONS [%s] -> %d", r.Header.Get("Access-Control-Request-Headers"), sw.code())
			}
			mu.Lock()
			seen = append(seen, line)
			mu.Unlock()
		}))
		if err != nil {
			t.Fatal(err)
		}
		requests := func() []string {
			mu.Lock()
			defer mu.Unlock()
			return append([]string(nil), seen...)
		}
		stock := func() string {
			t.Helper()
			res, err := http.Get(apiURL + "/v1/icecream/vanilla")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			return lookup(body, "iceCream.scoops")
		}
		restock := apiURL + service + "RestockIceCream"
		const attack = `{"flavor":"vanilla","scoops":1000}`

		p := s.tab(t, s.refused) // the origin in the factory set
		// The grant: restock until the browser sends the call without a
		// preflight, which proves it holds the grant. (Chromium caches it at
		// once; Firefox stores it a moment after the first call, so its
		// second call may be preflighted again.)
		for i := 0; ; i++ {
			before := len(requests())
			o := eval(t, p, "fetch", connectJSON(apiURL, "RestockIceCream", `{"flavor":"vanilla","scoops":1}`, nil))
			want{outcome: "allowed", status: http.StatusOK}.check(t, s, o)
			if got := requests()[before:]; len(got) == 1 && strings.HasPrefix(got[0], "POST ") {
				break
			}
			if i == 20 {
				t.Fatalf("the browser preflights every call: %q", requests())
			}
			time.Sleep(100 * time.Millisecond)
		}
		stocked := stock() // 10 plus one per grant call
		granted := len(requests())

		if err := api.Reconfigure([]string{s.page}, nil); err != nil { // the factory set empty
			t.Fatal(err)
		}

		var saw observation
		p.run(t, grpcJSONFetch+"("+jsValue(t, restock)+", "+jsValue(t, attack)+")", &saw)
		got := requests()[granted:]
		t.Logf("after the Reconfigure the server saw %q; page saw %v", got, saw)
		if n := stock(); n != stocked {
			t.Fatalf("vanilla has %s scoops after the gRPC fetch, want %s: RestockIceCream ran for a page whose origin was removed", n, stocked)
		}
		if len(got) == 0 || got[len(got)-1] != "POST application/grpc+json -> 403" {
			t.Errorf("the server answered %q, want the POST refused with 403", got)
		}
		if saw.Outcome != "blocked" || !strings.Contains(saw.Error, s.engine.blocked) {
			t.Errorf("page saw %v, want blocked", saw)
		}

		// The same call with application/json. Chromium still holds the
		// grant and sends it (403); Firefox dropped the grant when the gRPC
		// fetch failed its CORS check, so it preflights and is refused there.
		before := len(requests())
		o := eval(t, p, "fetch", connectJSON(apiURL, "RestockIceCream", attack, nil))
		want{outcome: "blocked"}.check(t, s, o)
		if n := stock(); n != stocked {
			t.Fatalf("vanilla has %s scoops after the Connect JSON fetch, want %s", n, stocked)
		}
		got = requests()[before:]
		t.Logf("the application/json fetch: the server saw %q", got)
		if sent := slices.ContainsFunc(got, func(l string) bool { return strings.HasPrefix(l, "POST ") }); sent &&
			!slices.Contains(got, "POST application/json -> 403") {
			t.Errorf("the server answered %q, want the POST refused with 403", got)
		}

		// Control: a native gRPC client, which sends neither Origin nor
		// Sec-Fetch-Site, is never refused; the page's bytes are a valid call.
		req, err := http.NewRequest(http.MethodPost, restock, bytes.NewReader(grpcFrame(attack)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/grpc+json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		n, _ := strconv.Atoi(stocked)
		if got := stock(); res.StatusCode != http.StatusOK || got != strconv.Itoa(n+1000) {
			t.Errorf("native gRPC client: status %d, vanilla has %s scoops, want 200 and %d", res.StatusCode, got, n+1000)
		}
	})
}
