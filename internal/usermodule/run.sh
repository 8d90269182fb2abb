#!/usr/bin/env bash
# The test that is a user: builds a protocors user's project from scratch,
# with the README's Install commands, and runs it.
#
# The user's own files (this directory: proto/greet, buf.yaml, buf.gen.yaml,
# main.go, main_test.go, and a go.mod without requirements) are copied to a
# temporary directory; there the commands between README:begin and
# README:end run exactly as README.md's "## Install" shows them (this script
# fails when the two differ, and when the README's buf.yaml and
# buf.gen.yaml differ from the files here). Then it checks what the user got:
# no generated copy of protocors/v1/cors.proto, the schema identical to
# proto/protocors/v1/cors.proto, `protocors check` without a schema warning,
# and `go test`, which serves one allowed cross-origin call on a Connect and
# a grpc-gateway server (preflight and actual request) without panicking.
#
# What differs from a user's machine, and only here (before README:begin):
# buf is the pinned one (tools/package.json), put first on PATH; go.mod's
# replace points the library at this checkout; and since this checkout is
# not on the module proxy, a file proxy in front of it lists its version
# (v0.0.0, whose code the replace supplies), so that `go get` resolves it as
# it resolves a release.
#
# Run from anywhere: internal/usermodule/run.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd -P)
root=$(cd "$here/../.." && pwd -P)
start=$(date +%s)
fail() { echo "usermodule: $*" >&2; exit 1; }

# The README's Install section quotes this script's commands and files.
readme_block() { # the lines of README.md's "## Install" code block of type $1, the Nth ($2)
  awk -v lang="$1" -v nth="$2" '
    /^## / { inside = ($0 == "## Install") }
    inside && $0 == "```" lang { n++; if (n == nth) { on = 1; next } }
    on && /^```$/ { exit }
    on { print }' "$root/README.md"
}
diff -u <(sed -n '/^# README:begin$/,/^# README:end$/{//!p}' "$here/run.sh") <(readme_block sh 1) ||
  fail "README.md's Install commands (+) differ from the ones run.sh runs (-)"
diff -u "$here/buf.yaml" <(readme_block yaml 1) || fail "README.md's Install buf.yaml (+) differs from internal/usermodule/buf.yaml (-)"
diff -u "$here/buf.gen.yaml" <(readme_block yaml 2) || fail "README.md's Install buf.gen.yaml (+) differs from internal/usermodule/buf.gen.yaml (-)"

if [ ! -x "$root/tools/node_modules/.bin/buf" ]; then
  (cd "$root/tools" && npm ci --no-audit --no-fund --loglevel=error)
fi
export PATH="$root/tools/node_modules/.bin:$PATH"

work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/app/proto"
cp "$here"/{go.mod,buf.yaml,buf.gen.yaml,main.go,main_test.go} "$work/app/"
cp -R "$here/proto/greet" "$work/app/proto/"
cd "$work/app"
go mod edit -replace "github.com/protocors/protocors=$root"
mkdir -p "$work/proxy/github.com/protocors/protocors/@v"
echo v0.0.0 >"$work/proxy/github.com/protocors/protocors/@v/list"
echo '{"Version":"v0.0.0","Time":"2026-01-01T00:00:00Z"}' >"$work/proxy/github.com/protocors/protocors/@v/v0.0.0.info"
export GOPROXY="file://$work/proxy,$(go env GOPROXY)"

# README:begin
# The library, its command and the code generators, as tools in go.mod.
go get github.com/protocors/protocors
go get -tool github.com/protocors/protocors/cmd/protocors
go get -tool google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12 \
  connectrpc.com/connect/cmd/protoc-gen-connect-go@v1.21.1 \
  google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.0 \
  github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway@v2.33.0

# The options schema of that version, at proto/protocors/v1/cors.proto.
go tool protocors schema -o proto

# google/api/annotations.proto and http.proto, from a Go module (offline).
gw=$(go mod download -json github.com/grpc-ecosystem/grpc-gateway@v1.16.0 | grep '"Dir"' | cut -d'"' -f4)
mkdir -p third_party/googleapis/google/api
install -m 0644 "$gw/third_party/googleapis/google/api/annotations.proto" \
  "$gw/third_party/googleapis/google/api/http.proto" third_party/googleapis/google/api/

# Generate (buf.yaml and buf.gen.yaml below), then tidy go.mod.
buf generate
go mod tidy
go build ./...
# README:end

echo "--- checks"
[ ! -e gen/protocors ] || fail "buf generated code for protocors/v1/cors.proto: $(find gen/protocors -type f)"
cmp proto/protocors/v1/cors.proto "$root/proto/protocors/v1/cors.proto" || fail "protocors schema -o wrote another file than proto/protocors/v1/cors.proto"
grep -q '"github.com/protocors/protocors/corspb"' gen/greet/v1/greet.pb.go ||
  fail "gen/greet/v1/greet.pb.go does not import github.com/protocors/protocors/corspb"
buf build -o image.binpb
go tool protocors check --origins https://app.example image.binpb 2>check.stderr || { cat check.stderr; fail "protocors check failed"; }
[ ! -s check.stderr ] || { cat check.stderr; fail "protocors check warned"; }
go vet ./...
go test -count=1 ./...
echo "usermodule: passed in $(( $(date +%s) - start ))s"

# --- protocors diff (issue 24) ------------------------------------------------
# A change that widens the cross-origin surface fails review: the service
# starts allowing credentials. `protocors diff` between the image built above
# and one built after the change exits 1 and names the RPC, the field, both
# values and the scope that caused it.
echo "--- protocors diff"
cp proto/greet/v1/greet.proto greet.proto.orig
awk '{ print } $0 == "    max_age_seconds: 600" { print "    allow_credentials: true" }' greet.proto.orig >proto/greet/v1/greet.proto
! cmp -s greet.proto.orig proto/greet/v1/greet.proto || fail "the widening edit did not apply to proto/greet/v1/greet.proto"
buf build -o image-widened.binpb
mv greet.proto.orig proto/greet/v1/greet.proto
status=0
go tool protocors diff --origins https://app.example image.binpb image-widened.binpb >diff.out 2>diff.err || status=$?
[ "$status" -eq 1 ] || { cat diff.out diff.err; fail "protocors diff exited $status on a widening, want 1"; }
want='widens greet.v1.GreetService.Greet: allow_credentials: false -> true (service greet.v1.GreetService)'
[ "$(cat diff.out)" = "$want" ] || { cat diff.out; fail "protocors diff printed other lines than: $want"; }
echo "usermodule: protocors diff exits 1 on the widening"
