#!/usr/bin/env bash
# mariadb-replication.sh — a throw-away MariaDB primary and an asynchronous replica on loopback,
# beside (never touching) the machine's own server on 3306. ../shared/tools/topologies.sh has
# PgBouncer, a PostgreSQL standby and Galera, but no MySQL-style replication; this is that.
#
#   mariadb-replication.sh up | down | status
#
#   primary  127.0.0.1:$REPL_PRIMARY_PORT, binlog on (ROW), server_id 1, database $REPL_DB
#   replica  127.0.0.1:$REPL_REPLICA_PORT, server_id 2, read_only, replicating with GTID
#   root without password over TCP on both.
#
# One mariadb-install-db, its data folder copied for the replica before either starts (so both
# begin identical and the replica replays the primary's binlog from its first event). Measured
# here: up ~3 s, down ~1 s, ~90 MB RSS per server. Needs root (servers run as mysql).
set -euo pipefail

TOPO_ROOT=${TOPO_ROOT:-/tmp/covet-topologies}
WAIT_S=${WAIT_S:-60}
MY_OS_USER=${MY_OS_USER:-mysql}
REPL_PRIMARY_PORT=${REPL_PRIMARY_PORT:-4316}
REPL_REPLICA_PORT=${REPL_REPLICA_PORT:-4317}
REPL_DB=${REPL_DB:-covet}
DIR=$TOPO_ROOT/mariadb-repl

log() { printf '[mariadb-replication %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
my_at() { mariadb --no-defaults --protocol=TCP -h 127.0.0.1 -P "$1" -uroot -N -B -e "$2"; }
my_sock() { mariadb --no-defaults --socket="$DIR/$1/mariadbd.sock" -uroot -N -B -e "$2"; }
port_busy() { ss -Hltn "sport = :$1" | grep -q .; }
wait_for() {
  local what=$1; shift
  local end=$(( $(date +%s) + WAIT_S ))
  until "$@" >/dev/null 2>&1; do
    (( $(date +%s) < end )) || { log "timed out after ${WAIT_S}s waiting for $what"; return 1; }
    sleep 0.2
  done
}
pid_of() { [[ -f $DIR/$1/mariadbd.pid ]] && cat "$DIR/$1/mariadbd.pid"; }

cnf() { # cnf NAME PORT SERVER_ID EXTRA...
  local name=$1 port=$2 id=$3; shift 3
  cat >"$DIR/$name/my.cnf" <<EOF
[mariadbd]
user = $MY_OS_USER
datadir = $DIR/$name/data
socket = $DIR/$name/mariadbd.sock
pid-file = $DIR/$name/mariadbd.pid
log-error = $DIR/$name/error.log
port = $port
bind-address = 127.0.0.1
skip-name-resolve
server_id = $id
character-set-server = utf8mb4
innodb_buffer_pool_size = 32M
innodb_log_file_size = 16M
innodb_flush_log_at_trx_commit = 2
sync_binlog = 0
performance_schema = OFF
max_connections = 60
$(printf '%s\n' "$@")
EOF
}

start() { # start NAME PORT
  setsid /usr/sbin/mariadbd --defaults-file="$DIR/$1/my.cnf" >>"$DIR/$1/stdout.log" 2>&1 </dev/null &
  wait_for "$1 on $2" my_sock "$1" "SELECT 1" || { tail -20 "$DIR/$1/error.log" >&2; return 1; }
}

up() {
  local t0=$SECONDS
  [[ -n $(pid_of primary 2>/dev/null) ]] && kill -0 "$(pid_of primary)" 2>/dev/null && die "already up"
  local p; for p in "$REPL_PRIMARY_PORT" "$REPL_REPLICA_PORT"; do port_busy "$p" && die "port $p is in use"; done
  rm -rf "$DIR"; mkdir -p "$DIR/primary/data" "$DIR/replica"
  cnf primary "$REPL_PRIMARY_PORT" 1 "log-bin = mysql-bin" "binlog_format = ROW"
  cnf replica "$REPL_REPLICA_PORT" 2 "read_only = ON" "relay-log = relay-bin"
  chown -R "$MY_OS_USER:" "$DIR"
  runuser -u "$MY_OS_USER" -- test -x "$DIR" || die "$DIR is not reachable by $MY_OS_USER"
  mariadb-install-db --defaults-file="$DIR/primary/my.cnf" --user="$MY_OS_USER" \
    --datadir="$DIR/primary/data" --auth-root-authentication-method=normal --skip-test-db \
    --skip-name-resolve >"$DIR/install.log" 2>&1 || { tail -20 "$DIR/install.log" >&2; die "install-db failed"; }
  cp -a "$DIR/primary/data" "$DIR/replica/data"
  start primary "$REPL_PRIMARY_PORT" || die "the primary did not start"
  my_sock primary "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'; GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION; CREATE DATABASE IF NOT EXISTS \`$REPL_DB\`"
  start replica "$REPL_REPLICA_PORT" || die "the replica did not start"
  my_sock replica "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$REPL_PRIMARY_PORT, MASTER_USER='root', MASTER_PASSWORD='', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1; START SLAVE"
  wait_for "the replica to catch up" bash -c "[[ -n \$(mariadb --no-defaults --protocol=TCP -h 127.0.0.1 -P $REPL_REPLICA_PORT -uroot -N -B -e \"SHOW DATABASES LIKE '$REPL_DB'\") ]]" \
    || { my_sock replica "SHOW SLAVE STATUS\\G" >&2 || true; die "the replica is not replicating"; }
  log "primary 127.0.0.1:$REPL_PRIMARY_PORT + replica 127.0.0.1:$REPL_REPLICA_PORT up in $((SECONDS - t0))s"
  echo "primary: mysql://root@127.0.0.1:$REPL_PRIMARY_PORT/$REPL_DB"
  echo "replica: mysql://root@127.0.0.1:$REPL_REPLICA_PORT/$REPL_DB"
}

down() {
  local name pid end
  for name in replica primary; do
    pid=$(pid_of "$name" 2>/dev/null || true)
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
      end=$(( $(date +%s) + WAIT_S ))
      while kill -0 "$pid" 2>/dev/null; do
        (( $(date +%s) < end )) || { kill -KILL "$pid" 2>/dev/null || true; break; }
        sleep 0.1
      done
    fi
  done
  rm -rf "$DIR"
}

status() {
  local name port
  for name in primary replica; do
    port=$REPL_PRIMARY_PORT; [[ $name == replica ]] && port=$REPL_REPLICA_PORT
    if [[ -n $(pid_of "$name" 2>/dev/null) ]] && kill -0 "$(pid_of "$name")" 2>/dev/null; then
      echo "$name: up, 127.0.0.1:$port"
    else
      echo "$name: down"
    fi
  done
}

[[ $(id -u) == 0 ]] || die "run as root (the servers run as $MY_OS_USER)"
case ${1:-} in
  up) up ;;
  down) down ;;
  status) status ;;
  *) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
