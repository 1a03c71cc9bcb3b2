#!/bin/sh
# links.sh — jim-qt links libjim's exported jim_* symbols and Qt only: no copy of libjim's
# insides, and no library besides libjim, Qt and the C/C++ runtime (with the sanitizers'
# runtimes in a sanitizer build). Prints TAP.
b="${top_builddir:-.}/contrib/jim-qt"
bin="$b/.libs/jim-qt"
[ -f "$bin" ] || bin="$b/jim-qt"
lib="${top_builddir:-.}/libjim/.libs/libjim.so"
echo "1..3"
if [ -f "$bin" ] && [ -f "$lib" ]; then echo "ok 1 - $bin and $lib exist"
else echo "not ok 1 - $bin or $lib missing"; exit 0; fi
needed=$(${OBJDUMP:-objdump} -p "$bin" | awk '/NEEDED/ {print $2}' |
    grep -v -E '^(libjim\.so\.1|libQt6[A-Za-z]+\.so\.6|libstdc\+\+\.so\.6|libgcc_s\.so\.1)$' |
    grep -v -E '^(libc|libm|libdl|libpthread|librt|libasan|libubsan)\.so\.[0-9]+$')
if [ -z "$needed" ]; then echo "ok 2 - needs only libjim, Qt and the C/C++ runtime"
else echo "not ok 2 - other libraries needed:"; printf '%s\n' "$needed" | sed 's/^/# /'; fi
# Every symbol jim-qt takes from libjim is an exported jim_* one, and it defines none of
# libjim's own (C or C++, namespace jim).
exported=$(${NM:-nm} -D --defined-only "$lib" | awk '{print $NF}' | sed 's/@.*//' | sort -u)
used=$(${NM:-nm} -D --undefined-only "$bin" | awk '{print $NF}' | sed 's/@.*//' | grep -i 'jim' | sort -u)
stray=$(printf '%s\n' "$used" | grep -v '^$' | grep -v -x -F "$exported")
own=$(${NM:-nm} -C "$bin" 2>/dev/null | awk '$2 ~ /^[TtDdBbRrWw]$/ {sub(/^[^ ]+ [^ ]+ /, ""); print}' |
    grep -E '^(jim::|jim_)' | head -5)
count=$(printf '%s\n' "$used" | grep -c '^jim_')
if [ -z "$stray" ] && [ -z "$own" ] && [ "$count" -gt 20 ]; then
    echo "ok 3 - $count jim_* symbols from libjim, none of its insides"
else
    echo "not ok 3 - stray symbols ($count jim_* used):"
    printf '%s\n%s\n' "$stray" "$own" | grep -v '^$' | sed 's/^/# /'
fi
