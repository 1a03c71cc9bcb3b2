# jimd_lib.sh — sourced by the shell tests: TAP helpers and a throw-away jimd on an
# ephemeral loopback port ($port) in a temporary directory ($dir), stopped on exit.
jimd="${top_builddir:-.}/jimd/jimd"
jimc="${top_builddir:-.}/jimc/jimc"
dir=$(mktemp -d /tmp/jim-sh-XXXXXX)
# JIMD_WRAPPER and JIMC_WRAPPER (make valgrind) run jimd and jimc under a tool: $jimd and
# $jimc are then scripts that do so, and jimd gets ten times as long to start.
wrap() {
    printf '#!/bin/sh\nexec %s %s "$@"\n' "$2" "$1" > "$dir/$3-wrapped"
    chmod +x "$dir/$3-wrapped"
    echo "$dir/$3-wrapped"
}
slow=1
[ -n "${JIMD_WRAPPER:-}" ] && jimd=$(wrap "$jimd" "$JIMD_WRAPPER" jimd) && slow=10
[ -n "${JIMC_WRAPPER:-}" ] && jimc=$(wrap "$jimc" "$JIMC_WRAPPER" jimc)
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { if eval "$1"; then ok "$2"; else nok "$2"; fi; }
# A check that rests on fixed waits (the contrib scripts' sleeps): skipped under a tool.
timed() { if [ "$slow" -gt 1 ]; then n=$((n + 1)); echo "ok $n - $2 # SKIP fixed waits, slowed by a tool"; else check "$1" "$2"; fi; }

# Starts jimd (again, after jimd_stop: same database, same port) and waits until it is ready.
jimd_up() {
    [ -f "$dir/jimd.conf" ] ||
        printf 'log_file %s/jimd.log\nlog_level info\nscrypt_n 1024\nregister_max_ip 100000\n' "$dir" > "$dir/jimd.conf"
    local ready
    ready=$(grep -c " ready (pid " "$dir/jimd.log" 2>/dev/null)
    "$jimd" -c "$dir/jimd.conf" -a 127.0.0.1 -p "${port:-0}" -w 1 -D "$dir/jimd.db" &
    jimd_pid=$!
    for _ in $(seq $((200 * slow))); do
        port=$(sed -n 's/.*listening on .* port \([0-9]*\) .*/\1/p' "$dir/jimd.log" 2>/dev/null | tail -1)
        [ -n "$port" ] && [ "$(grep -c " ready (pid " "$dir/jimd.log")" -gt "${ready:-0}" ] && return 0
        sleep 0.05
    done
    echo "Bail out! jimd did not start"
    exit 1
}

# Stops jimd (SIGTERM) and waits for it.
jimd_stop() {
    [ -n "${jimd_pid:-}" ] && kill -TERM "$jimd_pid" 2>/dev/null && wait "$jimd_pid" 2>/dev/null
    jimd_pid=
}

jimd_down() {
    jimd_stop
    rm -rf "$dir"
}
trap jimd_down EXIT

# Each test user's store and history live under $dir.
export XDG_DATA_HOME="$dir/data" XDG_STATE_HOME="$dir/state" JIM_PASSWORD=password1
unset NO_COLOR
