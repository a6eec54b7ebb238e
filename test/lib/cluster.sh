# Shared helpers for test/run, demo/run and bench/run.  Source it; it sets no shell options.
#   ensure_packages    install missing Debian packages (apt-get update only if needed)
#   build_and_install  make (warnings are errors) + make install
#   start_cluster [GUC=value ...]
#                      throwaway cluster on a Unix socket only; exports PGHOST, PGPORT,
#                      PGUSER, PGDATABASE, PGTMP; stops and deletes it on EXIT
#                      (BACKORDER_KEEP_CLUSTER=1 keeps $PGTMP for post-mortems)
#   psql_q ARGS...     quiet psql, unaligned, stops on the first error

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
# root needs no sudo; others use it for apt-get and make install
SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo

ensure_packages() {
  local pkgs=(postgresql-15 postgresql-server-dev-15 postgresql-15-pgtap
              libtap-parser-sourcehandler-pgtap-perl make gcc) missing=() p
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "== installing ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

build_and_install() {
  echo "== building with $PG_CONFIG"
  # COPT reaches CFLAGS in PGXS: any compiler warning fails the build
  make -C "$ROOT" -s --no-print-directory PG_CONFIG="$PG_CONFIG" COPT=-Werror
  $SUDO make -C "$ROOT" -s --no-print-directory PG_CONFIG="$PG_CONFIG" install
}

# initdb and postgres refuse to run as root: run server-side commands as the postgres user
_as_pg() {
  if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

start_cluster() {
  local bindir; bindir=$("$PG_CONFIG" --bindir)
  export PATH="$bindir:$PATH"   # our psql/pg_ctl, not Debian's version-picking wrappers
  PGTMP=$(mktemp -d -t pg_backorder.XXXXXX)
  [ "$(id -u)" -eq 0 ] && chown postgres: "$PGTMP"   # root still reaches the socket
  trap '_rc=$?; stop_cluster; exit $_rc' EXIT
  trap 'exit 130' INT; trap 'exit 143' TERM        # make signals run the EXIT trap too
  # The socket lives in our private dir and there is no TCP listener, so the port number
  # cannot collide with any other server; it only names the socket file.
  export PGHOST=$PGTMP PGPORT=${BACKORDER_PGPORT:-54329} PGUSER=postgres
  export PGDATABASE=postgres PGTMP
  if ! _as_pg initdb -D "$PGTMP/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
       >"$PGTMP/initdb.log" 2>&1; then
    cat "$PGTMP/initdb.log" >&2; return 1
  fi
  {
    echo "listen_addresses = ''"
    echo "unix_socket_directories = '$PGTMP'"
    echo "port = $PGPORT"
    echo "fsync = off"                 # throwaway data: durability buys nothing
    echo "synchronous_commit = off"
    echo "full_page_writes = off"
    echo "timezone = 'UTC'"            # stable timestamps in pgTAP/demo output
    printf '%s\n' "$@"                 # caller's extra settings
  } >>"$PGTMP/data/postgresql.conf"
  if ! _as_pg pg_ctl -D "$PGTMP/data" -l "$PGTMP/server.log" -w -t 60 start >/dev/null; then
    tail -n 30 "$PGTMP/server.log" >&2; return 1
  fi
  local _; for _ in $(seq 50); do pg_isready -q && break; sleep 0.2; done
  pg_isready -q || { echo "server not ready" >&2; return 1; }
  echo "== cluster up: socket $PGHOST, port $PGPORT, log $PGTMP/server.log"
}

stop_cluster() {
  [ -n "${PGTMP:-}" ] && [ -d "$PGTMP" ] || return 0
  [ -f "$PGTMP/data/postmaster.pid" ] && _as_pg pg_ctl -D "$PGTMP/data" -m fast -w stop >/dev/null 2>&1
  if [ "${BACKORDER_KEEP_CLUSTER:-0}" = 1 ]; then echo "== kept $PGTMP" >&2; else rm -rf "$PGTMP"; fi
  PGTMP=
}

psql_q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
