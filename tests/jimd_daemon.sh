#!/usr/bin/env bash
# jimd_daemon.sh — jimd as a daemon: one server per port and per database, -d that returns
# only once jimd serves (or fails with the reason), the first log line, SIGHUP keeping
# the command line, the config file's syntax and errors, dropping root. Prints TAP.
jimd="$(cd "${top_builddir:-.}" && pwd)/jimd/jimd"
dir=$(mktemp -d /tmp/jim-daemon-XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do
        for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
    done
    rm -rf "$dir"
}
trap cleanup EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
check() { if eval "$1"; then ok "$2"; else nok "$2"; fi; }
# A loopback port nobody listens on, below the ephemeral range (a port that is the local
# end of some test's connection cannot be bound either).
free_port() {
    local p
    for p in $(shuf -i 20000-32000 -n 20); do
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
}
# Waits for the master's "ready" line in a log.
wait_ready() { for _ in $(seq 200); do grep -q "ready: .* workers serving" "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }
# Sends one register + authenticate for $2 on port $1 and prints the two codes.
try_login() {
    exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
    printf '{"action":"register","user":{"account_name":"%s","password":"password1"}}\n' "$2" >&3
    IFS= read -r -t 5 a <&3
    printf '{"action":"authenticate","user":{"account_name":"%s","password":"password1"}}\n' "$2" >&3
    IFS= read -r -t 5 b <&3
    exec 3>&-
    echo "$a $b" | grep -o '"response":[0-9]*' | tr '\n' ' '
}
echo "1..20"

port=$(free_port)
printf 'log_file %s/a.log\npidfile %s/a.pid\nscrypt_n 1024\n' "$dir" "$dir" > "$dir/a.conf"

# 1. One server per port, per database and per pidfile.
"$jimd" -c "$dir/a.conf" -d -a 127.0.0.1 -p "$port" -w 2 -D "$dir/a.db" 2>"$dir/err"; rc=$?
pid=$(cat "$dir/a.pid" 2>/dev/null); [ -n "$pid" ] && pids+=("$pid")
check '[ $rc -eq 0 ] && [ -n "$pid" ] && kill -0 "$pid"' "-d starts a daemon and writes the pidfile"
check 'grep -q "ready: 2 workers serving" "$dir/a.log" && [ "$(try_login "$port" ann)" = "\"response\":201 \"response\":200 " ]' \
    "-d returns only once every worker serves: a client is answered at once"
printf 'log_file %s/b.log\n' "$dir" > "$dir/b.conf"
timeout 10 "$jimd" -c "$dir/b.conf" -a 127.0.0.1 -p "$port" -w 1 -D "$dir/b.db" 2>"$dir/err" </dev/null; rc=$?
check '[ $rc -eq 69 ] && [ $(wc -l < "$dir/err") -eq 1 ] && grep -q "port $port on 127.0.0.1 is in use" "$dir/err"' \
    "a second jimd on the same port (another database) is refused: one line, exit 69"
timeout 10 "$jimd" -a 127.0.0.1 -p "$(free_port)" -w 1 -D "$dir/a.db" 2>"$dir/err" </dev/null; rc=$?
check '[ $rc -eq 69 ] && grep -q "database .*a.db is in use by another jimd (pid $pid)" "$dir/err"' \
    "a second jimd on the same database (another port) is refused, naming the first's pid"
timeout 10 "$jimd" -c "$dir/a.conf" -d -a 127.0.0.1 -p "$port" -w 1 -D "$dir/a.db" 2>"$dir/err"; rc=$?
check '[ $rc -ne 0 ] && [ "$(cat "$dir/a.pid")" = "$pid" ] && kill -0 "$pid"' \
    "the same jimd -c ... -d twice: the second fails and leaves the first's pidfile alone"

# 3. The first log line names the files in use, as absolute paths.
check 'grep -m1 "starting" "$dir/a.log" | grep -q "config $dir/a.conf, database $dir/a.db, pidfile $dir/a.pid, log $dir/a.log"' \
    "the first log line names the config, database, pidfile and log"

# 3. SIGHUP: a port change is logged as needing a restart; -D and -p stay as given.
printf 'log_file %s/a.log\npidfile %s/a.pid\nscrypt_n 1024\nport 1234\nlog_level debug\n' "$dir" "$dir" > "$dir/a.conf"
kill -HUP "$pid"
for _ in $(seq 100); do grep -q "SIGHUP: reloading" "$dir/a.log" && break; sleep 0.05; done
sleep 0.3
check '! grep -q "port changed" "$dir/a.log"' "SIGHUP keeps the port the command line set, without a word"
kill -TERM "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
check '! kill -0 "$pid" 2>/dev/null && [ ! -e "$dir/a.pid" ]' "SIGTERM stops it and removes its pidfile"

# A worker that dies after a reload comes back with the command line's database, not the
# file's (nor the default, relative to jimd's directory).
hport=$(free_port)
printf 'log_file %s/h.log\nscrypt_n 1024\n' "$dir" > "$dir/h.conf"
(cd "$dir" && exec "$jimd" -c "$dir/h.conf" -a 127.0.0.1 -p "$hport" -w 1 -D "$dir/h.db" 2>/dev/null) &
hpid=$!; pids+=("$hpid")
wait_ready "$dir/h.log"
printf 'log_file %s/h.log\nscrypt_n 1024\ndatabase %s/other.db\n' "$dir" "$dir" > "$dir/h.conf"
kill -HUP "$hpid"
for _ in $(seq 100); do grep -q "SIGHUP: reloading" "$dir/h.log" && break; sleep 0.05; done
sleep 0.2
hw=$(sed -n 's/.*worker 0 started (pid \([0-9]*\)).*/\1/p' "$dir/h.log" | tail -1)
kill -KILL "$hw"
for _ in $(seq 200); do [ "$(grep -c "worker 0 of 1 ready" "$dir/h.log")" -ge 2 ] && break; sleep 0.05; done
for i in 1 2 3; do try_login "$hport" "hup$i" >/dev/null; done
check '[ ! -e "$dir/var" ] && [ ! -e "$dir/other.db" ] && [ "$(sqlite3 "$dir/h.db" "select count(*) from users where name like '"'hup%'"'")" -eq 3 ]' \
    "after SIGHUP a respawned worker still serves the database given with -D"
kill -TERM "$hpid"

# A port change in the file (no -p) is logged as needing a restart.
port2=$(free_port)
printf 'log_file %s/c.log\nport %s\naddress 127.0.0.1\nworkers 1\ndatabase %s/c.db\n' "$dir" "$port2" "$dir" > "$dir/c.conf"
"$jimd" -c "$dir/c.conf" 2>/dev/null &
cpid=$!; pids+=("$cpid")
wait_ready "$dir/c.log"
printf 'log_file %s/c.log\nport %s\naddress 127.0.0.1\nworkers 1\ndatabase %s/c.db\n' "$dir" "$(free_port)" "$dir" > "$dir/c.conf"
kill -HUP "$cpid"
for _ in $(seq 100); do grep -q "port changed" "$dir/c.log" && break; sleep 0.05; done
check 'grep -q "WARNING master reload port changed from .'"$port2"'. to .*takes effect when jimd restarts" "$dir/c.log"' \
    "SIGHUP: a port change in the file is logged as needing a restart"
kill -TERM "$cpid"

# 2. -d that cannot listen fails with the reason on standard error.
"$jimd" -c "$dir/a.conf" -d -a 192.0.2.1 -p "$port" -w 1 -D "$dir/d.db" 2>"$dir/err"; rc=$?
check '[ $rc -ne 0 ] && grep -q "cannot listen on 192.0.2.1" "$dir/err"' \
    "-d with an address that is not local exits non-zero with the reason"
# -d without log_file logs to syslog (a listener stands in for /dev/log where none runs).
if [ "$(id -u)" -eq 0 ] && [ ! -e /dev/log ] && [ -x "${top_builddir:-.}/tests/syslog_sink" ]; then
    "${top_builddir:-.}/tests/syslog_sink" /dev/log "$dir/syslog" 5 &
    sink=$!
    for _ in $(seq 50); do [ -S /dev/log ] && break; sleep 0.05; done
    printf 'pidfile %s/e.pid\n' "$dir" > "$dir/e.conf"
    "$jimd" -c "$dir/e.conf" -d -a 127.0.0.1 -p "$(free_port)" -w 1 -D "$dir/e.db" 2>"$dir/err"; rc=$?
    epid=$(cat "$dir/e.pid" 2>/dev/null)
    [ -n "$epid" ] && kill -TERM "$epid"
    wait "$sink"
    rm -f /dev/log
    check '[ $rc -eq 0 ] && grep -q "jimd\[$epid\]: master main jimd .* starting" "$dir/syslog" && grep -q "workers serving" "$dir/syslog"' \
        "-d without log_file logs to syslog"
else
    skip "-d without log_file logs to syslog" "needs root and no syslog daemon on /dev/log"
fi

# 4. -t reports every bad line, suggests keys, accepts key = value and quoted values.
printf 'port = 7777\nmsg_rate lots\nmax_sesions 3\n\nlog_level loud\nlog_file "%s/x#y.log" # the log\nscrypt_n 3000\n' "$dir" > "$dir/bad.conf"
"$jimd" -c "$dir/bad.conf" -t >/dev/null 2>"$dir/err"; rc=$?
check '[ $rc -eq 78 ] && [ $(wc -l < "$dir/err") -eq 4 ] && grep -q "bad.conf:2: msg_rate" "$dir/err" && grep -q "bad.conf:5: log_level" "$dir/err" && grep -q "bad.conf:7: scrypt_n: 3000 is not a power of two" "$dir/err"' \
    "-t reports every bad line with file:line (4 here), scrypt_n must be a power of two"
check 'grep -q "bad.conf:3: unknown setting .max_sesions. (did you mean .max_sessions.?)" "$dir/err"' \
    "an unknown key gets the nearest known key as a suggestion"
printf 'port = 7777\nlog_file "%s/x#y.log" # the log\nmsg_rate 10 # per second\n' "$dir" > "$dir/good.conf"
out=$("$jimd" -c "$dir/good.conf" -t 2>&1); rc=$?
check '[ $rc -eq 0 ] && echo "$out" | grep -q "configuration ok"' "key = value, a quoted value with '#' and trailing comments are accepted"

# 14. -h is --help; a usage error is one line that points to --help.
out=$("$jimd" -h); rc=$?
check '[ $rc -eq 0 ] && echo "$out" | grep -q -- "-p PORT"' "-h prints the usage"
"$jimd" -x 2>"$dir/err"; rc=$?
check '[ $rc -eq 64 ] && [ $(wc -l < "$dir/err") -eq 1 ] && grep -q "unknown option -x (see jimd --help)" "$dir/err"' \
    "an unknown option: one line pointing to --help, exit 64"

# 5. user: started as root, jimd runs as that user once the port is bound.
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
    chmod 711 "$dir" && mkdir -p "$dir/u" && chown nobody "$dir/u"
    printf 'log_file %s/u/u.log\nuser nobody\npidfile %s/u/u.pid\nscrypt_n 1024\n' "$dir" "$dir" > "$dir/u.conf"
    uport=$(free_port)
    "$jimd" -c "$dir/u.conf" -d -a 127.0.0.1 -p "$uport" -w 1 -D "$dir/u/u.db" 2>"$dir/err"; rc=$?
    upid=$(cat "$dir/u/u.pid" 2>/dev/null); [ -n "$upid" ] && pids+=("$upid")
    codes=$(try_login "$uport" una)
    owners=$(ps -o user= --ppid "$upid" -p "$upid" | sort -u | tr -d ' \n')
    check '[ $rc -eq 0 ] && [ "$owners" = nobody ] && [ "$codes" = "\"response\":201 \"response\":200 " ] && [ "$(stat -c %U "$dir/u/u.db")" = nobody ]' \
        "user nobody: master and workers run as nobody, and serve"
    kill -TERM "$upid"
    for _ in $(seq 100); do kill -0 "$upid" 2>/dev/null || break; sleep 0.05; done
    printf 'user no_such_user_here\n' > "$dir/nu.conf"
    timeout 10 "$jimd" -c "$dir/nu.conf" -a 127.0.0.1 -p "$(free_port)" -w 1 -D "$dir/nu.db" 2>"$dir/err" </dev/null; rc=$?
    check '[ $rc -eq 67 ] && grep -q "user .no_such_user_here.: no such user" "$dir/err"' "an unknown user: one line, exit 67"
else
    skip "user nobody: master and workers run as nobody, and serve" "needs root"
    skip "an unknown user: one line, exit 67" "needs root"
fi

# 5. Log lines name functions, never a lambda's operator().
check '! grep -q "operator()" "$dir"/*.log' "log lines name functions, not operator()"
