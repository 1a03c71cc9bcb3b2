#!/bin/sh
# jimctl.sh — jimctl's commands against a real jimd over its control socket: accounts made,
# listed, given a role and a password, kicked, banned and unbanned; settings changed; the
# exit codes for usage, refusals, a missing socket and a user who may not use it.
. "${srcdir:-.}/tests/jimd_lib.sh"
jimctl="${top_builddir:-.}/jimctl/jimctl"
[ -n "${JIMC_WRAPPER:-}" ] && jimctl=$(wrap "$jimctl" "$JIMC_WRAPPER" jimctl)
echo "1..24"
jimd_up
sock="$dir/jimd.ctl"
ctl() { "$jimctl" -s "$sock" "$@"; }
# Logs in as $1 with password $2 and leaves at once: jimc's exit status.
login() { printf '' | JIM_PASSWORD="$2" "$jimc" -u "$1" --store none 127.0.0.1 "$port" >/dev/null 2>&1; }

check '[ "$(stat -c %a "$sock")" = 600 ]' "the control socket is made with mode 0600"
echo 'secret-admin' | ctl adduser alice --admin; rc=$?
check '[ $rc -eq 0 ]' "adduser --admin reads the password from stdin"
echo 'secret-bob1' | ctl adduser bob; rc=$?
check '[ $rc -eq 0 ] && login bob secret-bob1' "adduser makes an account that logs in"
echo 'whatever1' | ctl adduser bob 2>"$dir/err"; rc=$?
check '[ $rc -eq 65 ] && grep -q "account exists" "$dir/err"' "adduser of an existing account: 65, one line"
echo 'short' | ctl adduser carol 2>"$dir/err"; rc=$?
check '[ $rc -eq 65 ] && [ "$(wc -l < "$dir/err")" -eq 1 ]' "a password too short: 65, one line"
ctl adduser dave </dev/null 2>"$dir/err"; rc=$?
check '[ $rc -eq 64 ]' "adduser without a password on stdin: 64"

ctl users > "$dir/users"; rc=$?
check '[ $rc -eq 0 ] && grep -q "^alice	admin	no	" "$dir/users" && grep -q "^bob	user	no	" "$dir/users"' \
    "users lists the accounts with their roles (tab-separated in a pipe)"
check '[ "$(ctl users a | wc -l)" -eq 1 ]' "users PREFIX lists only the matching accounts"
ctl --json users b > "$dir/users.json"
check 'grep -q "\"action\":\"user_stat\".*\"user_id\":\"bob\".*\"logins\":1" "$dir/users.json"' \
    "users --json prints user_stat objects, with the log-ins counted"
ctl stats > "$dir/stats"; rc=$?
check '[ $rc -eq 0 ] && grep -q "^workers	1$" "$dir/stats" && grep -q "^db_bytes	[1-9]" "$dir/stats"' \
    "stats prints the server's counters"
check 'ctl --json stats | grep -q "\"uptime\":"' "stats --json prints the admin_stats response"

check 'ctl role bob admin && ctl users bob | grep -q "^bob	admin"' "role NAME admin makes an admin"
ctl role bob god 2>/dev/null; rc=$?
check '[ $rc -eq 64 ]' "role with neither admin nor user: 64"
ctl role nobody admin 2>"$dir/err"; rc=$?
check '[ $rc -eq 65 ] && grep -q "no such user" "$dir/err"' "role of an unknown account: 65"

echo 'secret-bob2' | ctl passwd bob; rc=$?
check '[ $rc -eq 0 ] && login bob secret-bob2 && ! login bob secret-bob1' \
    "passwd sets a new password: the new one works, the old one no longer"

check 'ctl ban bob "test ban"' "ban"
login bob secret-bob2; rc=$?
check '[ $rc -eq 77 ]' "a banned account cannot log in"
check 'ctl unban bob && login bob secret-bob2' "unban: the account logs in again"
check 'ctl kick bob' "kick of an account with no session: done"
ctl kick nobody 2>/dev/null; rc=$?
check '[ $rc -eq 65 ]' "kick of an unknown account: 65"

check 'ctl set registration closed' "set registration closed"
ctl set port 1 2>"$dir/err"; rc=$?
check '[ $rc -eq 65 ] && grep -q "restart" "$dir/err"' "set of a setting that needs a restart: 65"

"$jimctl" -s "$dir/no.ctl" stats 2>"$dir/err"; rc=$?
check '[ $rc -eq 69 ] && [ "$(wc -l < "$dir/err")" -eq 1 ]' "no jimd at the socket: 69, one line"
ctl frobnicate 2>/dev/null; rc=$?
check '[ $rc -eq 64 ]' "an unknown command: 64"
jimd_stop
