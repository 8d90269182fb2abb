#!/usr/bin/env bash
# Proves that the buf plugin installs as the README says,
#
#   go install github.com/protocors/protocors/cmd/buf-plugin-protocors@VERSION
#
# once the library and the plugin are published, without publishing them:
# it releases both modules, as a maintainer would, to a file module proxy in
# a temporary directory, then installs from there with GOWORK=off (a user's
# go install never sees this repository's go.work) and runs the binary.
# Other modules come from the local module cache (or the module proxy), so
# this runs offline once the plugin's dependencies are cached.
#
# The release steps it mirrors (CONTRIBUTING.md, "Releasing"): tag the
# library (vX.Y.Z); set the plugin's requirement on the library to that
# version and tidy; tag the plugin (cmd/buf-plugin-protocors/vX.Y.Z).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd -P)
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
export GOWORK=off GOFLAGS=-modcacherw
lib=github.com/protocors/protocors
plugin=$lib/cmd/buf-plugin-protocors
libv=v0.0.0-ci    # the library's release
pluginv=v0.0.0-ci # the plugin's release (its own tag)
cache=$(go env GOMODCACHE)

grep -q '^replace' "$root/cmd/buf-plugin-protocors/go.mod" &&
  { echo "cmd/buf-plugin-protocors/go.mod has a replace directive: go install @version refuses it"; exit 1; }

# stage MODULE VERSION DIR: DIR's files (tracked or not ignored by git),
# minus nested modules and go.work, laid out as in a module zip.
stage() {
  local out=$work/stage/$1@$2 nested
  mkdir -p "$out"
  nested=$(cd "$root/$3" && git ls-files -co --exclude-standard '*/go.mod' | sed -n 's#/go.mod$##p' | paste -sd'|' -)
  (cd "$root/$3" && git ls-files -co --exclude-standard . |
    { if [ -n "$nested" ]; then grep -vE "^($nested)/"; else cat; fi; } |
    grep -vE '^go\.work' | tar -cf - -T -) | tar -xf - -C "$out"
}
# publish MODULE VERSION: the staged module into the file proxy.
publish() {
  mkdir -p "$work/proxy/$1/@v"
  (cd "$work/stage" && zip -qr "$work/proxy/$1/@v/$2.zip" "$1@$2")
  cp "$work/stage/$1@$2/go.mod" "$work/proxy/$1/@v/$2.mod"
  echo "{\"Version\":\"$2\",\"Time\":\"2026-01-01T00:00:00Z\"}" >"$work/proxy/$1/@v/$2.info"
  echo "$2" >"$work/proxy/$1/@v/list"
}
export GOPROXY="file://$work/proxy,file://$cache/cache/download,$(go env GOPROXY)"
export GONOSUMDB=$lib GOMODCACHE=$work/modcache

# 1. The library's release.
stage "$lib" "$libv" .
publish "$lib" "$libv"

# 2. The plugin's release: its requirement on the library set to the
# library's release and go.sum completed (in the staged copy), the
# repository's LICENSE added as go does for a nested module's zip.
stage "$plugin" "$pluginv" cmd/buf-plugin-protocors
(cd "$work/stage/$plugin@$pluginv" && go mod edit -require="$lib@$libv" && go mod tidy)
cp "$root/LICENSE" "$work/stage/$plugin@$pluginv/"
publish "$plugin" "$pluginv"

# 3. A user's install, from an empty directory.
mkdir "$work/user"
cd "$work/user"
GOBIN=$work/bin go install "$plugin@$pluginv"
protocol=$("$work/bin/buf-plugin-protocors" --protocol)
[ "$protocol" = 1 ] || { echo "installed plugin answered --protocol with $protocol"; exit 1; }
echo "go install $plugin@$pluginv: installed and runs (pluginrpc protocol $protocol)"
