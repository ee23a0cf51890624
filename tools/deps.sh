#!/bin/sh
# Installs the Debian packages the build, `make run` and the tests need,
# only those missing.  Runs apt as root; otherwise names what to install.
# Then the tests' npm tools (prism, package-lock.json) into node_modules/,
# when it is missing or older than the lockfile.
#   tools/deps.sh docker   instead: what `make docker-test` needs
set -eu

cd "$(dirname "$0")/.."

pkgs="gcc make clang libclang-rt-14-dev nginx nginx-dev libpq-dev libjansson-dev libcurl4-openssl-dev
      libssl-dev libcmocka-dev postgresql postgresql-contrib curl wrk
      python3-pytest python3-requests python3-psycopg2 python3-cryptography
      python3-yaml procps openssl prometheus
      chromium chromium-driver python3-selenium"

if [ "${1:-}" = docker ]; then
    # dnsname: compose services find each other by name (podman's CNI)
    pkgs="podman buildah runc debootstrap podman-compose postgresql
          golang-github-containernetworking-plugin-dnsname
          python3-pytest python3-requests python3-psycopg2 curl"
fi

missing=
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
         | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

# any Node that runs prism 5.14 will do (Debian's, or one already there)
if [ "${1:-}" != docker ] && ! command -v npm > /dev/null 2>&1; then
    missing="$missing nodejs npm"
fi

if [ -n "$missing" ]; then
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
fi

[ "${1:-}" != docker ] || exit 0

# npm writes node_modules/.package-lock.json on every install
stamp=node_modules/.package-lock.json

if [ ! -x node_modules/.bin/prism ] || [ ! -f "$stamp" ] \
   || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]
then
    echo "npm ci (package-lock.json)"
    npm ci --no-audit --no-fund --loglevel=error
fi
