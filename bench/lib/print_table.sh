#!/usr/bin/env bash
# bench/lib/print_table.sh [results.tsv] — prints bench results as one aligned table.
# Input rows (tab-separated): workload, ours, baseline, ratio, goal, met.
# With BENCH_MARKDOWN=1 it prints a Markdown table instead (for the README).
f=${1:-/dev/stdin}
awk -F'\t' -v md="${BENCH_MARKDOWN:-0}" '
  BEGIN { n = 1; split("workload|ours|baseline|ratio|goal|met", h, "|")
          for (i = 1; i <= 6; i++) { c[1, i] = h[i]; w[i] = length(h[i]) } }
  NF >= 1 && $0 !~ /^#/ { n++; for (i = 1; i <= 6; i++) { v = (i <= NF && $i != "") ? $i : "-"
                                 c[n, i] = v; if (length(v) > w[i]) w[i] = length(v) } }
  END {
    for (r = 1; r <= n; r++) {
      line = md ? "|" : ""
      for (i = 1; i <= 6; i++) {
        fmt = (i == 6 && !md) ? "%s" : (i == 1 || md) ? "%-" w[i] "s" : "%" w[i] "s"
        cell = sprintf(fmt, c[r, i])
        line = line (md ? " " cell " |" : (i > 1 ? "  " : "") cell)
      }
      print line
      if (r == 1) {
        line = md ? "|" : ""
        for (i = 1; i <= 6; i++) { d = ""; for (k = 0; k < w[i]; k++) d = d "-"
                                   line = line (md ? " " d " |" : (i > 1 ? "  " : "") d) }
        print line
      }
    }
  }' "$f"
