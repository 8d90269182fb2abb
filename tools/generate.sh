#!/usr/bin/env bash
# Regenerates every generated file in the repository from the .proto sources,
# offline: buf comes from npm (tools/package.json), the protoc plugins are Go
# tools pinned in tools/go.mod, and google/api/{annotations,http}.proto come
# from a Go module served by the module proxy (no copies are committed).
set -euo pipefail
cd "$(dirname "$0")/.."
# The plugins run with `go tool -modfile=tools/go.mod`, which the root
# go.work's workspace mode refuses; tools/ is no workspace module (its
# dependencies must not move the library's versions).
export GOWORK=off

# buf, pinned by tools/package-lock.json.
if [ ! -x tools/node_modules/.bin/buf ]; then
  (cd tools && npm ci --no-audit --no-fund --loglevel=error)
fi
BUF=tools/node_modules/.bin/buf

# google/api/annotations.proto and http.proto, from grpc-gateway v1.16.0's
# third_party/googleapis (same field numbers and go_package as genproto).
gw_dir=$(go mod download -json github.com/grpc-ecosystem/grpc-gateway@v1.16.0 | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
mkdir -p third_party/googleapis/google/api
for f in annotations.proto http.proto; do
  install -m 0644 "$gw_dir/third_party/googleapis/google/api/$f" third_party/googleapis/google/api/$f
done

# Build the plugins one after another first: buf starts them all at once,
# which is about three times slower on a cold cache with 2 cores.
for p in protoc-gen-go protoc-gen-connect-go protoc-gen-go-grpc protoc-gen-grpc-gateway; do
  go tool -modfile=tools/go.mod "$p" --version >/dev/null 2>&1 || true
done

"$BUF" format -w
"$BUF" lint
"$BUF" generate

# TypeScript for the browser end-to-end tests, with protoc-gen-es pinned by
# internal/e2e/testdata/web/package-lock.json.
if [ ! -x internal/e2e/testdata/web/node_modules/.bin/protoc-gen-es ]; then
  (cd internal/e2e/testdata/web && npm ci --no-audit --no-fund --loglevel=error)
fi
"$BUF" generate --template buf.gen.es.yaml
