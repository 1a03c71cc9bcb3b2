#!/usr/bin/env bash
# jimd_cli.sh — jimd's command line: --help, -V, -t, bad flags and config lines (with
# sysexits codes), -d with a pidfile, and SIGHUP reloading the log level. Prints TAP.
jimd="${top_builddir:-.}/jimd/jimd"
dir=$(mktemp -d /tmp/jim-cli-XXXXXX)
trap 'rm -rf "$dir"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { if eval "$1"; then ok "$2"; else nok "$2"; fi; }
# Sends one request to the daemon on $port and waits for its answer (workers then log it).
one_request() {
    if exec 3<>"/dev/tcp/127.0.0.1/$port" 2>/dev/null; then
        printf '{"action":"get_rooms"}\n' >&3
        IFS= read -r -t 5 _ <&3
        exec 3>&-
    fi
}
echo "1..16"

out=$("$jimd" --help); check '[ $? -eq 0 ] && echo "$out" | grep -q -- "-p PORT"' "--help prints usage, exit 0"
out=$("$jimd" -V); check 'echo "$out" | grep -q "^jimd [0-9]"' "-V prints the version"
out=$("$jimd" --help-config); check 'echo "$out" | grep -q "^max_message_chars" && echo "$out" | grep -q "^legacy_pacing_ms"' \
    "--help-config lists jimd's settings and the protocol limits"

"$jimd" -x >/dev/null 2>"$dir/err"; rc=$?
check '[ $rc -eq 64 ]' "an unknown flag exits 64 (EX_USAGE)"
"$jimd" -p 70000 -t >/dev/null 2>"$dir/err"; rc=$?
check '[ $rc -eq 64 ] && grep -q "port" "$dir/err"' "a bad port exits 64 with one clear line"

# workers: at most 64 (a user's whereabouts are a 64-bit mask); more is refused, not cut.
"$jimd" -w 65 -t >/dev/null 2>"$dir/err"; rc=$?
check '[ $rc -eq 64 ] && grep -q "workers: 65 is outside 0..64" "$dir/err"' "-w 65 exits 64: at most 64 workers"
printf 'workers 100\n' > "$dir/w.conf"
"$jimd" -c "$dir/w.conf" -t >/dev/null 2>"$dir/err"; rc=$?
check '[ $rc -eq 78 ] && grep -q "w.conf:1: workers: 100 is outside 0..64" "$dir/err"' "workers 100 in the config exits 78"

printf 'port 7777\n# a comment\nmsg_rate lots\n' > "$dir/bad.conf"
"$jimd" -c "$dir/bad.conf" -t >/dev/null 2>"$dir/err"; rc=$?
check '[ $rc -eq 78 ] && grep -q "bad.conf:3: msg_rate" "$dir/err" && [ $(wc -l < "$dir/err") -eq 1 ]' \
    "a bad config value exits 78 with file:line: message"
printf 'no_such_key 1\n' > "$dir/bad2.conf"
"$jimd" -c "$dir/bad2.conf" -t >/dev/null 2>"$dir/err"; rc=$?
check '[ $rc -eq 78 ] && grep -q "bad2.conf:1: unknown setting" "$dir/err"' "an unknown key exits 78"

printf 'log_file %s/jimd.log\nlog_level info\nscrypt_n 1024\npidfile %s/jimd.pid\n' "$dir" "$dir" > "$dir/good.conf"
out=$("$jimd" -c "$dir/good.conf" -t); rc=$?
check '[ $rc -eq 0 ] && echo "$out" | grep -q "configuration ok"' "-t checks a good config and exits 0"

# -d: runs in the background with a pidfile.
"$jimd" -d -c "$dir/good.conf" -a 127.0.0.1 -p 0 -w 1 -D "$dir/jimd.db"; rc=$?
for _ in $(seq 100); do [ -s "$dir/jimd.pid" ] && grep -q " ready (pid " "$dir/jimd.log" 2>/dev/null && break; sleep 0.05; done
pid=$(cat "$dir/jimd.pid" 2>/dev/null)
check '[ $rc -eq 0 ] && [ -n "$pid" ] && kill -0 "$pid"' "-d detaches and writes the pidfile"

# SIGHUP rereads the config: debug lines appear once the level says so.
check '! grep -q " DEBUG " "$dir/jimd.log"' "at info level no debug lines are written"
sed -i 's/log_level info/log_level debug/' "$dir/good.conf"
kill -HUP "$pid"
sleep 0.5
port=$(sed -n 's/.*listening on .* port \([0-9]*\) .*/\1/p' "$dir/jimd.log" | tail -1)
one_request
sleep 0.3
check 'grep -q "SIGHUP: reloading" "$dir/jimd.log" && grep -q " DEBUG worker\[0\]" "$dir/jimd.log"' \
    "SIGHUP reloads the config (log level) in the workers"

# SIGUSR1 reopens the log: after a move (as logrotate does), new lines go to a new file.
mv "$dir/jimd.log" "$dir/jimd.log.1"
kill -USR1 "$pid"
sleep 0.3
one_request
sleep 0.3
check '[ -s "$dir/jimd.log" ] && grep -q " DEBUG worker\[0\]" "$dir/jimd.log"' \
    "SIGUSR1 reopens the log after it was moved"

kill -TERM "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
check '! kill -0 "$pid" 2>/dev/null' "SIGTERM stops the daemon"
check '[ ! -e "$dir/jimd.pid" ]' "the pidfile is removed on exit"
