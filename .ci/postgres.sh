#!/usr/bin/env bash
# Installs (if needed) and starts Debian's PostgreSQL 15 with a test role, then prints the connection string
# for OPENVRET_TEST_POSTGRES. Prints nothing (and the PostgreSQL tests skip with a message) when it cannot.
set -uo pipefail
if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ ! -d /usr/lib/postgresql/15 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15) >&2 || { echo "note: could not install PostgreSQL" >&2; exit 0; }
  else
    echo "note: PostgreSQL not installed and not root; PostgreSQL tests will be skipped" >&2; exit 0
  fi
fi
[ -d /etc/postgresql/15/main ] || pg_createcluster 15 main >&2 || exit 0
pg_ctlcluster 15 main start >&2 2>/dev/null || pg_ctlcluster 15 main status >/dev/null 2>&1 || { echo "note: PostgreSQL did not start" >&2; exit 0; }
for i in $(seq 1 30); do su postgres -c "psql -qAtc 'select 1'" >/dev/null 2>&1 && break; sleep 1; done
# A throwaway role for the test databases; the password only guards this CI machine's loopback server.
pw="ci-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
su postgres -c "psql -qAtc \"DO \\\$\\\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='openvret_test') THEN CREATE ROLE openvret_test LOGIN CREATEDB; END IF; END \\\$\\\$;\"" >&2 || exit 0
su postgres -c "psql -qAtc \"ALTER ROLE openvret_test PASSWORD '$pw'\"" >&2 || exit 0
echo "Host=127.0.0.1;Port=5432;Database=postgres;Username=openvret_test;Password=$pw"
