// The page side of protocors' browser tests, bundled by esbuild at test time
// (internal/e2e). It exposes window.e2e; the Go tests call its functions in
// each browser engine and assert on what they return: what this page was
// allowed to see.
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { toJson } from "@bufbuild/protobuf";
import { IceCreamService } from "../gen/icecream/v1/icecream_pb";
import { grpcWebCall, grpcWebWatch } from "./grpcweb";

// Observation is what a call let the page see.
export interface Observation {
  outcome: "allowed" | "blocked" | "error";
  status?: number; // plain fetch only
  body?: unknown; // response body (fetch) or messages as JSON (Connect client)
  code?: string; // Connect (or gRPC, official gRPC-Web client) error code, for outcome "error" and "blocked"
  error?: string; // error text
  scoopsLeft?: string | null; // X-Scoops-Left, exposed by the proto
  servedBy?: string | null; // X-Served-By, not exposed
}

interface FetchSpec {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  credentials?: RequestCredentials;
}

// fetchObserve makes one request with plain fetch.
async function fetchObserve(spec: FetchSpec): Promise<Observation> {
  let res: Response;
  try {
    res = await fetch(spec.url, {
      method: spec.method ?? "GET",
      headers: spec.headers,
      body: spec.body,
      credentials: spec.credentials ?? "same-origin",
    });
  } catch (e) {
    // CORS refusals surface as a TypeError without details (by design).
    return { outcome: "blocked", error: String(e) };
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return {
    outcome: "allowed",
    status: res.status,
    body,
    scoopsLeft: res.headers.get("X-Scoops-Left"),
    servedBy: res.headers.get("X-Served-By"),
  };
}

type Kind = "connect-json" | "connect-binary" | "connect-get" | "grpc-web";

interface CallSpec {
  api: string;
  kind: Kind;
  method: "getIceCream" | "putIceCream" | "deleteIceCream" | "listIceCreams" | "restockIceCream";
  request: Record<string, unknown>;
  headers?: Record<string, string>;
  credentials?: boolean;
}

function transport(api: string, kind: Kind, credentials: boolean): Transport {
  const f: typeof globalThis.fetch = (input, init) =>
    globalThis.fetch(input, { ...init, credentials: credentials ? "include" : "same-origin" });
  if (kind === "grpc-web") {
    return createGrpcWebTransport({ baseUrl: api, useBinaryFormat: true, fetch: f });
  }
  return createConnectTransport({
    baseUrl: api,
    useBinaryFormat: kind === "connect-binary",
    useHttpGet: kind === "connect-get",
    fetch: f,
  });
}

function fromError(e: unknown, headers: Headers | undefined): Observation {
  const err = ConnectError.from(e);
  // A response the browser blocked never reaches the client: fetch throws a
  // TypeError, which the Connect client reports with code unknown (gRPC-Web)
  // or internal, and no response headers. An error the server sent arrives
  // with its code and the response headers.
  const blocked = err.cause instanceof TypeError;
  return {
    outcome: blocked ? "blocked" : "error",
    code: Code[err.code],
    error: err.rawMessage,
    scoopsLeft: headers?.get("X-Scoops-Left") ?? null,
    servedBy: headers?.get("X-Served-By") ?? null,
  };
}

// call makes one unary call with the official Connect web client.
async function call(spec: CallSpec): Promise<Observation> {
  const client = createClient(IceCreamService, transport(spec.api, spec.kind, spec.credentials ?? false));
  let headers: Headers | undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const res = await (client[spec.method] as any)(spec.request, {
      headers: spec.headers,
      onHeader: (h: Headers) => (headers = h),
    });
    return {
      outcome: "allowed",
      body: toJson(IceCreamService.method[spec.method].output, res),
      scoopsLeft: headers?.get("X-Scoops-Left") ?? null,
      servedBy: headers?.get("X-Served-By") ?? null,
    };
  } catch (e) {
    return fromError(e, headers);
  }
}

// watch calls the server-streaming method and collects the flavors.
async function watch(api: string, kind: Kind, count: number): Promise<Observation> {
  const client = createClient(IceCreamService, transport(api, kind, false));
  let headers: Headers | undefined;
  const flavors: string[] = [];
  try {
    for await (const res of client.watchIceCreams({ count }, { onHeader: (h) => (headers = h) })) {
      flavors.push(res.iceCream?.flavor ?? "");
    }
    return {
      outcome: "allowed",
      body: flavors,
      scoopsLeft: headers?.get("X-Scoops-Left") ?? null,
      servedBy: headers?.get("X-Served-By") ?? null,
    };
  } catch (e) {
    const o = fromError(e, headers);
    o.body = flavors;
    return o;
  }
}

declare global {
  interface Window {
    e2e: {
      fetch: typeof fetchObserve;
      call: typeof call;
      watch: typeof watch;
      grpcWebCall: typeof grpcWebCall;
      grpcWebWatch: typeof grpcWebWatch;
    };
  }
}

window.e2e = { fetch: fetchObserve, call, watch, grpcWebCall, grpcWebWatch };
document.body.dataset.ready = "true";
