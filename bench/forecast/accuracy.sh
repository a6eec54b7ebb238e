#!/usr/bin/env bash
# bench/forecast/accuracy.sh [DATA_DIR] — forecast accuracy on real data, in a throwaway cluster:
#   carparts_accuracy.sql  median MASE / RMSSE of SES, Croston, SBA, TSB, the mean and the
#                          automatic choice on the car parts data (fit 1-45, forecast 46-51)
#   backorders_auc.sql     ROC-AUC of stockout_probability on product_backorders
# and, if R with the forecast package is installed, carparts_accuracy.R (the single methods
# computed by R, to cross-check the SQL figures).  DATA_DIR defaults to ../shared/data.
# BENCH_BUILD=0 measures the extension already installed.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DATA=$(cd "${1:-$ROOT/../shared/data}" && pwd)
# shellcheck source=../../test/lib/cluster.sh
source "$ROOT/test/lib/cluster.sh"
ensure_packages
[ "${BENCH_BUILD:-1}" = 1 ] && build_and_install
start_cluster
psql_q -c "CREATE DATABASE forecast_accuracy"
psql_q -d forecast_accuracy -c "CREATE EXTENSION pg_backorder"
psql -X -q -d forecast_accuracy -v data_dir="$DATA" -f "$HERE/carparts_accuracy.sql"
psql -X -q -d forecast_accuracy -v data_dir="$DATA" -f "$HERE/backorders_auc.sql"
if command -v Rscript >/dev/null && Rscript -e 'library(forecast)' >/dev/null 2>&1; then
  echo; echo "R cross-check (bench/forecast/carparts_accuracy.R):"
  Rscript "$HERE/carparts_accuracy.R" "$DATA"
fi
