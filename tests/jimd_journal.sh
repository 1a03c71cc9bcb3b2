#!/usr/bin/env bash
# jimd_journal.sh — under systemd (JOURNAL_STREAM names jimd's standard error) the log lines
# carry the journal's priority prefix and no timestamp of jimd's own; elsewhere, or when
# JOURNAL_STREAM names another file (a child of the service writing elsewhere), the usual
# dated lines. Prints TAP.
jimd="${top_builddir:-.}/jimd/jimd"
dir=$(mktemp -d /tmp/jim-journal-XXXXXX)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; sed 's/^/# /' "$2" | head -5; }
echo "1..3"

# Runs jimd on any port with stderr in file $1 (JOURNAL_STREAM from $2, empty: unset) until
# it serves, then stops it.
run() {
    : >"$1"
    if [ -n "$2" ]; then
        JOURNAL_STREAM=$2 "$jimd" -p 0 -a 127.0.0.1 -w 1 -D "$dir/j.db" 2>>"$1" &
    else
        env -u JOURNAL_STREAM "$jimd" -p 0 -a 127.0.0.1 -w 1 -D "$dir/j.db" 2>>"$1" &
    fi
    pid=$!
    for _ in $(seq 300); do grep -q "ready: 1 workers serving" "$1" && break; sleep 0.1; done
    kill "$pid"
    wait "$pid"
    pid=
}

: >"$dir/journal"
run "$dir/journal" "$(stat -c '%d:%i' "$dir/journal")"
if grep -q '^<6>INFO master .*ready: 1 workers serving' "$dir/journal" &&
    ! grep -q '^[^<]' "$dir/journal" && ! grep -q '^<.>[A-Z]* [a-z]* [^ ]* *20[0-9][0-9]-' "$dir/journal"; then
    ok "JOURNAL_STREAM is standard error: every line '<priority>LEVEL module …', no timestamp"
else nok "journal lines" "$dir/journal"; fi
if grep -q '^<4>WARNING\|^<6>INFO master .*stopped' "$dir/journal"; then
    ok "the priority follows the level (INFO is <6>)"
else nok "priorities" "$dir/journal"; fi

run "$dir/plain" "$(stat -c '%d:%i' "$dir/journal")"
if grep -q '^20[0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9:.]* INFO master' "$dir/plain" && ! grep -q '^<' "$dir/plain"; then
    ok "JOURNAL_STREAM naming another file: dated lines as without systemd"
else nok "plain lines" "$dir/plain"; fi
