#!/usr/bin/env bash
# Start the local Debian PostgreSQL server (as root) and create the test role and database.
# Prints the DATABASE_URL to use on its last line. Idempotent. PG_DB/PG_USER/PG_PASSWORD
# choose the names (default ser / ser / ser); the role may create databases (Django's tests
# make test_<name>).
set -euo pipefail
db="${PG_DB:-ser}" user="${PG_USER:-ser}" password="${PG_PASSWORD:-ser}"
if [ "$(id -u)" != 0 ]; then
  echo "scripts/postgres.sh must run as root (or set DATABASE_URL to an existing server)" >&2
  exit 1
fi
command -v pg_lsclusters >/dev/null || bash "$(dirname "$0")/install-system.sh"
cd /   # the postgres user may not be able to enter the current folder
cluster="$(pg_lsclusters --no-header | head -n1)"
if [ -z "$cluster" ]; then
  version="$(ls /usr/lib/postgresql | sort -V | tail -n1)"
  pg_createcluster "$version" main >/dev/null
  cluster="$(pg_lsclusters --no-header | head -n1)"
fi
read -r version name port status _ <<<"$cluster"
if [ "$status" != online ]; then
  pg_ctlcluster "$version" "$name" start
fi
for _ in $(seq 30); do
  runuser -u postgres -- pg_isready -q -p "$port" && break
  sleep 1
done
psql_admin() { runuser -u postgres -- psql -p "$port" -v ON_ERROR_STOP=1 -qtAX "$@"; }
if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$user'")" != 1 ]; then
  psql_admin -c "CREATE ROLE \"$user\" LOGIN CREATEDB PASSWORD '$password'"
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
  psql_admin -c "CREATE DATABASE \"$db\" OWNER \"$user\""
fi
echo "postgres://$user:$password@127.0.0.1:$port/$db"
