#!/usr/bin/env bash
# jimc_pipes.sh — jimc in shell pipes against a real jimd: -w sends stdin lines, -r
# prints the chat (JSON lines for jq, and quietly ends when head closes the pipe),
# commands from stdin, and the documented exit codes. Prints TAP.
. "${top_srcdir:-.}/tests/jimd_lib.sh"
echo "1..16"
jimd_up

# bob reads in the background; alice writes three lines through a pipe.
"$jimc" -u bob --register -r --json 127.0.0.1 "$port" > "$dir/bob.out" 2> "$dir/bob.err" &
reader=$!
for _ in $(seq 100); do grep -q "bob logged in" "$dir/jimd.log" 2>/dev/null && break; sleep 0.05; done
printf 'hi bob\n{"not":"json, just text"}\ncaf\xc3\xa9\n' | "$jimc" -u alice --register -w --to bob 127.0.0.1 "$port"
rc=$?
check '[ $rc -eq 0 ]' "-w sends every stdin line and exits 0"
for _ in $(seq 100); do [ "$(wc -l < "$dir/bob.out")" -ge 3 ] && break; sleep 0.05; done
kill -TERM "$reader"; wait "$reader"; rrc=$?
check '[ "$(wc -l < "$dir/bob.out")" -eq 3 ]' "-r prints each message on one line"
check 'head -n 1 "$dir/bob.out" | grep -q "\"from\":\"alice\"" && head -n 1 "$dir/bob.out" | grep -q "\"message\":\"hi bob\""' \
    "--json lines carry from and message"
check 'sed -n 2p "$dir/bob.out" | grep -qF "{\\\"not\\\":\\\"json, just text\\\"}"' "text that looks like JSON stays text"
check 'sed -n 3p "$dir/bob.out" | grep -qF "caf\\u00e9"' "non-ASCII is escaped in JSON lines"
check '[ $rrc -eq 0 ] && [ ! -s "$dir/bob.err" ]' "-r ends quietly on SIGTERM with exit 0"

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

printf 'to the room\n' | "$jimc" -u alice -w --to '#pipes' 127.0.0.1 "$port"
rc=$?
out=$(printf '/history #pipes 1\n' | "$jimc" -u alice 127.0.0.1 "$port")
check '[ $rc -eq 0 ] && echo "$out" | grep -q "#pipes alice: to the room"' "-w --to '#room' sends to the room"

"$jimc" -u alice 127.0.0.1 1 </dev/null 2>"$dir/err"; rc=$?
check '[ $rc -eq 69 ] && [ $(wc -l < "$dir/err") -eq 1 ]' "no server: one line, exit 69"
JIM_PASSWORD=wrong "$jimc" -u alice -w --to bob 127.0.0.1 "$port" </dev/null 2>"$dir/err"; rc=$?
check '[ $rc -eq 77 ] && grep -q "refused" "$dir/err"' "a wrong password: exit 77"
"$jimc" -w 127.0.0.1 2>"$dir/err"; rc=$?
check '[ $rc -eq 64 ] && grep -q "needs --to" "$dir/err"' "usage errors exit 64 with a reason"

# The launcher of N clients: everyone gets everyone else's room messages.
out=$(JIMC="$jimc" bash "${top_srcdir:-.}/contrib/jim-crowd.sh" -n 3 -m 2 127.0.0.1 "$port")
check '[ "$(echo "$out" | grep -c "received 4 room messages")" -eq 3 ]' \
    "contrib/jim-crowd.sh: 3 clients each receive the 4 messages of the other two"

# The password from a file (first line), not from the environment.
printf 'password1\nignored\n' > "$dir/pw"
printf 'from a file\n' | env -u JIM_PASSWORD "$jimc" -u alice --password-file "$dir/pw" -w --to bob 127.0.0.1 "$port"
rc=$?
env -u JIM_PASSWORD "$jimc" -u alice --password-file "$dir/nope" -w --to bob 127.0.0.1 "$port" </dev/null 2>"$dir/err"
rc2=$?
check '[ $rc -eq 0 ] && [ $rc2 -eq 64 ] && grep -q "cannot read the password" "$dir/err"' \
    "--password-file: the first line is the password; a missing file exits 64"

# The server goes away under a writer: it ends with 69 instead of waiting on every line.
kill -TERM "$jimd_pid"; wait "$jimd_pid" 2>/dev/null; jimd_pid=
{ sleep 0.1; printf 'late\nlater\n'; } | timeout 60 "$jimc" -u alice -w --to bob --store none 127.0.0.1 "$port" 2>"$dir/err"
rc=$?
check '[ $rc -eq 69 ]' "a writer whose server is gone exits 69"
