#!/bin/sh
# exports.sh — libjim's ABI surface: SONAME libjim.so.1, and only jim_* symbols exported,
# each under version node JIM_1.0. Prints TAP.
lib="${top_builddir:-.}/libjim/.libs/libjim.so"
echo "1..4"
if [ -f "$lib" ]; then echo "ok 1 - $lib exists"; else echo "not ok 1 - $lib missing"; exit 0; fi
soname=$(${OBJDUMP:-objdump} -p "$lib" | awk '/SONAME/ {print $2}')
if [ "$soname" = "libjim.so.1" ]; then echo "ok 2 - SONAME is libjim.so.1"
else echo "not ok 2 - SONAME is '$soname'"; fi
others=$(${NM:-nm} -D --defined-only "$lib" | awk '{print $NF}' | grep -v '^jim_' | grep -v '^JIM_1\.0$')
if [ -z "$others" ]; then echo "ok 3 - only jim_* symbols exported"
else echo "not ok 3 - non-jim symbols exported:"; printf '%s\n' "$others" | sed 's/^/# /'; fi
unversioned=$(${OBJDUMP:-objdump} -T "$lib" | awk '$2 != "l" && / jim_/ && !/JIM_1\.0/')
count=$(${NM:-nm} -D --defined-only "$lib" | grep -c ' jim_')
if [ -z "$unversioned" ] && [ "$count" -gt 50 ]; then echo "ok 4 - $count jim_* symbols, all at JIM_1.0"
else echo "not ok 4 - unversioned symbols or too few ($count):"; printf '%s\n' "$unversioned" | sed 's/^/# /'; fi
