#!/usr/bin/env bash
# jimc_pipes.sh — jimc in shell pipes against a real jimd: -w sends stdin lines, -r
# prints the chat (JSON lines for jq, and quietly ends when head closes the pipe), commands
# from stdin, lists as JSON lines, the documented exit codes, no store folder for a failed
# log-in, and jimd restarting under a reader and under a script: -r reconnects and
# catches up, a message typed while the server is down is kept and sent once. Prints TAP.
. "${top_srcdir:-.}/tests/jimd_lib.sh"
echo "1..37"
jimd_up
# Waits until the jimd log has at least $2 lines containing $1 (10 s at most).
wait_log() {
    for _ in $(seq 200); do
        [ "$(grep -c -- "$1" "$dir/jimd.log")" -ge "$2" ] && return 0
        sleep 0.05
    done
    return 1
}
# How many different messages (by seq) from alice to bob carry text $1, as the server has
# them (bob's log-in may push them too: counted once).
stored_once() {
    printf '/history alice 50\n' | "$jimc" -u bob --json --store none 127.0.0.1 "$port" 2>/dev/null |
        grep -F "\"message\":\"$1\"" | grep -o '"seq":[0-9]*' | sort -u | wc -l
}
# Waits until file $1 has a line containing $2 (20 s at most).
wait_file() {
    for _ in $(seq 400); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
    return 1
}

# bob reads in the background; alice writes three lines through a pipe.
"$jimc" -u bob --register -r --json 127.0.0.1 "$port" > "$dir/bob.out" 2> "$dir/bob.err" &
reader=$!
wait_log "bob logged in" 1
printf 'hi bob\n{"not":"json, just text"}\ncaf\xc3\xa9\n' | "$jimc" -u alice --register -w --to bob 127.0.0.1 "$port" 2>"$dir/alice.err"
rc=$?
check '[ $rc -eq 0 ]' "-w sends every stdin line and exits 0"
for _ in $(seq 100); do [ "$(wc -l < "$dir/bob.out")" -ge 3 ] && break; sleep 0.05; done
kill -TERM "$reader"; wait "$reader"; rrc=$?
check '[ "$(wc -l < "$dir/bob.out")" -eq 3 ]' "-r prints each message on one line"
check 'head -n 1 "$dir/bob.out" | grep -q "\"from\":\"alice\"" && head -n 1 "$dir/bob.out" | grep -q "\"message\":\"hi bob\""' \
    "--json lines carry from and message"
check 'sed -n 2p "$dir/bob.out" | grep -qF "{\\\"not\\\":\\\"json, just text\\\"}"' "text that looks like JSON stays text"
check 'sed -n 3p "$dir/bob.out" | grep -qF "caf\\u00e9"' "non-ASCII is escaped in JSON lines"
check '[ $rrc -eq 0 ] && [ "$(cat "$dir/bob.err")" = "jimc: account bob created" ]' \
    "-r ends quietly on SIGTERM with exit 0 (stderr only said the account was created)"
check '[ "$(cat "$dir/alice.err")" = "jimc: account alice created" ]' \
    "--register says the account was created, on stderr beside -r and -w"

# head closes the pipe after one line: jimc ends quietly (bob's store is fresh here).
rm -rf "$dir/data"
out=$(timeout 10 "$jimc" -u bob -r --json --store none 127.0.0.1 "$port" 2>"$dir/head.err" | head -n 1) &
hp=$!
sleep 0.5
printf 'one\ntwo\nthree\n' | "$jimc" -u alice -w --to bob 127.0.0.1 "$port"
printf 'four\n' | "$jimc" -u alice -w --to bob 127.0.0.1 "$port"
wait $hp; hrc=$?
check '[ $hrc -eq 0 ] && [ ! -s "$dir/head.err" ]' "a pipe closed by head ends jimc quietly (no error, exit 0)"

# Commands from stdin: a room, a message to it, the room list; a refused command.
printf '/join #pipes\nhello pipes\n/rooms\n' | "$jimc" -u alice 127.0.0.1 "$port" > "$dir/s.out" 2>&1
rc=$?
check '[ $rc -eq 0 ] && grep -q "joined #pipes" "$dir/s.out" && grep -q "#pipes (1)" "$dir/s.out" && ! grep -q $'"'"'\033'"'"' "$dir/s.out"' \
    "commands from stdin run in order (exit 0), no colour when stdout is not a terminal"
printf '/msg nobody_here hi\n' | "$jimc" -u alice 127.0.0.1 "$port" > "$dir/s.out" 2>&1
rc=$?
check '[ $rc -eq 65 ] && grep -q "no such user" "$dir/s.out"' "a refused message says why and exits 65"
printf '/rooms\n/join ops\n' | "$jimc" -u alice 127.0.0.1 "$port" > "$dir/s.out" 2>&1
rc=$?
check '[ $rc -eq 65 ] && grep -q "/join: a room.s name starts with #: /join #ops" "$dir/s.out" && ! grep -q "/join: [0-9]" "$dir/s.out"' \
    "/join without # says how, with no stale code from the answer before"

printf '/msg bad!name hi\nplain text\n' | "$jimc" -u alice 127.0.0.1 "$port" > "$dir/s.out" 2>&1
rc=$?
check '[ $rc -eq 65 ] && [ "$(grep -c "message not sent" "$dir/s.out")" -eq 1 ] && grep -q "message not sent: field .to.: bad account or room name" "$dir/s.out"' \
    "/msg to a name that cannot be one says why and does not make it the current chat (the next line goes to the general chat)"

printf 'to the room\n' | "$jimc" -u alice -w --to '#pipes' 127.0.0.1 "$port"
rc=$?
out=$(printf '/history #pipes 1\n' | "$jimc" -u alice 127.0.0.1 "$port")
check '[ $rc -eq 0 ] && echo "$out" | grep -q "#pipes alice: to the room"' "-w --to '#room' sends to the room"
printf '/join #bobs\n' | "$jimc" -u bob --store none 127.0.0.1 "$port" >/dev/null 2>&1
printf 'let me in\n' | "$jimc" -u alice -w --to '#bobs' 127.0.0.1 "$port" 2>"$dir/err"
rc=$?
out=$(printf '/history #bobs 1\n' | "$jimc" -u bob --store none 127.0.0.1 "$port")
check '[ $rc -eq 0 ] && [ "$(cat "$dir/err")" = "jimc: joined #bobs" ] && echo "$out" | grep -q "#bobs alice: let me in"' \
    "-w --to '#room' joins a room it is not in (saying so on stderr) and sends"

# --json: lists are JSON lines on stdout, notices on stderr.
printf '/add bob\n/who\n/contacts\n/rooms\n/history bob 2\n' |
    "$jimc" -u alice --json 127.0.0.1 "$port" > "$dir/j.out" 2>"$dir/j.err"
rc=$?
check '[ $rc -eq 0 ] && ! grep -qv "^{.*}$" "$dir/j.out" && grep -q "\"action\":\"user_list\",.*\"user_id\":\"bob\"" "$dir/j.out" && grep -q "\"action\":\"contact_list\"" "$dir/j.out" && grep -q "\"action\":\"room_list\",.*\"room\":\"#pipes\"" "$dir/j.out" && [ "$(grep -c "\"action\":\"msg\"" "$dir/j.out")" -eq 2 ] && grep -q "added bob" "$dir/j.err"' \
    "--json: /who, /contacts, /rooms and /history print JSON lines on stdout"

# bob is offline: a message to him is stored, and jimc says so (once per run of them).
printf '/msg bob are you there\n/msg bob hello?\n' | "$jimc" -u alice 127.0.0.1 "$port" > "$dir/s.out" 2>&1
rc=$?
printf 'still there?\n' | "$jimc" -u alice -w --to bob 127.0.0.1 "$port" 2>"$dir/err"
rc2=$?
check '[ $rc -eq 0 ] && [ "$(grep -c "stored for bob (offline)" "$dir/s.out")" -eq 1 ] && [ $rc2 -eq 0 ] && grep -q "stored for bob (offline)" "$dir/err"' \
    "a message stored for an offline recipient (202) says 'stored for bob (offline)'"

"$jimc" -u alice 127.0.0.1 1 </dev/null 2>"$dir/err"; rc=$?
check '[ $rc -eq 69 ] && [ $(wc -l < "$dir/err") -eq 1 ]' "no server: one line, exit 69"
JIM_PASSWORD=wrong "$jimc" -u alice -w --to bob 127.0.0.1 "$port" </dev/null 2>"$dir/err"; rc=$?
check '[ $rc -eq 77 ] && grep -q "refused" "$dir/err"' "a wrong password: exit 77"
"$jimc" -r -w 127.0.0.1 2>"$dir/err"; rc=$?
check '[ $rc -eq 64 ] && grep -q "do not go together" "$dir/err" && [ $(wc -l < "$dir/err") -eq 1 ]' \
    "usage errors exit 64 with a reason, on one line"
"$jimc" --bogus 127.0.0.1 2>"$dir/err"; rc=$?
check '[ $rc -eq 64 ] && [ "$(cat "$dir/err")" = "jimc: unknown option --bogus (see jimc --help)" ]' \
    "an unknown option: one line and where to look (see jimc --help), exit 64"

# Registration refused, for the server's reasons or ours: 77, as jimc.1 says.
JIM_PASSWORD=short "$jimc" -u carol --register 127.0.0.1 "$port" </dev/null 2>"$dir/err"; rc=$?
JIM_PASSWORD=password1 "$jimc" -u 'bad name' --register 127.0.0.1 "$port" </dev/null 2>"$dir/err2"; rc2=$?
check '[ $rc -eq 77 ] && grep -q "too short" "$dir/err" && [ $rc2 -eq 77 ] && grep -q "bad account name" "$dir/err2"' \
    "a refused registration (short password, bad name) exits 77"
# No password (no JIM_PASSWORD and no terminal to ask on): said, and no log-in is tried.
setsid -w env -u JIM_PASSWORD "$jimc" -u alice 127.0.0.1 1 </dev/null 2>"$dir/err"; rc=$?
check '[ $rc -eq 77 ] && grep -q "no password given" "$dir/err" && [ $(wc -l < "$dir/err") -eq 1 ]' \
    "no password given: said on one line, exit 77, without connecting"

# A failed log-in or a bad host leaves no store folder; a log-in that works makes one.
JIM_PASSWORD=wrong "$jimc" -u dave 127.0.0.1 "$port" </dev/null 2>/dev/null
"$jimc" -u dave no.such.host.invalid 7777 </dev/null 2>/dev/null
ls "$XDG_DATA_HOME/jim" > "$dir/stores"
check '! grep -q "^dave@" "$dir/stores" && ! grep -q "bad name" "$dir/stores" && grep -q "^alice@127.0.0.1_$port$" "$dir/stores"' \
    "a failed log-in or a bad host leaves no store folder behind"

# The launcher of N clients: everyone gets everyone else's room messages.
out=$(JIMC="$jimc" bash "${top_srcdir:-.}/contrib/jim-crowd.sh" -n 3 -m 2 127.0.0.1 "$port")
timed '[ "$(echo "$out" | grep -c "received 4 room messages")" -eq 3 ]' \
    "contrib/jim-crowd.sh: 3 clients each receive the 4 messages of the other two"

# The password from a file (first line), not from the environment.
printf 'password1\nignored\n' > "$dir/pw"
printf 'from a file\n' | env -u JIM_PASSWORD "$jimc" -u alice --password-file "$dir/pw" -w --to bob 127.0.0.1 "$port" 2>/dev/null
rc=$?
env -u JIM_PASSWORD "$jimc" -u alice --password-file "$dir/nope" -w --to bob 127.0.0.1 "$port" </dev/null 2>"$dir/err"
rc2=$?
check '[ $rc -eq 0 ] && [ $rc2 -eq 64 ] && grep -q "cannot read the password" "$dir/err"' \
    "--password-file: the first line is the password; a missing file exits 64"

# jimd restarts under a reader: -r reconnects, says so on stderr, and catches up.
logins=$(grep -c "bob logged in" "$dir/jimd.log")
"$jimc" -u bob -r 127.0.0.1 "$port" > "$dir/r.out" 2> "$dir/r.err" &
reader=$!
wait_log "bob logged in" $((logins + 1))
printf 'before the restart\n' | "$jimc" -u alice -w --to bob 127.0.0.1 "$port"
jimd_stop
jimd_up
printf 'after the restart\n' | "$jimc" -u alice -w --to bob 127.0.0.1 "$port"
wait_file "$dir/r.out" "after the restart"
alive=0; kill -0 "$reader" 2>/dev/null && alive=1
check '[ $alive -eq 1 ] && grep -q "alice: .*before the restart" "$dir/r.out" && grep -q "alice: .*after the restart" "$dir/r.out"' \
    "-r survives a server restart and prints what came after it"
check 'grep -q "jimc: connection lost, reconnecting" "$dir/r.err" && grep -q "^jimc: reconnected$" "$dir/r.err" && ! grep -q "reconnect" "$dir/r.out"' \
    "-r says 'reconnected' on stderr; stdout has only messages"
kill -TERM "$reader"; wait "$reader"; rc=$?
check '[ $alive -eq 1 ] && [ $rc -eq 0 ]' "-r still ends with 0 on SIGTERM after a reconnect"

# A reader whose account is gone when the server comes back (a new database): 77.
"$jimc" -u erin --register -r --store none 127.0.0.1 "$port" > /dev/null 2> "$dir/e.err" &
reader=$!
wait_log "erin logged in" 1
jimd_stop
mkdir "$dir/db.keep" && mv "$dir"/jimd.db* "$dir/db.keep/"
jimd_up
for _ in $(seq 200); do kill -0 "$reader" 2>/dev/null || break; sleep 0.05; done
kill -TERM "$reader" 2>/dev/null; wait "$reader"; rc=$?
check '[ $rc -eq 77 ] && grep -q "logging in again failed" "$dir/e.err"' \
    "-r exits 77 when logging in again is refused"
jimd_stop
rm -f "$dir"/jimd.db* && mv "$dir/db.keep/"* "$dir/" && rmdir "$dir/db.keep"
jimd_up

# A script that runs while jimd stops and comes back: the message typed meanwhile is
# shown as pending, kept, and sent when the connection is back.
mkfifo "$dir/in"
"$jimc" -u alice 127.0.0.1 "$port" < "$dir/in" > "$dir/p.out" 2>&1 &
script=$!
exec 5>"$dir/in"
echo '/msg bob before the outage' >&5
wait_file "$dir/p.out" "stored for bob"
jimd_stop
echo 'typed while the server was down' >&5
wait_file "$dir/p.out" "pending"
jimd_up 5>&- # jimd must not hold the script's stdin open
wait_file "$dir/p.out" "sent to bob: typed while the server was down"
exec 5>&-
wait "$script"; rc=$?
count=$(stored_once "typed while the server was down")
check '[ $rc -eq 0 ] && grep -q "pending: the connection is down" "$dir/p.out" && grep -q "^-- reconnected$" "$dir/p.out" && [ "$count" -eq 1 ]' \
    "a message typed while the server is down is shown as pending and sent once when it is back"

# The same, but jimc ends before the server is back: kept in the store, and sent (once)
# by the next jimc of that account.
"$jimc" -u alice 127.0.0.1 "$port" < "$dir/in" > "$dir/p.out" 2>&1 &
script=$!
exec 5>"$dir/in"
echo '/rooms' >&5
wait_file "$dir/p.out" "#pipes"
jimd_stop
echo '/msg bob kept for the next run' >&5
exec 5>&-
wait "$script"; rc=$?
check '[ $rc -eq 69 ] && grep -q "1 message not sent yet: kept, and sent at the next login" "$dir/p.out"' \
    "jimc ending with a message pending says it is kept, and exits 69"
jimd_up
"$jimc" -u alice 127.0.0.1 "$port" </dev/null > "$dir/p.out" 2>&1; rc=$?
count=$(stored_once "kept for the next run")
check '[ $rc -eq 0 ] && grep -q "pending from before, sending it now: -> bob: kept for the next run" "$dir/p.out" && grep -q "sent to bob: kept for the next run" "$dir/p.out" && [ "$count" -eq 1 ]' \
    "the next jimc sends the kept message at log-in, once"

# One table of commands: /help lists every command jimc takes, /exit among them.
printf '/help\n' | "$jimc" -u alice --store none 127.0.0.1 "$port" > "$dir/h.out" 2>&1
printf '/exit\n' | "$jimc" -u alice --store none 127.0.0.1 "$port" > /dev/null 2>&1; rc=$?
check '[ $rc -eq 0 ] && (for c in /msg /join /leave /contacts /add /del /who /rooms /history /quit /exit /help; do grep -q "^-- $c " "$dir/h.out" || exit 1; done)' \
    "/help lists every command, /exit too, and /exit leaves"

# The general chat (the course's lesson 2): -w without --to writes to it, -r prints it,
# and a line without a command goes there until another chat is picked.
"$jimc" -u gina --register -r --store none 127.0.0.1 "$port" > "$dir/g.out" 2>"$dir/g.err" &
greader=$!
for _ in $(seq 100); do grep -q "gina logged in" "$dir/jimd.log" 2>/dev/null && break; sleep 0.05; done
printf 'hello everyone\n' | "$jimc" -u hank --register -w --store none 127.0.0.1 "$port"; rc=$?
printf 'from a script\n' | "$jimc" -u hank --store none 127.0.0.1 "$port"; rc2=$?
for _ in $(seq 100); do [ "$(grep -c . "$dir/g.out")" -ge 2 ] && break; sleep 0.05; done
kill -TERM "$greader"; wait "$greader"
check '[ $rc -eq 0 ] && [ $rc2 -eq 0 ] && grep -q "#general hank: hello everyone" "$dir/g.out" && grep -q "#general hank: from a script" "$dir/g.out"' \
    "-w without --to writes to the general chat, -r prints it, and so does a plain line"

# contrib/jim-pair.sh: a reader and a writer of one account side by side (without tmux).
printf '' | "$jimc" -u ivy --register --store none 127.0.0.1 "$port" 2>/dev/null
{ sleep 1; printf 'said by the pair\n'; sleep 1; } |
    TMUX=none JIMC="$jimc" bash "${top_srcdir:-.}/contrib/jim-pair.sh" -u ivy 127.0.0.1 "$port" > "$dir/pair.out" 2>&1
rc=$?
timed '[ $rc -eq 0 ] && grep -q "#general ivy: said by the pair" "$dir/pair.out"' \
    "contrib/jim-pair.sh: the reader shows what the writer of the same account sends"

# Too many failed log-ins: jimd answers 429, and jimc says how long to wait. (Last: the
# failures are counted per address too.)
printf '' | "$jimc" -u frank --register --store none 127.0.0.1 "$port" 2>/dev/null
for _ in 1 2 3 4 5; do JIM_PASSWORD=wrong "$jimc" -u frank 127.0.0.1 "$port" </dev/null 2>/dev/null; done
"$jimc" -u frank 127.0.0.1 "$port" </dev/null 2>"$dir/err"; rc=$?
check '[ $rc -eq 77 ] && grep -q "refused: too many failed log-ins; try again in [0-9]* s$" "$dir/err"' \
    "a log-in refused with 429 says how long to wait (retry_after)"

# The server goes away under a writer: it ends with 69 instead of waiting on every line.
jimd_stop
{ sleep 0.1; printf 'late\nlater\n'; } | timeout 60 "$jimc" -u alice -w --to bob --store none 127.0.0.1 "$port" 2>"$dir/err"
rc=$?
check '[ $rc -eq 69 ]' "a writer whose server is gone exits 69"
