#!/usr/bin/env bash
# Make sure a PostgreSQL server answers on 127.0.0.1:5432 (used by the shared-state tests).
# Use the running one if it answers; otherwise start an installed cluster; otherwise install
# PostgreSQL from the distribution's packages and start it.
set -uo pipefail

answers() {
    if command -v pg_isready >/dev/null 2>&1; then
        pg_isready -q -h 127.0.0.1 -p 5432
    else
        (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null
    fi
}

wait_up() {
    for _ in $(seq 1 30); do answers && return 0; sleep 1; done
    return 1
}

if answers; then echo "postgres: answering on 127.0.0.1:5432"; exit 0; fi

if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    echo "postgres: not installed; installing from the distribution's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
fi
version=$(ls /etc/postgresql | sort -V | tail -n 1)
pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || \
    pg_ctlcluster "$version" main start || true
if wait_up; then
    # Trust on loopback, as on the machines this project runs on; create the test database.
    su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='test'\"" | grep -q 1 || \
        su postgres -c "createdb test" || true
    echo "postgres: started $version"
    exit 0
fi
echo "postgres: could not start a server on 127.0.0.1:5432" >&2
exit 1
