#!/usr/bin/env bash
# jimd_metrics.sh — metrics_address: worker 0 of a jimd with two workers serves GET /metrics
# in the Prometheus text format with every worker's counters (messages and logins counted
# exactly over both), 404 for anything else, again after worker 0 is killed and restarted;
# a bad metrics_address is refused by jimd -t. A short load moves deliveries, offline stores,
# failed logins, responses by code and the commit histograms by exactly what it did, and the
# histograms are well formed. Prints TAP.
. "${top_srcdir:-.}/tests/jimd_lib.sh"
echo "1..21"
if ! command -v curl >/dev/null; then
    for i in $(seq 21); do echo "ok $i # SKIP curl is not installed"; done
    exit 0
fi
# A free loopback port for the endpoint.
mport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
    echo $((20000 + RANDOM % 20000)))
url="http://127.0.0.1:$mport"

# Waits until the jimd log has at least $2 lines containing $1 (20 s at most).
wait_log() {
    for _ in $(seq $((400 * slow))); do
        c=$(grep -c -- "$1" "$dir/jimd.log" 2>/dev/null)
        [ "${c:-0}" -ge "$2" ] && return 0
        sleep 0.05
    done
    return 1
}
# The sum over the workers of metric $1 in the page in file $2.
total() { awk -v m="$1" 'index($0, m "{") == 1 {s += $2} END {print s + 0}' "$2"; }
scrape() { curl -s -f --max-time 10 -o "$1" -D "$1.headers" "$url/metrics"; }
# The sum over the workers of jimd_responses_total for code $1 in the page in file $2.
code_total() {
    awk -v c="code=\"$1\"" 'index($0, "jimd_responses_total{") == 1 && index($0, c) {s += $2} END {print s + 0}' "$2"
}
# Whether every worker's histogram $1 in file $2 is well formed: its buckets cumulative (never
# fewer than the bucket before), ending with le="+Inf", which equals its _count.
histogram_ok() {
    awk -v m="$1" '
        index($0, m "_bucket{") == 1 { w = $1; sub(/,le=.*/, "", w); sub(/.*worker=/, "", w)
            if (w in last && $2 < last[w]) bad = 1; last[w] = $2; inf[w] = ($1 ~ /le="\+Inf"/) ? $2 : -1; n++ }
        index($0, m "_count{") == 1 { w = $1; sub(/}.*/, "", w); sub(/.*worker=/, "", w)
            if (!(w in inf) || inf[w] != $2) bad = 1; counts++ }
        END { exit (bad || n == 0 || counts == 0) }' "$2"
}
# Waits until file $1 has at least $2 lines (20 s at most).
wait_lines() {
    for _ in $(seq $((400 * slow))); do
        [ "$(wc -l 2>/dev/null <"$1" || echo 0)" -ge "$2" ] && return 0
        sleep 0.05
    done
    return 1
}

printf 'metrics_address 127.0.0.1:99999\n' >"$dir/bad.conf"
out=$("$jimd" -t -c "$dir/bad.conf" 2>&1); rc=$?
check '[ $rc -eq 78 ] && [ "$(printf "%s\n" "$out" | wc -l)" -eq 1 ] && printf "%s" "$out" | grep -q "metrics_address: .* is not a numeric address"' \
    "jimd -t refuses a bad metrics_address with one line and exit 78 ($out)"
printf 'metrics_address [::1]:9777\n' >"$dir/good.conf"
check '"$jimd" -t -c "$dir/good.conf" >/dev/null 2>&1' "jimd -t takes [::1]:9777"

printf 'log_file %s/jimd.log\nlog_level info\nscrypt_n 1024\nregister_max_ip 100000\nmetrics_address 127.0.0.1:%s\n' \
    "$dir" "$mport" >"$dir/jimd.conf"
"$jimd" -c "$dir/jimd.conf" -a 127.0.0.1 -p 0 -w 2 -D "$dir/jimd.db" &
jimd_pid=$!
wait_log " ready (pid " 2 || { echo "Bail out! jimd did not start"; exit 1; }
port=$(sed -n 's/.*listening on .* port \([0-9]*\) .*/\1/p' "$dir/jimd.log" | tail -1)
wait_log "metrics on http://127.0.0.1:$mport/metrics" 1

scrape "$dir/m1"; rc=$?
check '[ $rc -eq 0 ] && grep -qi "^content-type: text/plain; version=0.0.4" "$dir/m1.headers"' \
    "GET /metrics answers 200, text/plain; version=0.0.4"
check '(for m in jimd_connections jimd_sessions jimd_messages_in_total jimd_messages_out_total \
           jimd_deliveries_total jimd_offline_stores_total jimd_logins_total jimd_login_failures_total \
           jimd_errors_total jimd_responses_total jimd_commit_batch_messages jimd_commit_seconds \
           jimd_worker_restarts_total jimd_wal_bytes jimd_database_bytes; do
         grep -q "^# HELP $m " "$dir/m1" && grep -q "^# TYPE $m " "$dir/m1" || exit 1; done)' \
    "every metric has its HELP and TYPE lines"
check 'grep -q "^jimd_logins_total{worker=\"0\"} " "$dir/m1" && grep -q "^jimd_logins_total{worker=\"1\"} " "$dir/m1" &&
       grep -q "^# TYPE jimd_sessions gauge" "$dir/m1" && grep -q "^# TYPE jimd_messages_in_total counter" "$dir/m1" &&
       grep -q "^jimd_database_bytes [1-9]" "$dir/m1"' \
    "a series per worker, gauges and counters typed, the database's size"

# Two users log in; alice sends bob N messages.
N=7
"$jimc" -u bob --register -w --to alice 127.0.0.1 "$port" </dev/null >/dev/null 2>&1
seq $N | "$jimc" -u alice --register -w --to bob 127.0.0.1 "$port" >/dev/null 2>&1
wait_log "alice logged in" 1
scrape "$dir/m2"
in1=$(total jimd_messages_in_total "$dir/m1"); in2=$(total jimd_messages_in_total "$dir/m2")
lg1=$(total jimd_logins_total "$dir/m1"); lg2=$(total jimd_logins_total "$dir/m2")
check '[ $((in2 - in1)) -eq $N ]' "jimd_messages_in_total over the workers grew by exactly $N ($in1 -> $in2)"
check '[ $((lg2 - lg1)) -eq 2 ]' "jimd_logins_total over the workers grew by 2 ($lg1 -> $lg2)"

# Bob was offline: alice's N messages were stored for him, delivered to no one yet.
of1=$(total jimd_offline_stores_total "$dir/m1"); of2=$(total jimd_offline_stores_total "$dir/m2")
dl1=$(total jimd_deliveries_total "$dir/m1"); dl2=$(total jimd_deliveries_total "$dir/m2")
check '[ $((of2 - of1)) -eq $N ] && [ $((dl2 - dl1)) -eq 0 ]' \
    "N messages to an offline user: jimd_offline_stores_total +$N ($of1 -> $of2), deliveries +0 ($dl1 -> $dl2)"
bs1=$(total jimd_commit_batch_messages_sum "$dir/m1"); bs2=$(total jimd_commit_batch_messages_sum "$dir/m2")
cc1=$(total jimd_commit_seconds_count "$dir/m1"); cc2=$(total jimd_commit_seconds_count "$dir/m2")
cb2=$(total jimd_commit_batch_messages_count "$dir/m2")
check '[ $((bs2 - bs1)) -eq $N ] && [ "$cc2" -gt "$cc1" ] && [ "$cb2" -eq "$cc2" ]' \
    "the commits carried the $N messages (batch _sum $bs1 -> $bs2), commits counted ($cc1 -> $cc2) in both histograms ($cb2)"

# Bob logs in and stays: his N pending messages are delivered at login; then M live ones.
"$jimc" -u bob -r 127.0.0.1 "$port" </dev/null >"$dir/bob.out" 2>/dev/null &
reader=$!
wait_lines "$dir/bob.out" $N
scrape "$dir/m3a"
dl3=$(total jimd_deliveries_total "$dir/m3a")
check '[ $((dl3 - dl2)) -eq $N ]' "the $N pending messages delivered at login: jimd_deliveries_total +$N ($dl2 -> $dl3)"
M=5
seq 101 $((100 + M)) | "$jimc" -u alice -w --to bob 127.0.0.1 "$port" >/dev/null 2>&1
wait_lines "$dir/bob.out" $((N + M))
sleep 0.2
scrape "$dir/m3b"
dl4=$(total jimd_deliveries_total "$dir/m3b")
of4=$(total jimd_offline_stores_total "$dir/m3b")
check '[ $((dl4 - dl3)) -eq $M ] && [ "$of4" -eq "$of2" ]' \
    "$M messages to an online user: jimd_deliveries_total +$M ($dl3 -> $dl4), no offline store ($of4)"
# A second session of bob's: one message to him is two deliveries, one per session.
logins_before=$(grep -c "bob logged in" "$dir/jimd.log")
"$jimc" -u bob --store none -r 127.0.0.1 "$port" </dev/null >"$dir/bob2.out" 2>/dev/null &
reader2=$!
wait_log "bob logged in" $((logins_before + 1))
sleep 0.5
scrape "$dir/m3c"
echo two-sessions | "$jimc" -u alice -w --to bob 127.0.0.1 "$port" >/dev/null 2>&1
for _ in $(seq $((400 * slow))); do
    grep -q two-sessions "$dir/bob.out" && grep -q two-sessions "$dir/bob2.out" && break
    sleep 0.05
done
sleep 0.2
scrape "$dir/m3d"
dl5=$(total jimd_deliveries_total "$dir/m3c"); dl6=$(total jimd_deliveries_total "$dir/m3d")
check '[ $((dl6 - dl5)) -eq 2 ]' "a message to a user with two sessions: jimd_deliveries_total +2 ($dl5 -> $dl6)"
kill "$reader" "$reader2" 2>/dev/null; wait "$reader" "$reader2" 2>/dev/null
dl4=$dl6

# K wrong passwords: K refused logins, K responses 402, as many errors more as responses.
K=3
for _ in $(seq $K); do
    JIM_PASSWORD=wrong-password "$jimc" -u alice -w --to bob 127.0.0.1 "$port" </dev/null >/dev/null 2>&1
done
scrape "$dir/m4"
lf3=$(total jimd_login_failures_total "$dir/m3b"); lf4=$(total jimd_login_failures_total "$dir/m4")
r3=$(code_total 402 "$dir/m3b"); r4=$(code_total 402 "$dir/m4")
check '[ $((lf4 - lf3)) -eq $K ] && [ $((r4 - r3)) -eq $K ]' \
    "$K wrong passwords: jimd_login_failures_total +$K ($lf3 -> $lf4), responses_total{code=\"402\"} +$K ($r3 -> $r4)"
check '[ "$(total jimd_errors_total "$dir/m4")" -eq "$(total jimd_responses_total "$dir/m4")" ] &&
       [ "$(grep -c "^jimd_responses_total{worker=\"1\",code=\"500\"} 0$" "$dir/m4")" -eq 1 ]' \
    "jimd_responses_total adds up to jimd_errors_total; codes never sent are listed at 0"
check 'histogram_ok jimd_commit_batch_messages "$dir/m4" && histogram_ok jimd_commit_seconds "$dir/m4" &&
       grep -q "^jimd_commit_seconds_bucket{worker=\"0\",le=\"0.0005\"} " "$dir/m4" &&
       grep -q "^jimd_commit_batch_messages_bucket{worker=\"1\",le=\"1000\"} " "$dir/m4" &&
       grep -q "^# TYPE jimd_commit_seconds histogram" "$dir/m4"' \
    "the histograms: cumulative buckets per worker, le=\"+Inf\" equal to _count, typed histogram"
# admin_stats (jimctl stats) reads the same board.
"${top_builddir:-.}/jimctl/jimctl" -s "$dir/jimd.ctl" stats >"$dir/stats" 2>&1
stat_of() { sed -n "s/^$1\t//p" "$dir/stats"; }
check '[ "$(stat_of deliveries)" = "$dl4" ] && [ "$(stat_of offline_stores)" = "$of4" ] &&
       [ "$(stat_of login_failures)" = "$lf4" ]' \
    "jimctl stats shows the same deliveries, offline_stores and login_failures ($(tr "\t\n" "= " <"$dir/stats"))"
in2=$(total jimd_messages_in_total "$dir/m4")

code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$url/other")
code2=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' -X POST "$url/metrics")
check '[ "$code" = 404 ] && [ "$code2" = 404 ]' "another path and a POST get 404 ($code, $code2)"

# Worker 0 killed: the master starts it again, it binds the port again and counts the restart;
# the totals go on.
w0=$(sed -n 's/.*worker 0 of 2 ready (pid \([0-9]*\)).*/\1/p' "$dir/jimd.log" | tail -1)
kill -KILL "$w0"
wait_log "worker 0 of 2 ready" 2
for _ in $(seq $((200 * slow))); do scrape "$dir/m3" && break; sleep 0.1; done
check 'grep -q "^jimd_worker_restarts_total{worker=\"0\"} 1$" "$dir/m3" && grep -q "^jimd_worker_restarts_total{worker=\"1\"} 0$" "$dir/m3"' \
    "after worker 0 is killed, the endpoint is back and counts its restart"
check '[ "$(total jimd_messages_in_total "$dir/m3")" -eq "$in2" ]' "the totals survive the restart"
check '[ "$(grep -c "cannot serve metrics" "$dir/jimd.log")" -eq 0 ]' "the restarted worker bound the port again"

# The port taken: jimd says so in one line and serves clients anyway.
jimd_stop
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen()
open(sys.argv[2], "w").close(); time.sleep(60)' "$mport" "$dir/bound" &
blocker=$!
for _ in $(seq $((400 * slow))); do [ -e "$dir/bound" ] && break; sleep 0.05; done
"$jimd" -c "$dir/jimd.conf" -a 127.0.0.1 -p 0 -w 2 -D "$dir/jimd.db" &
jimd_pid=$!
wait_log " ready (pid " 5
check '[ "$(grep -c "cannot serve metrics on 127.0.0.1:$mport" "$dir/jimd.log")" -eq 1 ] && kill -0 $jimd_pid' \
    "a port it cannot bind: one line logged, jimd runs on"
kill "$blocker" 2>/dev/null; wait "$blocker" 2>/dev/null
exit 0
