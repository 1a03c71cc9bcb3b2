#!/bin/sh
# Installs the Debian packages that building and testing jim needs.
# Run as root it installs what is missing with apt-get; run as anyone else
# it names the missing packages and exits 1. Quiet when nothing is missing.
# With the argument "clang" it also installs clang and its sanitizer and libFuzzer runtimes,
# for a build configured with CC=clang (the Makefile passes it when CONFIGURE_FLAGS name
# clang, and for make fuzz); with "valgrind", valgrind (for make valgrind); with "deb", what
# make deb and make debcheck need (debhelper, lintian, dpkg-dev, fakeroot, and Qt 6 with its
# moc: the packages include jim-qt, so Build-Depends has them); with "qt", Qt 6
# Widgets (qt6-base-dev), for jim-qt, the desktop client configure builds when it finds Qt.
set -eu

PACKAGES="build-essential autoconf automake libtool pkg-config
libevent-dev libyajl-dev libsqlite3-dev libssl-dev libreadline-dev
libcmocka-dev doxygen clang-format sqlite3 tmux openssl"
for arg in "$@"; do
    case "$arg" in
        clang) PACKAGES="$PACKAGES clang libclang-rt-14-dev" ;;
        valgrind) PACKAGES="$PACKAGES valgrind" ;;
        deb) PACKAGES="$PACKAGES debhelper dpkg-dev lintian fakeroot qt6-base-dev qt6-base-dev-tools" ;;
        qt) PACKAGES="$PACKAGES qt6-base-dev" ;;
        *) echo "install-deps: unknown argument: $arg" >&2; exit 64 ;;
    esac
done

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *" installed") ;;
        *) missing="$missing $p" ;;
    esac
done

[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: missing packages:$missing (no apt-get here: install them by hand)" >&2
    exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages:$missing" >&2
    echo "install-deps: run as root: apt-get install$missing" >&2
    exit 1
fi

echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
