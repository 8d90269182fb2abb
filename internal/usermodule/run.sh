#!/usr/bin/env bash
# The test that is a user: builds a protocors user's project from scratch,
# with the README's Install commands, and runs it.
#
# The user's own files (this directory: proto/greet, buf.yaml, buf.gen.yaml,
# main.go, main_test.go, and a go.mod without requirements) are copied to a
# temporary directory; there the README's shell blocks run exactly as
# written: each fenced block that follows a line `<!-- usermodule:NAME -->`
# in README.md is extracted and run by bash, in this order: install,
# generate, lint (`buf lint` with the Install buf.yaml), then lint again
# with the buf.yaml lint section replaced by the block lint-plugin (the
# check plugin). The README's buf.yaml and buf.gen.yaml blocks must equal
# the files here. Then it checks what the user got: no generated copy of
# protocors/v1/cors.proto, the schema identical to
# proto/protocors/v1/cors.proto, `protocors check` without a schema
# warning, the plugin reporting a bad origin at its position, and
# `go test`, which serves one allowed cross-origin call on a Connect and a
# grpc-gateway server (preflight and actual request) without panicking.
#
# What differs from a user's machine, and only here (before the first
# README block runs): buf is the pinned one (tools/package.json) and the
# check plugin is built from this checkout, both put first on PATH; go.mod's
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

# readme_block NAME prints the fenced code block that follows the line
# "<!-- usermodule:NAME -->" in README.md, without the fences and without
# the indentation of a block nested in a list item; it fails when there is
# no such block.
readme_block() {
  awk -v name="$1" '
    !on && !fence && $0 ~ "^ *<!-- usermodule:" name " -->$" { want = 1; next }
    want && /^ *```/ { fence = 1; want = 0; match($0, /^ */); indent = RLENGTH; next }
    fence && /^ *```$/ { found = 1; exit }
    fence { print substr($0, indent + 1) }
    END { exit !found }' "$root/README.md" || fail "README.md has no block marked <!-- usermodule:$1 -->"
}
# run_block NAME runs README.md's shell block NAME as written, in the
# current directory, stopping at its first failing command.
run_block() {
  local code
  code=$(readme_block "$1")
  echo "--- README block $1"
  printf '%s\n' "$code"
  bash -euo pipefail -c "$code" || fail "README.md's block $1 failed"
}
for f in buf.yaml buf.gen.yaml; do
  diff -u "$here/$f" <(readme_block "$f") || fail "README.md's $f (+) differs from internal/usermodule/$f (-)"
done
readme_block lint-plugin >/dev/null

if [ ! -x "$root/tools/node_modules/.bin/buf" ]; then
  (cd "$root/tools" && npm ci --no-audit --no-fund --loglevel=error)
fi
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
go build -C "$root/cmd/buf-plugin-protocors" -o "$work/bin/" .
export PATH="$work/bin:$root/tools/node_modules/.bin:$PATH"

mkdir -p "$work/app/proto"
cp "$here"/{go.mod,buf.yaml,buf.gen.yaml,main.go,main_test.go} "$work/app/"
cp -R "$here/proto/greet" "$work/app/proto/"
cd "$work/app"
go mod edit -replace "github.com/protocors/protocors=$root"
mkdir -p "$work/proxy/github.com/protocors/protocors/@v"
echo v0.0.0 >"$work/proxy/github.com/protocors/protocors/@v/list"
echo '{"Version":"v0.0.0","Time":"2026-01-01T00:00:00Z"}' >"$work/proxy/github.com/protocors/protocors/@v/v0.0.0.info"
export GOPROXY="file://$work/proxy,$(go env GOPROXY)"

run_block install
run_block generate
run_block lint

echo "--- lint with the check plugin"
# The plugin's lint section replaces the Install's (the last section of
# buf.yaml), as the README says.
{ sed '/^lint:/,$d' buf.yaml; readme_block lint-plugin; } >buf.plugin.yaml
mv buf.plugin.yaml buf.yaml
grep -q '^  - plugin: buf-plugin-protocors$' buf.yaml || fail "the plugin block did not land in buf.yaml"
run_block lint
# The plugin runs: a bad origin is reported at its position in the proto.
mkdir -p proto/bad/v1
printf '%s\n' 'syntax = "proto3";' 'package bad.v1;' 'import "protocors/v1/cors.proto";' \
  'message PingRequest {}' 'message PingResponse {}' 'service PingService {' \
  '  option (protocors.v1.service) = {allow_origins: ["htps://app.example"]};' \
  '  rpc Ping(PingRequest) returns (PingResponse);' '}' >proto/bad/v1/bad.proto
if buf lint >lint.out 2>&1; then cat lint.out; fail "buf lint passed a proto with a bad origin"; fi
grep -q '^proto/bad/v1/bad.proto:7:.*did you mean "https://app.example".*(buf-plugin-protocors)$' lint.out ||
  { cat lint.out; fail "buf lint did not report the bad origin through the plugin"; }
rm -r proto/bad lint.out

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
