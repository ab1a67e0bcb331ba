#!/bin/sh
# install-deps.sh — make sure the Debian packages syfosim needs are present.
# As root: installs the missing ones with apt-get.  Otherwise: prints the one
# apt-get line to run and exits 1.  Used by `make demo`, `make deps` and CI.
set -eu
PKGS="gcc make libgsl-dev libcsv-dev libcmocka-dev libinih-dev librandom123-dev gnuplot-nox openmpi-bin libopenmpi-dev valgrind"
PKGS="$PKGS ${SYF_EXTRA_PKGS:-}" # optional extras, e.g. SYF_EXTRA_PKGS=chromium for make test-browser
missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
if [ -z "$missing" ]; then
    echo "install-deps: all Debian packages present"
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
    echo "install-deps: installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing
else
    echo "install-deps: missing packages:$missing"
    echo "run:  sudo apt-get install -y$missing"
    exit 1
fi
