#!/usr/bin/env bash
# Makes a PostgreSQL database available to the tests: installs PostgreSQL from
# Debian's packages when it is missing, starts a cluster listening on
# 127.0.0.1, creates a user and a database, and prints on stdout the one line
#
#   export AMPSFLUME_TEST_POSTGRES_URL=postgres://...
#
# so that `eval "$(.ci/postgres.sh)"` sets it. Everything else goes to stderr.
# Safe to run again: it reuses what exists. Needs root (or sudo) for apt and
# for running commands as the postgres user.
set -euo pipefail

user=${AMPSFLUME_PG_USER:-ampsflume}
password=${AMPSFLUME_PG_PASSWORD:-ampsflume}
db=${AMPSFLUME_PG_DB:-ampsflume_test}

log() { echo "postgres.sh: $*" >&2; }

if [ "$(id -u)" = 0 ]; then
	sudo=()
	as_pg=(runuser -u postgres --)
else
	sudo=(sudo)
	as_pg=(sudo -u postgres)
fi

if ! compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null; then
	log "installing PostgreSQL"
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update >&2
	"${sudo[@]}" apt-get install -y postgresql >&2
fi
bindir=$(dirname "$(compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' | sort -V | tail -n 1)")
version=$(basename "$(dirname "$bindir")")

# The socket directory is missing in some containers after a reboot.
"${sudo[@]}" install -d -o postgres -g postgres -m 2775 /var/run/postgresql

if command -v pg_ctlcluster >/dev/null; then
	# Debian's wrappers: use the first cluster of the newest version, or
	# create one.
	cluster=$(pg_lsclusters -h 2>/dev/null | awk -v v="$version" '$1 == v { print $2; exit }')
	if [ -z "$cluster" ]; then
		cluster=main
		log "creating cluster $version/$cluster"
		"${sudo[@]}" pg_createcluster "$version" "$cluster" >&2
	fi
	port=$(pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { print $3 }')
	if ! pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { print $4 }' | grep -q online; then
		log "starting cluster $version/$cluster on port $port"
		"${sudo[@]}" pg_ctlcluster "$version" "$cluster" start -- -o "-c listen_addresses=127.0.0.1" >&2 ||
			"${sudo[@]}" pg_ctlcluster "$version" "$cluster" start >&2
	fi
else
	# No wrappers: a cluster of our own, started with pg_ctl.
	data=/var/lib/postgresql/ampsflume-$version
	port=${AMPSFLUME_PG_PORT:-5432}
	if [ ! -s "$data/PG_VERSION" ]; then
		log "initdb $data"
		"${sudo[@]}" install -d -o postgres -g postgres -m 700 "$data"
		"${as_pg[@]}" "$bindir/initdb" -D "$data" --auth-local=peer --auth-host=scram-sha-256 >&2
	fi
	if ! "${as_pg[@]}" "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
		log "starting $data on port $port"
		"${as_pg[@]}" "$bindir/pg_ctl" -D "$data" -l "$data/server.log" -w \
			-o "-c listen_addresses=127.0.0.1 -p $port -k /var/run/postgresql" start >&2
	fi
fi

for _ in $(seq 1 60); do
	if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port"; then
		break
	fi
	sleep 0.5
done
"$bindir/pg_isready" -h 127.0.0.1 -p "$port" >&2

psql_pg() { "${as_pg[@]}" psql -X -q -v ON_ERROR_STOP=1 -p "$port" -h /var/run/postgresql "$@"; }

psql_pg -d postgres -v user="$user" -v password="$password" >&2 <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'user', :'password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'user') \gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'user', :'password') \gexec
SQL
if [ -z "$(psql_pg -d postgres -tA -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]; then
	log "creating database $db"
	psql_pg -d postgres -c "CREATE DATABASE \"$db\" OWNER \"$user\"" >&2
fi

url="postgres://$user:$password@127.0.0.1:$port/$db?sslmode=disable"
# Check the URL the tests will use, over TCP with the password.
PGPASSWORD=$password "$bindir/psql" -X -q -h 127.0.0.1 -p "$port" -U "$user" -d "$db" -tA -c 'SELECT 1' >/dev/null
log "ready: $db on 127.0.0.1:$port"
echo "export AMPSFLUME_TEST_POSTGRES_URL=$url"
