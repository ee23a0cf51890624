#!/bin/sh
# `make docker-test`: builds the image of docker/ with podman and runs it
# end to end against a throwaway PostgreSQL on this machine (host
# networking): tools/docker_test.py does the run, twice on one volume.
#
# No registry is reachable here, so the base image debian:12 is made from
# Debian's own packages (debootstrap --variant=minbase bookworm from the
# mirror apt uses) and imported once; later runs reuse it, and podman's
# layer cache keeps a rebuild of unchanged sources quick.
#   DOCKER_TEST_REBASE=1   make the base image again (a newer bookworm)
# The image (payout-gateway:test) is kept; the run's containers, volume
# and database are removed.
#   DOCKER_TEST_COMPOSE=0  skip the docker/compose.yaml check
# Runs as root (podman with runc and cgroupfs, as this machine allows).
set -eu

cd "$(dirname "$0")/.."

BASE=docker.io/library/debian:12
IMAGE=localhost/payout-gateway:test
PODMAN="podman --runtime runc --cgroup-manager=cgroupfs"
# crun and larger limits are refused on this kind of machine
LIMITS="--ulimit nofile=20000:20000 --ulimit nproc=4096:4096"
export PODMAN LIMITS IMAGE

if [ "$(id -u)" != 0 ]; then
    echo "docker-test: run as root (podman, debootstrap)" >&2
    exit 1
fi

tools/deps.sh docker

# The Debian mirror apt is configured with: the first URIs of a deb822
# source with suite bookworm, else a one-line "deb URL bookworm".
mirror() {
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk 'BEGIN { RS = ""; FS = "\n" }
             /Suites:[^\n]*bookworm( |\n|$)/ && /Types:[^\n]*deb( |\n|$)/ {
                 for (i = 1; i <= NF; i++)
                     if ($i ~ /^URIs:/) { split($i, a, " "); print a[2];
                                          exit }
             }' "$f"
    done | head -n 1 | grep . && return 0
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
        | awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' | grep . \
        && return 0
    echo http://deb.debian.org/debian
}

if [ "${DOCKER_TEST_REBASE:-0}" = 1 ] || ! podman image exists "$BASE"; then
    url=$(mirror)
    rootfs=$(mktemp -d /var/tmp/payout-rootfs.XXXXXX)
    trap 'rm -rf "$rootfs"' EXIT
    echo "docker-test: debootstrap bookworm from $url"
    debootstrap --variant=minbase bookworm "$rootfs" "$url" \
        > "$rootfs.log" 2>&1 || { tail -20 "$rootfs.log" >&2; exit 1; }
    rm -f "$rootfs.log"
    # what an image need not carry: downloaded packages and lists
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb \
           "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | podman import -q - "$BASE" > /dev/null
    rm -rf "$rootfs"
    trap - EXIT
fi

mkdir -p build
echo "docker-test: building $IMAGE"
# --format docker: the OCI image format has no HEALTHCHECK
# shellcheck disable=SC2086
$PODMAN build --pull=never --network host $LIMITS --format docker \
    -f docker/Dockerfile -t "$IMAGE" . > build/docker-build.log 2>&1 || {
        tail -30 build/docker-build.log >&2
        echo "docker-test: build failed (build/docker-build.log)" >&2
        exit 1
    }
# the compose check's images: this one as compose.yaml names it, and a
# postgres:15 made from Debian's postgresql-15 unless one is there
podman tag "$IMAGE" localhost/payout-gateway:dev
if [ "${DOCKER_TEST_COMPOSE:-1}" != 0 ] \
   && ! podman image exists docker.io/library/postgres:15; then
    echo "docker-test: building postgres:15 from docker/postgres/"
    # shellcheck disable=SC2086
    $PODMAN build --pull=never --network host $LIMITS --format docker \
        -t docker.io/library/postgres:15 docker/postgres \
        > build/docker-postgres.log 2>&1 || {
            tail -30 build/docker-postgres.log >&2
            echo "docker-test: postgres build failed" >&2
            exit 1
        }
fi
podman image inspect --format \
    'docker-test: image {{.Id}}, {{.Size}} bytes, user {{.Config.User}}' \
    "$IMAGE" | cut -c1-120

exec /usr/bin/python3 tools/docker_test.py
