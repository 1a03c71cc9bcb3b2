# jimd_lib.sh — sourced by the shell tests: TAP helpers and a throw-away jimd on an
# ephemeral loopback port ($port) in a temporary directory ($dir), stopped on exit.
jimd="${top_builddir:-.}/jimd/jimd"
jimc="${top_builddir:-.}/jimc/jimc"
dir=$(mktemp -d /tmp/jim-sh-XXXXXX)
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { if eval "$1"; then ok "$2"; else nok "$2"; fi; }

jimd_up() {
    printf 'log_file %s/jimd.log\nlog_level info\nscrypt_n 1024\nregister_max_ip 100000\n' "$dir" > "$dir/jimd.conf"
    "$jimd" -c "$dir/jimd.conf" -a 127.0.0.1 -p 0 -w 1 -D "$dir/jimd.db" &
    jimd_pid=$!
    for _ in $(seq 200); do
        port=$(sed -n 's/.*listening on .* port \([0-9]*\) .*/\1/p' "$dir/jimd.log" 2>/dev/null | tail -1)
        [ -n "$port" ] && grep -q " ready (pid " "$dir/jimd.log" && return 0
        sleep 0.05
    done
    echo "Bail out! jimd did not start"
    exit 1
}

jimd_down() {
    [ -n "${jimd_pid:-}" ] && kill -TERM "$jimd_pid" 2>/dev/null && wait "$jimd_pid" 2>/dev/null
    rm -rf "$dir"
}
trap jimd_down EXIT

# Each test user's store and history live under $dir.
export XDG_DATA_HOME="$dir/data" XDG_STATE_HOME="$dir/state" JIM_PASSWORD=password1
unset NO_COLOR
