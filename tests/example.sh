#!/bin/sh
# example.sh — runs doc/examples/build_and_parse (built by make check) and compares its output.
# Prints TAP.
echo "1..2"
out=$("${top_builddir:-.}/doc/examples/build_and_parse") ; rc=$?
if [ "$rc" -eq 0 ]; then echo "ok 1 - example exits 0"; else echo "not ok 1 - example exited $rc"; fi
if [ "$out" = "$(cat "${top_srcdir:-.}/tests/example.expected")" ]; then
    echo "ok 2 - example output as expected"
else
    echo "not ok 2 - example output differs:"
    printf '%s\n' "$out" | diff "${top_srcdir:-.}/tests/example.expected" - | sed 's/^/# /'
fi
