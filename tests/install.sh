#!/bin/sh
# install.sh — `make install DESTDIR=…` as a packager runs it: no libtool archive
# (libjim.la) is installed, and the installed libjim.pc names the libraries libjim links
# by their own pkg-config names (Requires.private), so a program builds against the
# installed files with `pkg-config --cflags --libs libjim` (and --static); the installed
# files are those tests/install.list names (relative to the prefix; the library directory
# as lib/), no more and no fewer; `make uninstall` removes every file again. Prints TAP.
b="${top_builddir:-.}"
dest=$(mktemp -d /tmp/jim-install-XXXXXX)
trap 'rm -rf "$dest"' EXIT
echo "1..6"
# Not the parent make's jobserver: this make is a program the test runs.
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL ${MAKE:-make} -C "$b" install DESTDIR="$dest" \
    >"$dest.log" 2>&1
rc=$?
pc=$(find "$dest" -name libjim.pc | head -1)
if [ $rc -eq 0 ] && [ -n "$pc" ]; then echo "ok 1 - make install DESTDIR=… installs libjim.pc"
else echo "not ok 1 - make install failed ($rc)"; sed 's/^/# /' "$dest.log"; rm -f "$dest.log"; exit 0; fi
rm -f "$dest.log"

la=$(find "$dest" -name '*.la')
if [ -z "$la" ]; then echo "ok 2 - no libtool archive (.la) is installed"
else echo "not ok 2 - installed: $la"; fi

if grep -q '^Requires.private:.*yajl' "$pc" && grep -q '^Requires.private:.*sqlite3' "$pc" &&
    grep -q '^Requires.private:.*libssl' "$pc" && ! grep -q -- '-lyajl\|-lsqlite3\|-lssl' "$pc"; then
    echo "ok 3 - libjim.pc: yajl, sqlite3 and OpenSSL in Requires.private, not as -l flags"
else echo "not ok 3 - libjim.pc:"; sed 's/^/# /' "$pc"; fi

# Build the documented example against the installed files only.
prefix=$(PKG_CONFIG_PATH="$(dirname "$pc")" pkg-config --variable=prefix libjim)
pcq() { PKG_CONFIG_PATH="$(dirname "$pc")" pkg-config --define-variable=prefix="$dest$prefix" "$@" libjim; }
static=$(pcq --static --libs)
libdir=$(pcq --variable=libdir)
# With the build's own flags: a sanitizer build's library needs the sanitizer's runtime
# (and clang's UBSan runtime needs the C++ library even for a C program).
san_extra=
case "${JIM_LDFLAGS:-}" in *-fsanitize*) san_extra=-lstdc++ ;; esac
# shellcheck disable=SC2086
if ${CC:-cc} ${JIM_CFLAGS:-} -o "$dest/example" "${top_srcdir:-.}/doc/examples/build_and_parse.c" \
    $(pcq --cflags) $(pcq --libs) ${JIM_LDFLAGS:-} $san_extra 2>"$dest/cc.err" &&
    LD_LIBRARY_PATH="$libdir" "$dest/example" >/dev/null &&
    echo "$static" | grep -q -- '-lyajl' && echo "$static" | grep -q -- '-lsqlite3'; then
    echo "ok 4 - a program builds and runs with the installed libjim.pc; --static adds -lyajl -lsqlite3"
else
    echo "not ok 4 - building against the installed files failed (static: $static)"
    sed 's/^/# /' "$dest/cc.err"
fi

rm -f "$dest/example" "$dest/cc.err"
list="${top_srcdir:-.}/tests/install.list"
find "$dest" \( -type f -o -type l \) -print | sed -e "s|^$libdir/|lib/|" -e "s|^$dest$prefix/||" |
    LC_ALL=C sort >"$dest.list"
# The list's lines marked "[qt]" are installed only when jim-qt was built.
expected() {
    if [ -x "$b/contrib/jim-qt/jim-qt" ]; then sed -n 's/^\[qt\] //p' "$list"; fi
    grep -v "^#\|^\[qt\]" "$list"
}
if expected | LC_ALL=C sort | cmp -s - "$dest.list"; then
    echo "ok 5 - the installed files are the $(expected | wc -l) of tests/install.list"
else
    echo "not ok 5 - the installed files differ from tests/install.list (< the list, > installed):"
    expected | LC_ALL=C sort | diff - "$dest.list" | grep '^[<>]' | sed 's/^/# /'
fi
rm -f "$dest.list"
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL ${MAKE:-make} -C "$b" uninstall DESTDIR="$dest" >/dev/null 2>&1
left=$(find "$dest" -type f -o -type l)
if [ -z "$left" ]; then echo "ok 6 - make uninstall removes every installed file"
else echo "not ok 6 - left after uninstall:"; printf '%s\n' "$left" | sed 's/^/# /'; fi
