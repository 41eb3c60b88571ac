# pg.sh - a throwaway PostgreSQL cluster for tests and the demo (sourced).
#
#   pg_start DIR    initdb into DIR/data (if not there), start it on a Unix
#                   socket in DIR/socket only, create the roles (sql/roles.sql)
#                   and export PGHOST, PGPORT, PGUSER=attestd
#   pg_stop DIR [MODE]  stop it (pg_ctl -m MODE, default immediate); pg_start
#                   starts it again
#   pg_admin ...    psql as the cluster's superuser
#   pg_createdb N   a fresh database N owned by attestd
#
# The server runs with fsync, synchronous_commit and full_page_writes off,
# for speed; PG_SERVER_OPTIONS (postgres -c options) replaces those three.
# max_connections = 100: the integration files run 2 x cores at a time on
# one cluster, each with its service, commands, psql and console sessions.
#
# initdb refuses to run as root: as root the cluster runs as the 'postgres'
# system user (created by Debian's postgresql-common), or 'attestd-test'
# which is created when neither exists.

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
PG_SUPERUSER=attestd_admin

pg_run_as() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u "$PG_OS_USER" -- "$@"
	else
		"$@"
	fi
}

pg_pick_user() {
	if [ "$(id -u)" -ne 0 ]; then
		PG_OS_USER=$(id -un)
		return
	fi
	if id postgres >/dev/null 2>&1; then
		PG_OS_USER=postgres
	else
		id attestd-test >/dev/null 2>&1 ||
			useradd --system --no-create-home --shell /usr/sbin/nologin attestd-test
		PG_OS_USER=attestd-test
	fi
}

pg_start() {
	local dir=$1
	[ -x "$PG_BIN/initdb" ] || { echo "pg.sh: no PostgreSQL server binaries (install postgresql-15: make deps)" >&2; return 1; }
	pg_pick_user
	mkdir -p "$dir/socket"
	dir=$(cd "$dir" && pwd)
	if [ "$(id -u)" -eq 0 ]; then
		chown "$PG_OS_USER" "$dir" "$dir/socket"
		# The cluster user must be able to reach its directory.
		local d=$dir
		while [ "$d" != / ]; do chmod o+x "$d" 2>/dev/null; d=$(dirname "$d"); done
	fi
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		pg_run_as "$PG_BIN/initdb" -D "$dir/data" -U "$PG_SUPERUSER" --auth=trust \
			-E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 ||
			{ cat "$dir/initdb.log" >&2; return 1; }
	fi
	export PGHOST=$dir/socket PGPORT=5432 PGUSER=attestd
	# Already running (a demo run again): reuse it.
	if pg_run_as "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
		return 0
	fi
	pg_run_as "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
		-o "-c listen_addresses='' -k $dir/socket ${PG_SERVER_OPTIONS:--c fsync=off -c synchronous_commit=off -c full_page_writes=off} -c max_connections=100" \
		start >/dev/null || { cat "$dir/postgres.log" >&2; return 1; }
	pg_admin -q -f "$(dirname "${BASH_SOURCE[0]}")/../../sql/roles.sql" >/dev/null
}

# pg_cpu_ticks DIR: the CPU (clock ticks) of the cluster in DIR: the
# postmaster's own and its reaped children's (backends that have exited),
# plus its live children's (background workers, autovacuum, the backends
# still connected).  The benchmarks' figure of PostgreSQL's CPU.
pg_cpu_ticks() {
	local pm children t=0 c f
	pm=$(head -1 "$1/data/postmaster.pid")
	f=($(sed 's/^.*) //' "/proc/$pm/stat"))
	t=$((f[11] + f[12] + f[13] + f[14]))
	children=$(cat /proc/"$pm"/task/*/children 2>/dev/null)
	for c in $children; do
		f=($(sed 's/^.*) //' "/proc/$c/stat" 2>/dev/null)) || continue
		[ ${#f[@]} -gt 12 ] && t=$((t + f[11] + f[12]))
	done
	echo "$t"
}

# pg_backend_ticks DIR DB OUT: follows the backends of the cluster in DIR
# connected to database DB as user attestd (those of the attestd about to
# run: it may open more than one connection) and writes the sum of their
# CPU (clock ticks) to OUT every 50 ms, until OUT.stop exists: the file's
# database work without autovacuum and the background processes that
# pg_cpu_ticks counts too.  Run it in the background; after attestd exited,
# touch OUT.stop, wait for it, read OUT.  A backend's figure is read at
# most 50 ms before it exits.  The poller's own CPU is not the cluster's.
pg_backend_ticks() {
	local pm c line stat db=$2 out=$3 sum
	local -A ticks=()
	pm=$(head -1 "$1/data/postmaster.pid")
	rm -f "$out.stop"
	echo 0 > "$out"
	until [ -e "$out.stop" ]; do
		for c in $(cat /proc/"$pm"/task/*/children 2>/dev/null); do
			line=
			{ read -r -d '' line < /proc/"$c"/cmdline; } 2>/dev/null || :
			[[ $line == "postgres: attestd $db "* ]] || continue
			{ read -r stat < /proc/"$c"/stat; } 2>/dev/null || continue
			stat=${stat##*) }
			set -- $stat
			ticks[$c]=$(( ${12} + ${13} ))
		done
		sum=0
		for c in "${!ticks[@]}"; do sum=$((sum + ticks[$c])); done
		echo "$sum" > "$out"
		sleep 0.05
	done
}

pg_stop() {
	local dir=$1 mode=${2:-immediate}
	[ -f "$dir/data/postmaster.pid" ] || return 0
	pg_pick_user
	pg_run_as "$PG_BIN/pg_ctl" -D "$dir/data" -m "$mode" -w stop >/dev/null 2>&1
}

pg_admin() {
	psql -X -v ON_ERROR_STOP=1 -U "$PG_SUPERUSER" -d postgres "$@"
}

# STRATEGY FILE_COPY (PostgreSQL 15 and later): the default, WAL_LOG, writes
# the whole template into the WAL; copying its files and two checkpoints
# cost the server half the CPU (10 databases: 1.3 s against 0.6-0.8 s),
# and the tests create one or more per file.
pg_createdb() {
	local strategy=
	[[ $PG_BIN =~ /([0-9]+)/bin$ ]] && [ "${BASH_REMATCH[1]}" -ge 15 ] && strategy=" STRATEGY FILE_COPY"
	pg_admin -q -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS \"$1\"" -c "CREATE DATABASE \"$1\" OWNER attestd$strategy" >/dev/null
}
