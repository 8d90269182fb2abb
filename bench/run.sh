#!/bin/sh
# Runs the benchmark suite the way README.md describes: the test binary is
# compiled once and run PASSES times, every library in every pass, so drift
# on a shared machine hits all of them alike; then benchstat summarizes, and
# cmd/table writes the overhead tables into README.md.
#
#   ./run.sh                      # 6 passes, about 3-4 minutes on 2 cores
#   PASSES=10 BENCHTIME=300ms ./run.sh
#   BENCH='CORS/scenario=preflight' ./run.sh   # a subset; README.md untouched
set -eu
cd "$(dirname "$0")"
passes=${PASSES:-6}
benchtime=${BENCHTIME:-300ms}
bench=${BENCH:-.}
mkdir -p results
go test -c -o results/bench.test .
raw=results/raw.txt
: >"$raw"
i=1
while [ "$i" -le "$passes" ]; do
	echo "pass $i/$passes" >&2
	./results/bench.test -test.run '^$' -test.bench "$bench" -test.benchtime "$benchtime" \
		-test.count 1 -test.benchmem >>"$raw"
	i=$((i + 1))
done
go tool benchstat -row /scenario -col /impl -filter '.name:CORS' "$raw" >results/benchstat.txt
go tool benchstat -filter '-.name:CORS' "$raw" >>results/benchstat.txt
cat results/benchstat.txt
if [ "$bench" = . ]; then
	go run ./cmd/table -readme README.md "$raw"
	echo "tables written to README.md" >&2
else
	go run ./cmd/table "$raw"
fi
