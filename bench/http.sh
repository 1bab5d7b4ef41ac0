#!/usr/bin/env bash
# bench/http.sh measures tokend over HTTP with wrk, on loopback: requests per second and p50/p99
# latency of /healthz, of an authenticated read with a PAT and with a service token, of a list,
# and of invalid tokens, on SQLite and on PostgreSQL, then with two nodes on one PostgreSQL.
# Then it measures the verification cache's memory with bench/mem. docs/benchmarks.md explains
# the method and the figures.
#
#   bench/http.sh                      # the whole run, about 5.5 minutes
#   DURATION=5s TOKENS=100000 bench/http.sh
#   PARTS=two DURATION=10s TOKENS=100000 STATUSES=1 bench/http.sh   # the two nodes only
#
# Settings (environment): DURATION per measurement (10s), TOKENS stored (1000000), CONNS (16)
# and THREADS (1) of wrk, PGURL (postgres://postgres@127.0.0.1:5432), PORT (18080, and the
# next three), PROFILE_DIR (save CPU profiles of the server under load there), MEM=0 to skip
# the memory measurement, PARTS (which of "sqlite postgres two" to run; all three), STATUSES=1
# to have wrk count its non-2xx answers by status (it then parses every answer: a cost on
# wrk's side, so off by default).
#
# Each node's log goes to a file; when the node stops, its lines at WARN and above and its
# non-2xx answers by route and status are printed (then the file is deleted). The two nodes
# also report, per measurement, how many verifications their caches answered and how many
# read the store.
set -euo pipefail

DURATION=${DURATION:-10s}
TOKENS=${TOKENS:-1000000}
CONNS=${CONNS:-16}
THREADS=${THREADS:-1}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
PORT=${PORT:-18080}
PROFILE_DIR=${PROFILE_DIR:-}
MEM=${MEM:-1}
PARTS=${PARTS:-sqlite postgres two}
STATUSES=${STATUSES:-0}
# PATs whose strings bench/mem verifies: twice the default --cache-size; without bench/mem, a
# thousand, so that a small TOKENS holds them.
if [[ $MEM == 1 ]]; then KNOWN=${KNOWN:-200000}; else KNOWN=${KNOWN:-1000}; fi

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
command -v wrk >/dev/null || { echo "http.sh: wrk is missing (apt-get install -y wrk)" >&2; exit 1; }
command -v psql >/dev/null || { echo "http.sh: psql is missing" >&2; exit 1; }

work=$(mktemp -d)
db="tokend_bench_$$"
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	psql "$PGURL/postgres" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(go version | cut -d' ' -f3), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
echo "== wrk: $THREADS thread(s), $CONNS connections, $DURATION per measurement; $TOKENS tokens stored"

go build -o "$work/tokend" ./cmd/tokend
go build -o "$work/seed" ./bench/seed
go build -o "$work/mem" ./bench/mem

part() { [[ " $PARTS " == *" $1 "* ]]; }

# start NAME PORT ARGS...: runs a node (its log at the default level, to $work/NAME.log, which
# stop summarizes) and waits until it is ready. Its metrics are at PORT+2000.
start() {
	local name=$1 port=$2
	shift 2
	local extra=()
	if [[ -n $PROFILE_DIR ]]; then extra+=(--pprof-addr "127.0.0.1:$((port + 1000))"); fi
	# On a shared machine another run may hold the port: its node would pass the readiness
	# check below, and each run would measure the other's.
	if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
		echo "http.sh: 127.0.0.1:$port is in use (another run?); set PORT" >&2
		exit 1
	fi
	# --trusted-proxies 127.0.0.1: the spread run (e') sends X-Forwarded-For; the others do not.
	"$work/tokend" serve --addr "127.0.0.1:$port" --trusted-proxies 127.0.0.1 \
		--metrics-addr "127.0.0.1:$((port + 2000))" "${extra[@]}" "$@" >"$work/$name.out" 2>"$work/$name.log" &
	local pid=$!
	pids+=("$pid")
	eval "pid_$name=$pid port_$name=$port"
	for _ in $(seq 100); do
		if curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then
			kill -0 "$pid" 2>/dev/null && return # ready, and the node that answered is ours
			break
		fi
		sleep 0.1
	done
	echo "http.sh: $name did not start" >&2
	exit 1
}

stop() {
	local pid
	pid=$(eval "echo \$pid_$1")
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	logs "$1"
}

# logs NAME: what the node's log says besides its 2xx answers: lines at WARN and above (the
# first 20), and its other answers counted by route and status. The request log is large; it
# goes once read.
logs() {
	local f=$work/$1.log
	awk -v n="$1" '
		/ level=(WARN|ERROR) / && ++w <= 20 {print "  " n ": " $0}
		/ msg=request / {
			st = ""; rt = ""
			if (match($0, / status=[0-9]+/)) st = substr($0, RSTART + 8, RLENGTH - 8)
			if (match($0, / route="[^"]*"/)) rt = substr($0, RSTART + 7, RLENGTH - 7)
			if (st !~ /^2/) {bad[rt " " st]++; nbad++}
		}
		END {
			printf "log of %s: %d lines at WARN or above", n, w
			if (nbad == 0) printf "; every answer 2xx"
			print ""
			for (k in bad) printf "  %s answered %s: %d\n", n, k, bad[k]
		}' "$f"
	rm -f "$f"
}

# verifications NAME: the node's verifications so far, "cache store unavailable" (metrics).
verifications() {
	local port
	port=$(eval "echo \$port_$1")
	curl -fs "http://127.0.0.1:$((port + 2000))/metrics" | awk '
		/^tokend_token_verifications_total\{result="cache"\}/ {c = $2}
		/^tokend_token_verifications_total\{result="store"\}/ {s = $2}
		/^tokend_authentications_total\{.*outcome="unavailable"\}/ {u += $2}
		END {printf "%d %d %d\n", c, s, u}'
}

rss() { awk '/VmRSS/ {printf "%.0f MiB", $2 / 1024}' "/proc/$(eval "echo \$pid_$1")/status"; }

# wrk_run URL [VAR=value...]: one bounded wrk run; prints its RESULT fields, then, when wrk
# counted them (STATUSES=1), its non-2xx answers as code=count fields.
wrk_run() {
	local url=$1
	shift
	env BENCH_STATUSES="$STATUSES" "$@" timeout 120 wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --timeout 5s \
		-s bench/http.lua "$url" |
		awk '/^RESULT/ {r = $2 " " $3 " " $4 " " $5 " " $6 " " $7 " " $8}
			/^STATUSES/ {$1 = ""; s = $0}
			END {print r s}'
}

declare -A RPS P99
# row STORE KEY LABEL REQUESTS RPS P50 P99 NON2XX N429 SOCKERR [CODE=COUNT...]
row() {
	RPS[$1/$2]=$5
	P99[$1/$2]=$7
	awk -v s="$1" -v l="$3" -v r="$5" -v p50="$6" -v p99="$7" -v n="$8" -v t="$9" \
		'BEGIN {printf "%-9s %-54s %9.0f %8.2f %8.2f %8s %8s\n", s, l, r, p50 / 1000, p99 / 1000, n, t}'
	if [[ ${10} != 0 ]]; then echo "          (${10} socket errors)"; fi
	if [[ $# -gt 10 ]]; then echo "          (non-2xx by status: ${*:11})"; fi
}

header() { printf "%-9s %-54s %9s %8s %8s %8s %8s\n" store measurement "req/s" "p50 ms" "p99 ms" non-2xx 429; }

# profile NAME PORT: a CPU profile of the node over most of the next measurement, in the
# background; profiled waits for it.
profile_pid=
profile() {
	[[ -n $PROFILE_DIR ]] || return 0
	mkdir -p "$PROFILE_DIR"
	local secs=${DURATION%s}
	(sleep 1 && curl -fs -o "$PROFILE_DIR/$1.pprof" \
		"http://127.0.0.1:$(($2 + 1000))/debug/pprof/profile?seconds=$((secs - 2))") &
	profile_pid=$!
}
profiled() {
	if [[ -n $profile_pid ]]; then wait "$profile_pid" || true; fi
	profile_pid=
}

ratio() { awk -v a="${RPS[$1]}" -v b="${RPS[$2]}" 'BEGIN {printf "%.2f", a / b}'; }
ratio99() { awk -v a="${P99[$1]}" -v b="${P99[$2]}" 'BEGIN {printf "%.2f", a / b}'; }

# measure STORE PORT: the measurements on one node. /healthz is measured first and last, and the
# ratios are over the mean of the two, so that a drift of the machine during the run shows.
measure() {
	local store=$1 port=$2 data=$work/$1
	local base="http://127.0.0.1:$port"
	local acct pat
	acct=$(cat "$data/account")
	pat=$(cat "$data/pat")
	# Warm-up, not recorded: connection pools, the verification cache, the heap's size.
	DURATION=3s wrk_run "$base/api/v3/accounts/$acct/" BENCH_TOKEN="$pat" >/dev/null
	DURATION=2s wrk_run "$base/healthz" >/dev/null
	header
	profile "$store-healthz" "$port"
	row "$store" a "(a) GET /healthz" $(wrk_run "$base/healthz")
	profiled
	profile "$store-account-pat" "$port"
	row "$store" b "(b) GET /api/v3/accounts/{a}/, PAT" \
		$(wrk_run "$base/api/v3/accounts/$acct/" BENCH_TOKEN="$pat")
	profiled
	row "$store" c "(c) GET /api/v3/accounts/{a}/, service token" \
		$(wrk_run "$base/api/v3/accounts/$acct/" BENCH_TOKEN="$(cat "$data/service")")
	row "$store" d "(d) GET /api/v3/accounts/{a}/projects/, PAT" \
		$(wrk_run "$base/api/v3/accounts/$acct/projects/" BENCH_TOKEN="$pat")
	# The account id 0 is answered 404 by the handler before any work: what is left is the
	# authentication middleware (cached) and the error envelope.
	profile "$store-auth-only" "$port"
	row "$store" f "(f) GET /api/v3/accounts/0/ (404 after auth), PAT" \
		$(wrk_run "$base/api/v3/accounts/0/" BENCH_TOKEN="$pat")
	profiled
	row "$store" e "(e) invalid tokens, one client address" \
		$(wrk_run "$base/api/v3/accounts/$acct/" BENCH_TOKENS="$data/bad" BENCH_COUNT_429=1)
	# 65,536 addresses: at these rates each fails a few times in a run, under the limiter's
	# burst of 50, so every answer is a refusal after verification, not a 429.
	profile "$store-invalid-spread" "$port"
	row "$store" e2 "(e') invalid tokens, 65,536 client addresses" \
		$(wrk_run "$base/api/v3/accounts/$acct/" BENCH_TOKENS="$data/bad" BENCH_SPREAD=65536 BENCH_COUNT_429=1)
	profiled
	# Unknown tokens as an attacker makes them now: tagged, with a tag of their own key.
	row "$store" e3 "(e'') unknown well-formed tokens, 65,536 addresses" \
		$(wrk_run "$base/api/v3/accounts/$acct/" BENCH_TOKENS="$data/unknown" BENCH_SPREAD=65536 BENCH_COUNT_429=1)
	# The shape before tags: SQLite is sealed by its migration, PostgreSQL not yet (see below).
	row "$store" e4 "(e''') unknown untagged tokens, 65,536 addresses" \
		$(wrk_run "$base/api/v3/accounts/$acct/" BENCH_TOKENS="$data/unknown-untagged" BENCH_SPREAD=65536 BENCH_COUNT_429=1)
	if [[ $store == postgres ]]; then
		"$work/tokend" migrate --database-url "$pg" --seal-untagged-tokens | sed 's/^/   /'
		sleep 2 # the node reads the seal on its next poll of the feed (1 s)
		row "$store" e5 "(e'''') the same after migrate --seal-untagged-tokens" \
			$(wrk_run "$base/api/v3/accounts/$acct/" BENCH_TOKENS="$data/unknown-untagged" BENCH_SPREAD=65536 BENCH_COUNT_429=1)
	fi
	# (g) valid requests on half the connections, alone, then while the other half floods the
	# node with unknown tokens from 65,536 addresses: the flood must not slow the valid ones.
	row "$store" g "(g) account, PAT, $((CONNS / 2)) connections alone" \
		$(CONNS=$((CONNS / 2)) wrk_run "$base/api/v3/accounts/$acct/" BENCH_TOKEN="$pat")
	CONNS=$((CONNS / 2)) wrk_run "$base/api/v3/accounts/$acct/" BENCH_TOKENS="$data/unknown" BENCH_SPREAD=65536 \
		BENCH_COUNT_429=1 >"$work/flood" &
	local flood=$!
	row "$store" g2 "(g') the same during a flood of unknown tokens" \
		$(CONNS=$((CONNS / 2)) wrk_run "$base/api/v3/accounts/$acct/" BENCH_TOKEN="$pat")
	wait "$flood"
	row "$store" g3 "(g'') the flood, at the same time (all 401)" $(cat "$work/flood")
	row "$store" a2 "(a) GET /healthz, again" $(wrk_run "$base/healthz")
	RPS[$store/A]=$(awk -v x="${RPS[$store/a]}" -v y="${RPS[$store/a2]}" 'BEGIN {print (x + y) / 2}')
	echo "ratios ($store, over the mean of the two /healthz runs):"
	echo "  (b)/(a) $(ratio "$store/b" "$store/A")   (c)/(a) $(ratio "$store/c" "$store/A")" \
		"  (d)/(a) $(ratio "$store/d" "$store/A")   (f)/(a) $(ratio "$store/f" "$store/A")"
	echo "  (e)/(b) $(ratio "$store/e" "$store/b")   (e')/(b) $(ratio "$store/e2" "$store/b")" \
		"  (e'')/(b) $(ratio "$store/e3" "$store/b")   (e''')/(b) $(ratio "$store/e4" "$store/b")" \
		"$([[ -n ${RPS[$store/e5]:-} ]] && echo "  (e'''')/(b) $(ratio "$store/e5" "$store/b")")"
	echo "  p99 of valid requests during the flood over alone, (g')/(g): $(ratio99 "$store/g2" "$store/g")"
}

# others: what else used the CPU during the run (other people's tests on a shared machine
# make figures noisy): processes older than 5 s, not this script's own (its descendants: the
# nodes, wrk, the summaries of the request logs) nor PostgreSQL, that averaged 20% of a CPU or
# more over their life. Printed at the end.
others() {
	ps -eo pid=,ppid=,pcpu=,etimes=,comm= |
		awk -v me=$$ '
			{ n++; pid[n] = $1; parent[$1] = $2; cpu[n] = $3; age[n] = $4; name[n] = $5 }
			END {
				for (i = 1; i <= n; i++) {
					if (cpu[i] < 20 || age[i] < 5 || name[i] ~ /^postgres$/) continue
					mine = 0
					for (p = pid[i]; p > 1 && !mine; p = parent[p]) mine = (p == me)
					if (!mine) printf " %s %s%%", name[i], cpu[i]
				}
			}' |
		head -c 200
}
watch_others() {
	while sleep 5; do
		o=$(others)
		if [[ -n $o ]]; then echo "  $(date +%T)$o" >>"$work/busy"; fi
	done
}

watch_others &
pids+=($!)

# --- SQLite
if part sqlite; then
	mkdir -p "$work/sqlite"
	echo "== seeding SQLite"
	"$work/seed" -sqlite "$work/sqlite/tokend.db" -tokens "$TOKENS" -known "$KNOWN" -out "$work/sqlite" 2>&1 | sed 's/^/   /'
	echo
	echo "== one node, SQLite"
	start sqlite "$PORT" --data-dir "$work/sqlite"
	measure sqlite "$PORT"
	echo "resident size of the SQLite node after the runs: $(rss sqlite)"
	stop sqlite
fi

# --- PostgreSQL
if part postgres || part two; then
	psql "$PGURL/postgres" -qc "CREATE DATABASE $db" >/dev/null
	pg="$PGURL/$db?sslmode=disable"
	mkdir -p "$work/postgres"
	echo
	echo "== seeding PostgreSQL (database $db, dropped at the end)"
	"$work/seed" -postgres "$pg" -tokens "$TOKENS" -out "$work/postgres" 2>&1 | sed 's/^/   /'
	psql "$pg" -qc "CHECKPOINT" >/dev/null # the seed's writes, out of the way of the measurements
fi
if part postgres; then
	echo
	echo "== one node, PostgreSQL"
	start postgres "$PORT" --database-url "$pg"
	measure postgres "$PORT"
	echo "resident size of the PostgreSQL node after the runs: $(rss postgres)"
	stop postgres
fi

# --- Two nodes on one PostgreSQL, each under its own wrk at once.

# both PATH [VAR=value...]: wrk against both nodes at once; prints the summed RESULT.
both() {
	local path=$1
	shift
	CONNS=$((CONNS / 2)) wrk_run "http://127.0.0.1:$((PORT + 2))$path" "$@" >"$work/w1" &
	local w1=$!
	CONNS=$((CONNS / 2)) wrk_run "http://127.0.0.1:$((PORT + 3))$path" "$@" >"$work/w2"
	wait "$w1"
	# Requests, req/s, non-2xx, 429s and errors add up; the latencies shown are the worse
	# node's; non-2xx counts by status add up.
	cat "$work/w1" "$work/w2" | awk '
		NR == 1 {split($0, a)} NR == 2 {split($0, b)}
		{for (i = 8; i <= NF; i++) {split($i, kv, "="); codes[kv[1]] += kv[2]}}
		END {
			printf "%s %s %s %s %s %s %s", a[1] + b[1], a[2] + b[2], (a[3] > b[3] ? a[3] : b[3]),
				(a[4] > b[4] ? a[4] : b[4]), a[5] + b[5], a[6] + b[6], a[7] + b[7]
			for (c in codes) printf " %s=%d", c, codes[c]
			print ""
		}'
}

# two_row KEY LABEL PATH [VAR=value...]: a row of both nodes, and where each node's
# verifications came from meanwhile (a node whose caches lapse reads the store).
two_row() {
	local key=$1 label=$2 path=$3
	shift 3
	local v1 v2
	v1=$(verifications node1)
	v2=$(verifications node2)
	row two "$key" "$label" $(both "$path" "$@")
	echo "          node1 $(delta "$v1" "$(verifications node1)"); node2 $(delta "$v2" "$(verifications node2)")"
}
delta() {
	awk -v a="$1" -v b="$2" 'BEGIN {split(a, x); split(b, y)
		printf "verifications: %d from its cache, %d from the store, %d unavailable", y[1] - x[1], y[2] - x[2], y[3] - x[3]}'
}

if part two; then
	echo
	echo "== two nodes on one PostgreSQL (a wrk with half the connections against each, at the same time; req/s summed)"
	start node1 $((PORT + 2)) --database-url "$pg"
	start node2 $((PORT + 3)) --database-url "$pg"
	acct=$(cat "$work/postgres/account")
	DURATION=3s both "/api/v3/accounts/$acct/" BENCH_TOKEN="$(cat "$work/postgres/pat")" >/dev/null # warm-up
	header
	two_row a "(a) GET /healthz" /healthz
	two_row b "(b) GET /api/v3/accounts/{a}/, PAT" "/api/v3/accounts/$acct/" BENCH_TOKEN="$(cat "$work/postgres/pat")"
	two_row c "(c) GET /api/v3/accounts/{a}/, service token" "/api/v3/accounts/$acct/" \
		BENCH_TOKEN="$(cat "$work/postgres/service")"
	echo -n "ratios (two nodes): (b)/(a) $(ratio two/b two/a)   (c)/(a) $(ratio two/c two/a)"
	if part postgres; then echo "   two nodes (b) / one node (b): $(ratio two/b postgres/b)"; else echo; fi
	stop node1
	stop node2
fi

if [[ $MEM == 1 ]] && part sqlite; then
	echo
	echo "== memory: the verification cache with $TOKENS tokens stored (SQLite), --cache-size 100000"
	"$work/mem" -sqlite "$work/sqlite/tokend.db" -pats "$work/sqlite/pats" -cache-size 100000 -rounds 3
fi

echo
if [[ -s $work/busy ]]; then
	echo "== other processes used the CPU during the run; the figures are noisier for it:"
	cat "$work/busy"
else
	echo "== no other process used more than 20% of a CPU during the run (sampled every 5 s)"
fi
