#!/usr/bin/env bash
# Runs the product's Go benchmarks and rewrites the section of BENCHMARKS.md
# between the gobench markers with the results, the machine and the command.
#
#   scripts/gobench.sh            # default: -count 3 -benchtime 1s
#   COUNT=5 BENCHTIME=2s scripts/gobench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
count=${COUNT:-3}
benchtime=${BENCHTIME:-1s}

# package pattern → benchmark regexp
benches=(
	"./amps/wire|."
	"./filter|BenchmarkFilter$"
	"./channels/memory|."
	"./channels/file|BenchmarkCommit$"
	"./plugins|."
	"./ampserver|BenchmarkPubSub"
	"./ampserver/aggregate|."
	"./ampserver/txlog|."
	"./sinks/hdfs|."
	"./sinks/kafka|."
)

out=$(mktemp)
trap 'rm -f "$out"' EXIT
for b in "${benches[@]}"; do
	pkg=${b%%|*}
	re=${b#*|}
	echo "== $pkg ($re)" >&2
	go test -run '^$' -bench "$re" -benchmem -count "$count" -benchtime "$benchtime" "$pkg" |
		grep -E '^(Benchmark|pkg:)' >>"$out" || true
done

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')
mem=$(free -g | awk '/Mem:/ {print $2 " GiB"}')
section=$(mktemp)
{
	echo "<!-- gobench:begin -->"
	echo "## Go benchmarks"
	echo
	echo "Machine: $cpu, $(nproc) cores, $mem; $(go version | cut -d' ' -f3-); $(date -u +%Y-%m-%d)."
	echo "Command: \`COUNT=$count BENCHTIME=$benchtime scripts/gobench.sh\` (each line is one run; compare runs with benchstat)."
	echo
	echo '```'
	cat "$out"
	echo '```'
	echo "<!-- gobench:end -->"
} >"$section"

touch BENCHMARKS.md
if grep -q '<!-- gobench:begin -->' BENCHMARKS.md; then
	awk -v f="$section" '
		/<!-- gobench:begin -->/ { while ((getline l < f) > 0) print l; skip = 1; next }
		/<!-- gobench:end -->/ { skip = 0; next }
		!skip { print }' BENCHMARKS.md >BENCHMARKS.md.new
	mv BENCHMARKS.md.new BENCHMARKS.md
else
	{ echo; cat "$section"; } >>BENCHMARKS.md
fi
rm -f "$section"
echo "BENCHMARKS.md updated" >&2
