#!/usr/bin/env bash
# demo.sh — starts jimd on a free loopback port with a throw-away database, has two
# scripted clients (alice and bob) register, log in, talk in a room and directly,
# prints the conversation as it crosses the wire, and stops everything.
# Usage: contrib/demo.sh [path/to/jimd]
set -euo pipefail
jimd=${1:-build/jimd/jimd}
dir=$(mktemp -d /tmp/jim-demo-XXXXXX)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
printf 'log_file %s/jimd.log\nscrypt_n 4096\n' "$dir" > "$dir/jimd.conf"
"$jimd" -a 127.0.0.1 -p 0 -w 2 -D "$dir/jimd.db" -c "$dir/jimd.conf" </dev/null >/dev/null 2>&1 &
pid=$!
port=
for _ in $(seq 100); do
    if [ -f "$dir/jimd.log" ]; then
        port=$(sed -n 's/.*listening on .* port \([0-9]*\) .*/\1/p' "$dir/jimd.log" | tail -1)
        ready=$(grep -c ' ready (pid ' "$dir/jimd.log" || true)
        [ -n "$port" ] && [ "$ready" -ge 2 ] && break
    fi
    sleep 0.05
done
[ -n "$port" ] || { echo "demo: jimd did not start" >&2; exit 1; }
echo "# jimd listening on 127.0.0.1:$port (2 workers)"

exec 3<>"/dev/tcp/127.0.0.1/$port" 4<>"/dev/tcp/127.0.0.1/$port"
send() { # fd who json
    echo "$2 -> $3"
    printf '%s\n' "$3" >&"$1"
}
expect() { # fd who count: print the next count lines from the server
    local line
    for _ in $(seq "$3"); do
        IFS= read -r -t 5 line <&"$1" || { echo "$2 <- (nothing)"; return; }
        echo "$2 <- $line"
    done
}

send 3 alice '{"action":"register","time":1,"user":{"account_name":"alice","password":"alice-secret"}}'
expect 3 alice 1
send 4 bob '{"action":"register","time":1,"user":{"account_name":"bob","password":"bob-secret"}}'
expect 4 bob 1
send 3 alice '{"action":"authenticate","time":1,"user":{"account_name":"alice","password":"alice-secret","features":["ndjson"]}}'
expect 3 alice 1
send 4 bob '{"action":"authenticate","time":1,"user":{"account_name":"bob","password":"bob-secret","features":["ndjson"]}}'
expect 4 bob 1
send 3 alice '{"action":"join","time":1,"room":"#demo"}'
expect 3 alice 1
send 4 bob '{"action":"join","time":1,"room":"#demo"}'
expect 4 bob 1
send 3 alice '{"action":"msg","time":1,"to":"#demo","message":"Hello, room!"}'
expect 3 alice 1
expect 4 bob 1
send 4 bob '{"action":"msg","time":1,"to":"alice","message":"Hi Alice, just you and me."}'
expect 4 bob 1
expect 3 alice 1
send 3 alice '{"action":"quit"}'
expect 3 alice 1
send 4 bob '{"action":"quit"}'
expect 4 bob 1
echo "# stopping jimd"
kill "$pid" && wait "$pid" || true
pid=
