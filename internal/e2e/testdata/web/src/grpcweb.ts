// Calls with Google's official gRPC-Web client (npm grpc-web), as users who
// never adopted Connect's clients make them. protoc-gen-grpc-web cannot be
// installed here (its npm package downloads a binary), so the method
// descriptors are built by hand from protoc-gen-es output, with
// @bufbuild/protobuf's toBinary and fromBinary as the serializers.
//
// The format is binary (application/grpc-web+proto): the client's default,
// "text" (application/grpc-web-text), is not a protocol connect-go serves
// (415). grpc-web 2.1.1's typings declare thenableCall, which its runtime
// lacks: unary calls use unaryCall.
import {
  GrpcWebClientBase,
  MethodDescriptor,
  MethodType,
  RpcError,
  StatusCode,
  type Metadata,
  type Request,
  type UnaryInterceptor,
  type UnaryResponse,
} from "grpc-web";
import { create, fromBinary, toBinary, toJson, type DescMethod } from "@bufbuild/protobuf";
import { IceCreamService } from "../gen/icecream/v1/icecream_pb";
import type { Observation } from "./e2e";

type Method = keyof typeof IceCreamService.method;

// descriptor is what protoc-gen-grpc-web would generate for a method.
function descriptor(m: DescMethod): MethodDescriptor<unknown, unknown> {
  // The request and response constructors are only kept by the runtime:
  // the serializers do the work.
  class Unused {}
  return new MethodDescriptor(
    `/${m.parent.typeName}/${m.name}`,
    m.methodKind === "server_streaming" ? MethodType.SERVER_STREAMING : MethodType.UNARY,
    Unused as never,
    Unused as never,
    (req: never) => toBinary(m.input, req),
    (bytes: Uint8Array) => fromBinary(m.output, bytes),
  );
}

// header reads a response header from metadata (XHR lower-cases the names;
// an unexposed header is absent).
function header(md: Metadata | undefined, name: string): string | null {
  for (const [k, v] of Object.entries(md ?? {})) {
    if (k.toLowerCase() === name.toLowerCase()) return v;
  }
  return null;
}

function codeName(code: number): string {
  return Object.entries(StatusCode).find(([, v]) => v === code)?.[0] ?? String(code);
}

// fromRpcError tells an error the server sent (its gRPC status reached the
// page) from a response the browser blocked: then XHR reports status 0 and
// the client makes up UNKNOWN, with no metadata.
function fromRpcError(e: unknown, headers: Metadata | undefined): Observation {
  if (!(e instanceof RpcError)) {
    return { outcome: "blocked", error: String(e) };
  }
  const sent = e.metadata && Object.keys(e.metadata).length > 0;
  return {
    outcome: sent ? "error" : "blocked",
    code: codeName(e.code),
    error: e.message,
    scoopsLeft: header(headers ?? e.metadata, "X-Scoops-Left"),
    servedBy: header(headers ?? e.metadata, "X-Served-By"),
  };
}

export interface GrpcWebSpec {
  api: string;
  method: Method;
  request: Record<string, unknown>;
  metadata?: Metadata;
}

// grpcWebCall makes one unary call with unaryCall; an interceptor keeps the
// response metadata (headers) the page was allowed to read.
export async function grpcWebCall(spec: GrpcWebSpec): Promise<Observation> {
  const m = IceCreamService.method[spec.method];
  let headers: Metadata | undefined;
  const keepHeaders: UnaryInterceptor<unknown, unknown> = {
    async intercept(
      req: Request<unknown, unknown>,
      invoker: (req: Request<unknown, unknown>) => Promise<UnaryResponse<unknown, unknown>>,
    ) {
      const res = await invoker(req);
      headers = res.getMetadata();
      return res;
    },
  };
  const client = new GrpcWebClientBase({ format: "binary", unaryInterceptors: [keepHeaders] });
  const d = descriptor(m);
  try {
    const res = await client.unaryCall(spec.api + d.getName(), create(m.input, spec.request), spec.metadata ?? {}, d);
    return {
      outcome: "allowed",
      body: toJson(m.output, res as never),
      scoopsLeft: header(headers, "X-Scoops-Left"),
      servedBy: header(headers, "X-Served-By"),
    };
  } catch (e) {
    return fromRpcError(e, headers);
  }
}

// grpcWebWatch calls the server-streaming method with serverStreaming and
// collects the flavors until the stream ends.
export function grpcWebWatch(api: string, count: number): Promise<Observation> {
  const m = IceCreamService.method.watchIceCreams;
  const client = new GrpcWebClientBase({ format: "binary" });
  const d = descriptor(m);
  const flavors: string[] = [];
  let headers: Metadata | undefined;
  return new Promise((resolve) => {
    const stream = client.serverStreaming(api + d.getName(), create(m.input, { count }), {}, d);
    stream.on("metadata", (md) => (headers = md));
    stream.on("data", (res) => flavors.push((res as { iceCream?: { flavor: string } }).iceCream?.flavor ?? ""));
    stream.on("error", (e) => resolve({ ...fromRpcError(e, headers), body: flavors }));
    stream.on("end", () =>
      resolve({
        outcome: "allowed",
        body: flavors,
        scoopsLeft: header(headers, "X-Scoops-Left"),
        servedBy: header(headers, "X-Served-By"),
      }),
    );
  });
}
