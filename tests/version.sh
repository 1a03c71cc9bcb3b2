#!/bin/sh
# version.sh — one version everywhere: common.h's JIM_VERSION_STRING is what jimd -V,
# jimc --version, jim-qt --version (when it is built), libjim.pc, the manual pages (jim-qt.1
# among them), the CHANGELOG's newest heading and the Debian changelog say; the SONAME is
# libjim.so.(CURRENT-AGE) of libjim/local.mk's -version-info, the library package (control,
# .install, .symbols) is named after it, and contrib/debian/control builds the five packages,
# each with its .install file. Prints TAP.
s="${top_srcdir:-.}"
b="${top_builddir:-.}"
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { if eval "$1"; then ok "$2"; else nok "$2"; fi; }
echo "1..11"
v=$(sed -n 's/^#define JIM_VERSION_STRING "\(.*\)"$/\1/p' "$s/libjim/include/jim/common.h")
check '[ -n "$v" ] && [ "$("$b/jimd/jimd" -V)" = "jimd $v" ]' "jimd -V says $v, as common.h"
check '"$b/jimc/jimc" --version | grep -q "$v"' "jimc --version says $v"
if [ -x "$b/contrib/jim-qt/jim-qt" ]; then
    check '[ "$(QT_QPA_PLATFORM=offscreen "$b/contrib/jim-qt/jim-qt" --version 2>/dev/null)" = "jim-qt $v" ]' \
        "jim-qt --version says $v"
else ok "# SKIP jim-qt is not built (no Qt 6)"; fi
check 'grep -qx "Version: $v" "$b/libjim/libjim.pc"' "libjim.pc: Version: $v"
bad=$(grep -L "^\.TH .*\"jim $v\"" "$s"/doc/man/*.[0-9] "$b/doc/man/jimd.conf.5" 2>&1)
[ -f "$s/doc/man/jim-qt.1" ] || bad="$bad doc/man/jim-qt.1 (missing)"
check '[ -z "$bad" ]' "every manual page (jim-qt.1 too) says jim $v${bad:+ (not: $bad)}"
check '[ "$(sed -n "s/^jim \([^ ]*\).*/\1/p" "$s/CHANGELOG" | head -1)" = "$v" ]' \
    "the CHANGELOG's newest heading is jim $v"
check 'head -1 "$s/contrib/debian/changelog" | grep -q "^jim ($v) "' \
    "contrib/debian/changelog's newest entry is $v"
# -version-info CURRENT:REVISION:AGE gives libjim.so.(CURRENT-AGE).
vi=$(sed -n 's/.*-version-info \([0-9]*\):\([0-9]*\):\([0-9]*\).*/\1 \3/p' "$s/libjim/local.mk")
major=$(echo "$vi" | awk '{print $1 - $2}')
soname=$(${OBJDUMP:-objdump} -p "$b/libjim/.libs/libjim.so" 2>/dev/null | awk '/SONAME/ {print $2}')
check '[ -n "$major" ] && [ "$soname" = "libjim.so.$major" ]' \
    "SONAME $soname is libjim.so.(CURRENT-AGE) of -version-info"
check 'grep -q "SONAME is libjim.so.(CURRENT-AGE): now libjim.so.$major " "$s/libjim/local.mk"' \
    "libjim/local.mk's rules name libjim.so.$major"
d="$s/contrib/debian"
check 'grep -qx "Package: libjim$major" "$d/control" && grep -q "libjim$major (= \${binary:Version})" "$d/control" &&
    [ -f "$d/libjim$major.install" ] && head -1 "$d/libjim$major.symbols" | grep -q "^libjim.so.$major libjim$major "' \
    "the library package is libjim$major (control, .install, .symbols)"
pkgs=$(sed -n 's/^Package: //p' "$d/control" | LC_ALL=C sort | tr '\n' ' ')
noinst=$(for p in $pkgs; do [ -f "$d/$p.install" ] || printf ' %s' "$p"; done)
check '[ "$pkgs" = "jim-qt jimc jimd libjim-dev libjim$major " ] && [ -z "$noinst" ]' \
    "contrib/debian/control builds: $pkgs${noinst:+ (no .install:$noinst)}"
