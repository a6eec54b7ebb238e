# bench/lib/common.sh — helpers for bench/run.  Source after test/lib/cluster.sh.
#
# Results: every measurement goes to $BENCH_OUT/raw.tsv
#   (workload, variant, rep, value, unit), every summary row to $BENCH_OUT/results.tsv
#   (workload, ours, baseline, ratio, goal, met), which bench/lib/print_table.sh prints.

BENCH_DIR=${BENCH_DIR:-$ROOT/bench}

blog() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" | tee -a "$BENCH_OUT/log" >&2; }

# median of the numbers on stdin (one per line)
median() {
  sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "NaN"; exit }
    if (NR % 2) printf "%.6g\n", v[(NR + 1) / 2]; else printf "%.6g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

record_raw() {   # workload variant rep value unit
  printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$BENCH_OUT/raw.tsv"
}

so_md5() {   # the installed pg_backorder.so (other work on the machine may reinstall it)
  md5sum "$("$PG_CONFIG" --pkglibdir)/pg_backorder.so" 2>/dev/null | cut -c1-12
}

sample_load() {   # records and prints the 1-minute load average
  local l; l=$(cut -d' ' -f1 /proc/loadavg)
  record_raw load - - "$l" load; echo "$l"
}

raw_values() {   # workload variant -> values, one per line, in rep order
  awk -F'\t' -v w="$1" -v v="$2" '$1 == w && $2 == v { print $4 }' "$BENCH_OUT/raw.tsv"
}

# Median of per-rep ratios a/b (pairs matched by rep number).
paired_ratio() {   # workload variant_a variant_b
  awk -F'\t' -v w="$1" -v a="$2" -v b="$3" '
    $1 == w && $2 == a { A[$3] = $4 }  $1 == w && $2 == b { B[$3] = $4 }
    END { for (r in A) if ((r in B) && B[r] > 0) print A[r] / B[r] }' "$BENCH_OUT/raw.tsv" | median
}

# add_result workload ours baseline ratio goal_op goal_value unit
#   goal_op is ">=" or "<="; met is computed from ratio.
add_result() {
  local w=$1 ours=$2 base=$3 ratio=$4 op=$5 goal=$6 unit=$7 met
  met=$(awk -v r="$ratio" -v g="$goal" -v op="$op" 'BEGIN {
          if (r == "NaN" || r == "") { print "n/a"; exit }
          ok = (op == ">=") ? (r + 0 >= g + 0) : (r + 0 <= g + 0); print ok ? "yes" : "NO" }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$w" "$(fmt_val "$ours" "$unit")" "$(fmt_val "$base" "$unit")" \
    "$(fmt_ratio "$ratio")" "$op $goal" "$met" >>"$BENCH_OUT/results.tsv"
}

# A row for information only (no goal).
add_info() {   # workload ours baseline ratio unit note
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$(fmt_val "$2" "$5")" "$(fmt_val "$3" "$5")" \
    "$(fmt_ratio "$4")" "${6:--}" "-" >>"$BENCH_OUT/results.tsv"
}

fmt_val() {   # value unit
  awk -v v="$1" -v u="$2" 'BEGIN {
    if (v == "" || v == "NaN" || v == "-") { print "-"; exit }
    if (u == "tps") printf "%.0f tps\n", v
    else if (u == "ms") printf (v < 100 ? "%.1f ms\n" : "%.0f ms\n"), v
    else printf "%s %s\n", v, u }'
}

fmt_ratio() { awk -v r="$1" 'BEGIN { if (r == "" || r == "NaN") print "-"; else printf "%.2f\n", r }'; }

# ---- pgbench ----

# Each pgbench run gets a new number (kept in a file: callers run us in $(...) subshells);
# it names the run's output file and makes order ids unique across runs.
next_run_id() {
  local f="$BENCH_OUT/.run_id" id=0
  [ -f "$f" ] && id=$(cat "$f")
  id=$((id + 1)); echo "$id" >"$f"; echo "$id"
}

# pgbench_tps script clients seconds seed -> prints tps; fails on any failed transaction
pgbench_tps() {
  local script=$1 clients=$2 secs=$3 seed=$4 out tps failed id
  id=$(next_run_id)
  out="$BENCH_OUT/pgbench.$id.txt"
  if ! pgbench -n -M prepared -c "$clients" -j "$clients" -T "$secs" --random-seed="$seed" \
       -D n=0 -D run="$id" -f "$script" >"$out" 2>&1; then
    blog "pgbench failed ($script, $clients clients): see $out"; tail -n 5 "$out" >&2; return 1
  fi
  failed=$(awk '/number of failed transactions:/ { print $5 }' "$out")
  if [ -n "$failed" ] && [ "$failed" != 0 ]; then
    blog "pgbench: $failed failed transactions in $script: see $out"; return 1
  fi
  tps=$(awk '/^tps = / { print $3; exit }' "$out")
  [ -n "$tps" ] || { blog "no tps in $out"; return 1; }
  echo "$tps"
}

# pgbench_stmt_ms script patterns [var=value ...] -> runs the script once (one transaction)
# and prints the summed latency (ms) of the statements whose text contains any of the
# '|'-separated patterns (pgbench -r per-statement latencies).
pgbench_stmt_ms() {
  local script=$1 patterns=$2 out ms d=() v
  shift 2
  for v in "$@"; do d+=(-D "$v"); done
  out="$BENCH_OUT/pgbench.$(next_run_id).txt"
  if ! pgbench -n -M simple -c 1 -t 1 -r "${d[@]}" -f "$script" >"$out" 2>&1; then
    blog "pgbench failed ($script): see $out"; tail -n 5 "$out" >&2; return 1
  fi
  if grep -q 'number of failed transactions: [1-9]' "$out"; then
    blog "pgbench: failed transaction in $script: see $out"; return 1
  fi
  ms=$(awk -v p="$patterns" 'BEGIN { np = split(p, pat, "|") }
         f { for (i = 1; i <= np; i++) if (index($0, pat[i])) { s += $1; hit++; break } }
         /statement latencies/ { f = 1 }
         END { if (hit) printf "%.3f\n", s }' "$out")
  [ -n "$ms" ] || { blog "no latency for '$patterns' in $out"; return 1; }
  echo "$ms"
}

# ---- the engine being measured ----

engine_fingerprint() {
  local so; so="$("$PG_CONFIG" --pkglibdir)/pg_backorder.so"
  printf 'commit %s%s, installed .so md5 %s' \
    "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')" \
    "$(git -C "$ROOT" status --porcelain -- src sql 2>/dev/null | grep -q . && echo ' + uncommitted changes in src/ or sql/')" \
    "$(md5sum "$so" 2>/dev/null | cut -c1-12 || echo '?')"
}

machine_summary() {
  local cpu; cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
  printf '%s, %s cores, %s GB RAM, %s' "${cpu:-unknown CPU}" "$(nproc)" \
    "$(awk '/MemTotal/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)" \
    "$(psql -XAtc 'SHOW server_version' 2>/dev/null | sed 's/^/PostgreSQL /')"
}

# ---- hooks written by other issues (bench/mixed, bench/forecast) ----
#
# Contract: bench/run calls `bash bench/<name>/run` with PGHOST, PGPORT, PGUSER set to the
# bench cluster, PGDATABASE set to a fresh database where pg_backorder is installed,
# BENCH_RESULTS set to the results file and BENCH_OUT to the output directory.  The hook
# appends its rows to $BENCH_RESULTS, tab-separated:
#     workload  ours  baseline  ratio  goal  met
# (e.g. "mixed, 8 clients, 60 s<TAB>812 tps, 0 errors<TAB>-<TAB>-<TAB>0 errors<TAB>yes")
# and exits non-zero on failure.  Its stdout and stderr go to $BENCH_OUT/<name>.log.
run_hook() {
  local name=$1 label=$2 before after rc=0
  if [ "$name" = mixed ] && [ ! -f "$BENCH_DIR/mixed/run" ] && [ -f "$BENCH_DIR/mixed/run.sh" ]; then
    run_mixed_sh "$label"; return 0
  fi
  if [ ! -f "$BENCH_DIR/$name/run" ]; then
    blog "$name: bench/$name/run not present yet; skipped (hook ready: see bench/lib/common.sh)"
    printf '%s\t-\t-\t-\t-\tnot run (no bench/%s/run)\n' "$label" "$name" >>"$BENCH_OUT/results.tsv"
    return 0
  fi
  PGOPTIONS="-c client_min_messages=warning" psql_q -c "DROP DATABASE IF EXISTS bench_$name" \
    -c "CREATE DATABASE bench_$name"
  psql_q -d "bench_$name" -c "CREATE EXTENSION pg_backorder"
  before=$(wc -l <"$BENCH_OUT/results.tsv")
  blog "$name: running bench/$name/run"
  PGDATABASE="bench_$name" BENCH_RESULTS="$BENCH_OUT/results.tsv" BENCH_OUT="$BENCH_OUT" \
    bash "$BENCH_DIR/$name/run" >"$BENCH_OUT/$name.log" 2>&1 || rc=$?
  after=$(wc -l <"$BENCH_OUT/results.tsv")
  if [ "$rc" -ne 0 ]; then
    printf '%s\t-\t-\t-\t-\tFAILED (exit %s, see %s.log)\n' "$label" "$rc" "$name" >>"$BENCH_OUT/results.tsv"
  elif [ "$after" -eq "$before" ]; then
    printf '%s\t-\t-\t-\t-\tran; no result row (see %s.log)\n' "$label" "$name" >>"$BENCH_OUT/results.tsv"
  fi
}

# bench/mixed/run.sh (the reliability issue's script) has its own interface: with
# BENCH_USE_CLUSTER=1 it uses our cluster, creates its database, runs pgbench with 8 clients
# (60 s unless BENCH_MIXED_SECONDS says otherwise) and ends with "N passed, N failed" (no
# aborted client, no deadlock or serialization failure, check_invariants() empty).
run_mixed_sh() {
  local label=$1 log="$BENCH_OUT/mixed.log" rc=0 tps summary secs=${BENCH_MIXED_SECONDS:-60} met
  blog "mixed: running bench/mixed/run.sh (8 clients, $secs s)"
  # client_min_messages=warning: the script's expected NOTICEs (already shipped ...) would
  # otherwise crowd pgbench's summary out of the part of its log that run.sh prints
  PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" \
    BENCH_USE_CLUSTER=1 bash "$BENCH_DIR/mixed/run.sh" -T "$secs" >"$log" 2>&1 || rc=$?
  local txs fails dl ser fails_txt
  tps=$(awk '/^tps = / { printf "%.0f", $3; exit }' "$log")
  # fallback: the mean of the 10-second progress reports
  [ -n "$tps" ] || tps=$(awk '/^progress: .* tps/ { for (i = 1; i < NF; i++) if ($(i + 1) == "tps,") { s += $i; n++ } }
                             END { if (n) printf "%.0f", s / n }' "$log")
  txs=$(sed -nE 's/^number of transactions actually processed: ([0-9]+).*/\1/p' "$log" | head -n 1)
  fails=$(sed -nE 's/^number of failed transactions: ([0-9]+).*/\1/p' "$log" | head -n 1)
  dl=$(sed -nE 's/^number of deadlock failures: ([0-9]+).*/\1/p' "$log" | head -n 1)
  ser=$(sed -nE 's/^number of serialization failures: ([0-9]+).*/\1/p' "$log" | head -n 1)
  summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
  met=NO; [ "$rc" = 0 ] && [[ "$summary" == *" 0 failed" ]] && met=yes
  fails_txt="${fails:-?} errors"
  [ "${fails:-0}" = 0 ] || fails_txt="${fails} errors (${dl:-?} deadlocks, ${ser:-?} serialization) of ${txs:-?} tx"
  blog "mixed: ${tps:-?} tps, $fails_txt; checks: ${summary:-none} (exit $rc); log $log"
  printf '%s, %s s\t%s\t-\t-\t0 errors, invariants hold\t%s\n' "$label" "$secs" \
    "${tps:-?} tps, $fails_txt; checks ${summary:-missing}" "$met" >>"$BENCH_OUT/results.tsv"
}
