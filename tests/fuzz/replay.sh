#!/usr/bin/env bash
# replay.sh — replays every committed fuzz corpus file through its target (built without
# libFuzzer: each target's main() runs the files it is given). One TAP line per target.
targets="framer decode config client store_files peer e2e"
echo "1..$(echo $targets | wc -w)"
n=0
for t in $targets; do
    n=$((n + 1))
    bin="${top_builddir:-.}/tests/fuzz/fuzz_$t"
    corpus="${top_srcdir:-.}/tests/fuzz/corpus/$t"
    files=("$corpus"/*)
    if out=$("$bin" "${files[@]}" 2>&1); then
        echo "ok $n - $t: ${#files[@]} corpus files replayed"
    else
        echo "not ok $n - $t: a corpus file fails"
        printf '%s\n' "$out" | tail -20 | sed 's/^/# /'
    fi
done
