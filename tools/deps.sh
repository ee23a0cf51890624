#!/bin/sh
# Installs the Debian packages the build, `make run` and the tests need,
# only those missing.  Runs apt as root; otherwise names what to install.
set -eu

pkgs="gcc make clang libclang-rt-14-dev nginx nginx-dev libpq-dev libjansson-dev libcurl4-openssl-dev
      libssl-dev libcmocka-dev postgresql postgresql-contrib curl wrk
      python3-pytest python3-requests python3-psycopg2 procps openssl"

missing=
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
         | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "missing Debian packages:$missing" >&2
    echo "install them with: sudo apt-get install$missing" >&2
    exit 1
fi

echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing > /dev/null
