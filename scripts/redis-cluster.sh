#!/usr/bin/env bash
# A local Redis Cluster for the tests: three primaries and three replicas on 127.0.0.1, ports
# REDIS_CLUSTER_PORT..+5 (default 7100-7105), no persistence, data under /tmp.
#   scripts/redis-cluster.sh start        start it (or keep it, if all six answer and it is healthy)
#   scripts/redis-cluster.sh stop         stop every node and remove its data
#   scripts/redis-cluster.sh status       exit 0 when the cluster is up and its state is ok
#   scripts/redis-cluster.sh start-node P start one stopped node again (it rejoins from its nodes.conf)
set -euo pipefail

BASE=${REDIS_CLUSTER_PORT:-7100}
PORTS=$(seq "$BASE" $((BASE + 5)))
ROOT=${REDIS_CLUSTER_DIR:-/tmp/recoder-redis-cluster-$BASE}
# a primary unreachable for this long is failed over to its replica
NODE_TIMEOUT_MS=${REDIS_CLUSTER_NODE_TIMEOUT_MS:-1000}

answers() { redis-cli -h 127.0.0.1 -p "$1" ping >/dev/null 2>&1; }
healthy() {
  for port in $PORTS; do
    answers "$port" || return 1
    redis-cli -h 127.0.0.1 -p "$port" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || return 1
  done
  # three primaries, each with its replica
  [ "$(redis-cli -h 127.0.0.1 -p "$BASE" cluster nodes | grep -c master)" = 3 ]
}

start_node() {
  local port=$1
  mkdir -p "$ROOT/$port"
  redis-server --port "$port" --bind 127.0.0.1 --daemonize yes \
    --cluster-enabled yes --cluster-config-file "$ROOT/$port/nodes.conf" \
    --cluster-node-timeout "$NODE_TIMEOUT_MS" --cluster-replica-validity-factor 0 \
    --save "" --appendonly no --dir "$ROOT/$port" --logfile "$ROOT/$port/redis.log" \
    --pidfile "$ROOT/$port/redis.pid" 9>&- </dev/null >/dev/null 2>&1
  for _ in $(seq 1 50); do answers "$port" && return 0; sleep 0.1; done
  echo "redis-cluster: node $port did not start (see $ROOT/$port/redis.log)" >&2
  return 1
}

stop() {
  for port in $PORTS; do
    answers "$port" && redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 || true
  done
  rm -rf "$ROOT"
}

start() {
  if healthy; then return 0; fi
  # anything half there (a node down, a cluster never created) is started afresh
  stop
  for port in $PORTS; do start_node "$port"; done
  # shellcheck disable=SC2046
  redis-cli --cluster create $(for port in $PORTS; do printf '127.0.0.1:%s ' "$port"; done) \
    --cluster-replicas 1 --cluster-yes >"$ROOT/create.log" 2>&1 ||
    { cat "$ROOT/create.log" >&2; exit 1; }
  for _ in $(seq 1 100); do healthy && { echo "redis-cluster: up on 127.0.0.1:$BASE-$((BASE + 5))"; return 0; }; sleep 0.2; done
  echo "redis-cluster: the cluster did not become healthy" >&2
  exit 1
}

# one caller at a time: two test runs starting it at once would each create a cluster
exec 9>"/tmp/recoder-redis-cluster-$BASE.lock"
flock 9
case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) healthy ;;
  start-node) start_node "${2:?port}" ;;
  *) echo "usage: $0 start|stop|status|start-node PORT" >&2; exit 2 ;;
esac
