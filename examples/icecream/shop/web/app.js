// The example page: plain fetch, no build step. Each call reports what the
// browser let this page see: the response (status, body, the exposed
// X-Scoops-Left header and the unexposed X-Served-By header), or the
// TypeError fetch throws when CORS blocks the response.
"use strict";

const api = window.ICECREAM_API;
const service = "/icecream.v1.IceCreamService/";

// The members of the "factory" origin set in force when the page loaded
// (-factory-origins or the -config file; reload the page after the server
// reloads them). RestockIceCream allows them only, so the page expects its
// calls allowed when its own origin is one of them. A member with a
// wildcard is matched here with * standing for any characters, an
// approximation of the server's rule, for display only.
const factory = window.ICECREAM_FACTORY || [];
const pageIsFactory = factory.some((m) =>
  new RegExp("^" + m.split("*").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*") + "$").test(location.origin));
const factoryPolicy = `allow_origin_sets: ["factory"] = ${factory.length ? factory.join(", ") : "no origins"}`;

// Connect unary call with the JSON codec: POST, application/json and
// Connect-Protocol-Version: 1 (which makes it a preflighted request).
function connectUnary(method, message, init = {}) {
  return fetch(api + service + method, {
    method: "POST",
    ...init,
    headers: { "Content-Type": "application/json", "Connect-Protocol-Version": "1", ...init.headers },
    body: JSON.stringify(message),
  });
}

// Connect GET: the message in the query string; a simple request, no preflight.
function connectGet(method, message) {
  const q = new URLSearchParams({ connect: "v1", encoding: "json", message: JSON.stringify(message) });
  return fetch(api + service + method + "?" + q);
}

// Connect server streaming, JSON codec: enveloped messages (1 flag byte,
// 4 bytes big-endian length, then the JSON), the last envelope (flag 2)
// carries the end of stream.
async function connectStream(method, message) {
  const json = new TextEncoder().encode(JSON.stringify(message));
  const body = new Uint8Array(5 + json.length);
  new DataView(body.buffer).setUint32(1, json.length);
  body.set(json, 5);
  const res = await fetch(api + service + method, {
    method: "POST",
    headers: { "Content-Type": "application/connect+json", "Connect-Protocol-Version": "1" },
    body,
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const messages = [];
  let end = null;
  for (let i = 0; i + 5 <= bytes.length; ) {
    const flags = bytes[i];
    const len = new DataView(bytes.buffer, i + 1, 4).getUint32(0);
    const data = JSON.parse(new TextDecoder().decode(bytes.subarray(i + 5, i + 5 + len)));
    if (flags & 2) end = data; else messages.push(data);
    i += 5 + len;
  }
  return { res, body: { messages, end } };
}

function gateway(method, path, init = {}) {
  return fetch(api + path, { method, ...init });
}

// A simple request: POST with a text/plain body, which the browser sends to
// any origin without a preflight (a plain HTML form can send one too). CORS
// would only hide the answer, so the API itself must refuse to run the RPC
// (403 before the handler). The page cannot read that 403, so it reads the
// stock before and after with an allowed call to show that nothing changed.
async function simpleRestock(flavor) {
  const stock = async () => {
    const res = await gateway("GET", "/v1/icecream/" + flavor);
    return (await res.json()).iceCream.scoops ?? 0;
  };
  const before = await stock();
  let sent;
  try {
    const res = await fetch(api + "/v1/icecream/" + flavor + ":restock", { method: "POST", body: JSON.stringify({ scoops: 1 }) });
    sent = `the API answered ${res.status}`;
  } catch (e) {
    sent = `fetch failed (${e}): the answer has no CORS headers, so the browser hides it`;
  }
  const after = await stock();
  if (after === before) {
    return { outcome: "refused", text: `refused by the server (403 before the handler); ${sent}\nstock of ${flavor}: ${before} before, ${after} after (unchanged: RestockIceCream did not run)` };
  }
  return { outcome: "ran", text: `RestockIceCream RAN: ${sent}\nstock of ${flavor}: ${before} before, ${after} after` };
}

const cases = [
  { id: "connect-get", name: "Connect GET GetIceCream", policy: "NO_SIDE_EFFECTS: GET allowed, no preflight", expect: "allowed",
    run: () => connectGet("GetIceCream", { flavor: "vanilla" }) },
  { id: "connect-list", name: "Connect POST ListIceCreams", policy: "service policy: runtime origins, max age 600", expect: "allowed",
    run: () => connectUnary("ListIceCreams", {}) },
  { id: "connect-put", name: "Connect POST PutIceCream with X-My-Header, credentials", policy: "allow_headers X-My-Header, allow_credentials", expect: "allowed",
    run: () => connectUnary("PutIceCream", { flavor: "mango", scoops: 3 }, { headers: { "X-My-Header": "hello" }, credentials: "include" }) },
  { id: "connect-get-header", name: "Connect POST GetIceCream with X-My-Header", policy: "X-My-Header is allowed on PutIceCream only", expect: "blocked",
    run: () => connectUnary("GetIceCream", { flavor: "vanilla" }, { headers: { "X-My-Header": "hello" } }) },
  { id: "connect-stream", name: "Connect stream WatchIceCreams", policy: "server streaming: POST", expect: "allowed",
    run: () => connectStream("WatchIceCreams", { count: 3 }) },
  { id: "connect-restock", name: "Connect POST RestockIceCream", policy: factoryPolicy, expect: pageIsFactory ? "allowed" : "blocked",
    run: () => connectUnary("RestockIceCream", { flavor: "vanilla", scoops: 1 }) },
  { id: "connect-delete", name: "Connect POST DeleteIceCream", policy: "enabled: false", expect: "blocked",
    run: () => connectUnary("DeleteIceCream", { flavor: "vanilla" }) },
  { id: "gateway-get", name: "GET /v1/icecream/vanilla", policy: "GetIceCream: service policy", expect: "allowed",
    run: () => gateway("GET", "/v1/icecream/vanilla") },
  { id: "gateway-put", name: "PUT /v1/icecream/mango with X-My-Header, credentials", policy: "PutIceCream: X-My-Header, credentials", expect: "allowed",
    run: () => gateway("PUT", "/v1/icecream/mango", { body: JSON.stringify({ scoops: 4 }), credentials: "include",
      headers: { "Content-Type": "application/json", "X-My-Header": "hello" } }) },
  { id: "gateway-delete", name: "DELETE /v1/icecream/vanilla", policy: "DeleteIceCream: enabled: false", expect: "blocked",
    run: () => gateway("DELETE", "/v1/icecream/vanilla") },
  { id: "gateway-list", name: "GET /v1/icecream", policy: "ListIceCreams: service policy", expect: "allowed",
    run: () => gateway("GET", "/v1/icecream") },
  { id: "gateway-restock", name: "POST /v1/icecream/vanilla:restock", policy: factoryPolicy, expect: pageIsFactory ? "allowed" : "blocked",
    run: () => gateway("POST", "/v1/icecream/vanilla:restock", { body: JSON.stringify({ scoops: 1 }), headers: { "Content-Type": "application/json" } }) },
  { id: "gateway-restock-simple", name: "POST /v1/icecream/vanilla:restock as text/plain (no preflight)", policy: factoryPolicy, expect: pageIsFactory ? "ran" : "refused",
    check: () => simpleRestock("vanilla") },
];

// observe runs a call and returns what the page could see of it.
async function observe(c) {
  if (c.check) {
    try {
      return await c.check();
    } catch (e) {
      return { outcome: "error", text: `could not run the check: ${e}` };
    }
  }
  try {
    let out = await c.run();
    if (out instanceof Response) {
      const text = await out.text();
      let body = text;
      try { body = JSON.parse(text); } catch (_) {}
      out = { res: out, body };
    }
    return {
      outcome: "allowed",
      status: out.res.status,
      body: out.body,
      scoopsLeft: out.res.headers.get("X-Scoops-Left"),
      servedBy: out.res.headers.get("X-Served-By"),
    };
  } catch (e) {
    return { outcome: "blocked", error: String(e) };
  }
}

function render(c, row, r) {
  const cell = row.querySelector("td.result");
  cell.className = "result " + r.outcome;
  cell.dataset.outcome = r.outcome;
  cell.textContent = r.text !== undefined ? r.text : r.outcome === "allowed"
    ? `${r.status} ${JSON.stringify(r.body)}\nX-Scoops-Left: ${r.scoopsLeft}  (exposed)\nX-Served-By: ${r.servedBy}  (not exposed: the browser hides it)`
    : `blocked by the browser: ${r.error}`;
  if (r.outcome !== c.expect) cell.textContent += `\n(unexpected: the proto says ${c.expect})`;
}

async function runCase(c, row) {
  const cell = row.querySelector("td.result");
  cell.textContent = "…";
  delete cell.dataset.outcome;
  const r = await observe(c);
  render(c, row, r);
  return r;
}

document.getElementById("page-origin").textContent = location.origin;
document.getElementById("factory").textContent = factory.length ? factory.join(", ") : "none";
document.getElementById("api-url").textContent = api;
const tbody = document.getElementById("cases");
const rows = new Map();
for (const c of cases) {
  const row = document.createElement("tr");
  row.id = c.id;
  row.innerHTML = `<td></td><td></td><td><button>call</button></td><td class="result"></td>`;
  row.cells[0].textContent = c.name;
  row.cells[1].textContent = `${c.policy} (${c.expect})`;
  row.querySelector("button").addEventListener("click", () => runCase(c, row));
  tbody.append(row);
  rows.set(c.id, row);
}
document.getElementById("run-all").addEventListener("click", async () => {
  for (const c of cases) await runCase(c, rows.get(c.id));
  document.body.dataset.done = "true";
});
