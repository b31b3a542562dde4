#!/usr/bin/env bash
# A local copy of the production set-up: N Streamlit replicas and the read-only Open Referral UK
# API on free ports of 127.0.0.1 behind HAProxy on PORT (deploy/haproxy.cfg: sticky cookie, health
# checks, websocket timeouts for the app; /oruk/ to the API, its prefix stripped).
#
#   bash deploy/local-cluster.sh up N PORT   start; returns once the balancer answers healthy
#   bash deploy/local-cluster.sh down        stop exactly the processes `up` started
#
# PIDs: deploy/.run/replicas.pid (one per line, replica 1 first; its cookie is r1),
# deploy/.run/oruk.pid (the API) and deploy/.run/haproxy.pid; logs, ports and the rendered
# haproxy.cfg are there too (git ignores it).
# LOCAL_CLUSTER_RUN_DIR puts them elsewhere (the tests use their own). Bad use: one line, exit 2.
set -euo pipefail

DEPLOY=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$DEPLOY")
RUN=${LOCAL_CLUSTER_RUN_DIR:-$DEPLOY/.run}
# The project's venv first, so `python` is the one with the requirements installed.
if [ -x "$ROOT/.venv/bin/python" ]; then PATH="$ROOT/.venv/bin:$PATH"; fi

# Each replica runs exactly the container's command (deploy/Dockerfile CMD; a test checks they
# are the same); address and port come from the environment, as in the container.
REPLICA_CMD=(python -m streamlit run app.py)
# The API runs the image's other command (deploy/k8s/oruk-deployment.yaml; a test checks they
# match), on its own free port.
ORUK_CMD=(python -m finder api --root-path /oruk)
START_TIMEOUT=${LOCAL_CLUSTER_TIMEOUT:-120}

usage() { refuse "$1 (usage: bash deploy/local-cluster.sh up N PORT | down)"; }

refuse() {  # bad use: one line, exit 2, nothing started or stopped
  echo "local-cluster: $1" >&2
  exit 2
}

say() { echo "local-cluster: $*" >&2; }

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

port_free() {
  python - "$1" <<'PY'
import socket, sys
with socket.socket() as s:
    # As HAProxy binds: connections closing on the port (TIME_WAIT) do not make it "in use".
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", int(sys.argv[1])))
    except OSError:
        sys.exit(1)
PY
}

free_port() {
  python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

healthy() {  # healthy PORT [PATH]: Streamlit's health answer, or the API's (/health)
  curl -fsS --max-time 2 "http://127.0.0.1:$1${2:-/_stcore/health}" >/dev/null 2>&1
}

running_pids() {
  local file
  for file in "$RUN/haproxy.pid" "$RUN/replicas.pid" "$RUN/oruk.pid"; do
    [ -f "$file" ] || continue
    while read -r pid; do alive "$pid" && echo "$pid"; done <"$file"
  done
  return 0
}

# A PID from our files is stopped only while it is still the process we started (PIDs are reused).
ours() {
  local cmdline
  cmdline=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
  [[ $cmdline == *streamlit* || $cmdline == *haproxy* || $cmdline == *finder* ]]
}

start_replicas() {  # start_replicas N: N replicas of the finder, server lines for "finder"
  local i port
  : >"$RUN/replicas.pid"
  : >"$RUN/servers-finder.cfg"
  for ((i = 1; i <= $1; i++)); do
    port=$(free_port)
    (cd "$ROOT" && STREAMLIT_SERVER_ADDRESS=127.0.0.1 STREAMLIT_SERVER_PORT=$port \
      exec "${REPLICA_CMD[@]}" </dev/null >"$RUN/replica-$i.log" 2>&1) &
    echo "$!" >>"$RUN/replicas.pid"
    echo "$port" >>"$RUN/replicas.ports"
    echo "    server replica$i 127.0.0.1:$port cookie r$i" >>"$RUN/servers-finder.cfg"
  done
}

start_oruk() {  # the Open Referral UK API on a free port, its server line for "oruk"
  local port
  port=$(free_port)
  # Its own access log stays off (finder api): the balancer in front of it logs nothing either.
  (cd "$ROOT" && exec "${ORUK_CMD[@]}" --host 127.0.0.1 --port "$port" </dev/null >"$RUN/oruk.log" 2>&1) &
  echo "$!" >"$RUN/oruk.pid"
  echo "$port" >"$RUN/oruk.port"
  echo "    server oruk1 127.0.0.1:$port" >"$RUN/servers-oruk.cfg"
}

render_config() {  # deploy/haproxy.cfg with each "# @servers NAME" marker followed by its servers
  awk -v run="$RUN" '
    { print }
    /# @servers [a-z]+$/ {
      file = run "/servers-" $NF ".cfg"
      while ((getline line < file) > 0) print line
      close(file)
    }' "$DEPLOY/haproxy.cfg" >"$RUN/haproxy.cfg"
}

wait_healthy() {  # every replica and the API answer, then the balancer does
  local deadline=$((SECONDS + START_TIMEOUT)) i=0 pid port
  while read -r pid && read -r port <&3; do
    i=$((i + 1))
    until healthy "$port"; do
      alive "$pid" || { say "replica $i exited while starting; see $RUN/replica-$i.log"; return 1; }
      [ $SECONDS -lt $deadline ] || { say "replica $i did not answer within ${START_TIMEOUT}s"; return 1; }
      sleep 0.3
    done
  done <"$RUN/replicas.pid" 3<"$RUN/replicas.ports"
  until healthy "$(cat "$RUN/oruk.port")" /health; do
    alive "$(cat "$RUN/oruk.pid")" || { say "the Open Referral API exited while starting; see $RUN/oruk.log"; return 1; }
    [ $SECONDS -lt $deadline ] || { say "the Open Referral API did not answer within ${START_TIMEOUT}s"; return 1; }
    sleep 0.3
  done
  until healthy "$LB_PORT" && healthy "$LB_PORT" /oruk/health; do
    [ $SECONDS -lt $deadline ] || { say "the balancer did not answer within ${START_TIMEOUT}s"; return 1; }
    sleep 0.2
  done
}

up() {
  [ $# -eq 2 ] || usage "up needs N and PORT"
  local n=$1 port=$2
  [[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 16 ] || usage "N must be a number of replicas from 1 to 16, not '$n'"
  [[ $port =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] || usage "PORT must be a port number, not '$port'"
  if [ -n "$(running_pids)" ]; then
    refuse "a cluster is already up (PIDs in $RUN); run 'bash deploy/local-cluster.sh down' first"
  fi
  port_free "$port" || refuse "port $port is in use"
  command -v haproxy >/dev/null || refuse "haproxy is not installed (Debian: apt-get install haproxy)"
  rm -rf "$RUN" && mkdir -p "$RUN"
  LB_PORT=$port
  # Every replica signs cookies with the same key, or a visitor moved to another replica when
  # theirs dies is refused there (XSRF): the operator's STREAMLIT_SERVER_COOKIE_SECRET, else a
  # new random one for this cluster, kept only in the replicas' environment.
  if [ -z "${STREAMLIT_SERVER_COOKIE_SECRET:-}" ]; then
    STREAMLIT_SERVER_COOKIE_SECRET=$(python -c 'import secrets; print(secrets.token_hex(32))')
  fi
  export STREAMLIT_SERVER_COOKIE_SECRET
  start_replicas "$n"
  start_oruk
  render_config
  FINDER_LB_RUN_DIR=$RUN FINDER_LB_ADDRESS=127.0.0.1 FINDER_LB_PORT=$port \
    haproxy -D -p "$RUN/haproxy.pid" -f "$RUN/haproxy.cfg" 2>"$RUN/haproxy.log" || {
    say "haproxy did not start: $(head -n 3 "$RUN/haproxy.log" | tr '\n' ' ')"
    down >/dev/null 2>&1 || true
    exit 1
  }
  if ! wait_healthy; then
    down >/dev/null 2>&1 || true
    exit 1
  fi
  echo "cluster up: http://127.0.0.1:$port ($n replicas on ports $(paste -sd, "$RUN/replicas.ports");" \
    "the Open Referral UK API at http://127.0.0.1:$port/oruk/, port $(cat "$RUN/oruk.port"); PIDs in $RUN)"
}

down() {
  [ $# -eq 0 ] || usage "down takes no arguments"
  local pids pid
  if [ ! -f "$RUN/haproxy.pid" ] && [ ! -f "$RUN/replicas.pid" ] && [ ! -f "$RUN/oruk.pid" ]; then
    refuse "nothing is running (no PID files in $RUN)"
  fi
  pids=$(running_pids)
  for pid in $pids; do ours "$pid" && kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 50); do
    [ -n "$(running_pids)" ] || break
    sleep 0.2
  done
  for pid in $(running_pids); do ours "$pid" && kill -KILL "$pid" 2>/dev/null || true; done
  rm -f "$RUN/haproxy.pid" "$RUN/replicas.pid" "$RUN/oruk.pid" "$RUN/haproxy.sock"
  echo "cluster down"
}

case "${1:-}" in
  up) shift; up "$@" ;;
  down) shift; down "$@" ;;
  *) usage "unknown command '${1:-}'" ;;
esac
