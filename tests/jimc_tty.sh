#!/usr/bin/env bash
# jimc_tty.sh — interactive jimc on a pseudo-terminal (tmux): /join, a message, tab
# completion, an incoming message printed above a half-typed line, the prompt after
# commands that print, a message typed while jimd is down (pending, then sent), /quit,
# and the password prompts; the test reads what the screen shows. Prints TAP.
. "${top_srcdir:-.}/tests/jimd_lib.sh"
tests=17
echo "1..$tests"
if ! command -v tmux >/dev/null 2>&1; then
    for i in $(seq $tests); do echo "ok $i - # SKIP tmux is not installed"; done
    exit 0
fi
jimd_up
sock="$dir/tmux.sock"
tm() { tmux -S "$sock" "$@"; }
screen() { tm capture-pane -p -t jimc; }
wait_for() { # text, tries of 0.1 s
    for _ in $(seq "${2:-50}"); do screen | grep -qF -- "$1" && return 0; sleep 0.1; done
    return 1
}
printf 'x\n' | "$jimc" -u tbob --register -w --to tbob 127.0.0.1 "$port" 2>/dev/null
tm new-session -d -s jimc -x 100 -y 30 \
    "env TERM=xterm NO_COLOR=1 XDG_DATA_HOME='$XDG_DATA_HOME' XDG_STATE_HOME='$XDG_STATE_HOME' JIM_PASSWORD=password1 '$jimc' -u tann --register 127.0.0.1 $port; echo jimc exited \$?; sleep 30"
check 'wait_for "logged in as tann"' "the interactive client starts with a prompt"

tm send-keys -t jimc "/join #tty" Enter
check 'wait_for "joined #tty" && wait_for "#tty>"' "/join joins and makes the room the prompt's chat"

tm send-keys -t jimc "/he" Tab
check 'wait_for "/help"' "tab completes a command"
tm send-keys -t jimc C-u
tm send-keys -t jimc "/add tbob" Enter
wait_for "added tbob" 20
tm send-keys -t jimc "/msg tb" Tab
check 'wait_for "/msg tbob"' "tab completes a contact's name"
tm send-keys -t jimc C-u

tm send-keys -t jimc "hello from the terminal" Enter
for _ in $(seq 30); do
    out=$(printf '/join #tty\n/history #tty\n' | "$jimc" -u tbob --store none 127.0.0.1 "$port" 2>&1)
    echo "$out" | grep -q "hello from the terminal" && break
    sleep 0.1
done
check 'echo "$out" | grep -q "hello from the terminal"' "plain text goes to the current chat"

# A half-typed line survives a message printed above it.
tm send-keys -t jimc "half typed"
sleep 0.3
printf 'ping tann\n' | "$jimc" -u tbob -w --to tann 127.0.0.1 "$port"
check 'wait_for "ping tann" && screen | grep -q "tbob: .*ping tann" && screen | grep -q "#tty> half typed"' \
    "an incoming message prints above the prompt and the typed line is redrawn"
# A command that prints leaves the next prompt on a line of its own (it was drawn glued to
# the typed command: "#tty> /who#tty> /rooms").
tm send-keys -t jimc C-u "/who" Enter
wait_for "tbob offline" 20
tm send-keys -t jimc "/rooms" Enter
wait_for "#tty (1)" 20
check 'screen | grep -qx "#tty> /who" && screen | grep -qx "#tty> /rooms" && ! screen | grep -q "/who.*>"' \
    "after a command that prints, the prompt is drawn on a line of its own"

# jimd stops: a message typed meanwhile is shown as pending and sent when it is back.
jimd_stop
check 'wait_for "connection lost, reconnecting"' "a lost connection is said at once"
tm send-keys -t jimc "typed while jimd was down" Enter
check 'wait_for "pending: the connection is down; the message to #tty is kept"' \
    "a message typed while the server is down is shown as pending"
jimd_up
check 'wait_for "-- reconnected" 100 && wait_for "sent to #tty: typed while jimd was down" 100' \
    "when the server is back: 'reconnected', and the pending message is sent"

tm send-keys -t jimc C-u "/quit" Enter
check 'wait_for "jimc exited 0" && grep -q "^/join #tty$" "$XDG_STATE_HOME/jim/history"' \
    "/quit ends the client with exit 0; the line history is saved"

# Without NO_COLOR the terminal gets colour (the prompt's name in bold).
tm new-session -d -s colour -x 100 -y 30 \
    "env TERM=xterm XDG_DATA_HOME='$XDG_DATA_HOME' XDG_STATE_HOME='$XDG_STATE_HOME' JIM_PASSWORD=password1 '$jimc' -u tcol --register 127.0.0.1 $port; sleep 30"
for _ in $(seq 50); do tm capture-pane -p -t colour | grep -q "tcol>" && break; sleep 0.1; done
check 'tm capture-pane -e -p -t colour | grep -q $'"'"'\033\[1m'"'"'' "colour on a terminal without NO_COLOR"

# Without JIM_PASSWORD the password is asked for on the terminal, and not echoed; to
# register, twice.
pane_has() { # session, text
    for _ in $(seq 50); do tm capture-pane -p -t "$1" | grep -qF -- "$2" && return 0; sleep 0.1; done
    return 1
}
tm new-session -d -s ask -x 100 -y 30 \
    "env -u JIM_PASSWORD TERM=xterm NO_COLOR=1 XDG_DATA_HOME='$XDG_DATA_HOME' XDG_STATE_HOME='$XDG_STATE_HOME' '$jimc' -u tann2 --register 127.0.0.1 $port; sleep 30"
pane_has ask "password for tann2"
tm send-keys -t ask "sekret-pass-9" Enter
pane_has ask "the same again, to confirm"
tm send-keys -t ask "sekret-pass-9" Enter
pane_has ask "logged in as tann2"
check 'tm capture-pane -p -t ask | grep -q "account tann2 created" && tm capture-pane -p -t ask | grep -q "logged in as tann2" && ! tm capture-pane -p -t ask | grep -q "sekret-pass-9"' \
    "registering asks for the password twice, echoes neither, says the account was created"
# /passwd: the old password, then the new one twice, none of them echoed.
tm send-keys -t ask "/passwd" Enter
pane_has ask "old password:"
tm send-keys -t ask "sekret-pass-9" Enter
pane_has ask "new password:"
tm send-keys -t ask "new-pass-10" Enter
pane_has ask "the same again, to confirm"
tm send-keys -t ask "new-pass-10" Enter
pane_has ask "password changed"
check 'tm capture-pane -p -t ask | grep -q "password changed" && ! tm capture-pane -p -t ask | grep -q "new-pass-10"' \
    "/passwd asks for the old and the new password without echo, and says it changed"
login_as() { printf '' | JIM_PASSWORD="$2" "$jimc" -u "$1" --store none 127.0.0.1 "$port" >/dev/null 2>&1; }
check 'login_as tann2 new-pass-10' "after /passwd the new password logs in"
tm new-session -d -s differ -x 100 -y 30 \
    "env -u JIM_PASSWORD TERM=xterm NO_COLOR=1 XDG_DATA_HOME='$XDG_DATA_HOME' XDG_STATE_HOME='$XDG_STATE_HOME' '$jimc' -u tann3 --register 127.0.0.1 $port; echo jimc exited \$?; sleep 30"
pane_has differ "password for tann3"
tm send-keys -t differ "first-pass-1" Enter
pane_has differ "the same again, to confirm"
tm send-keys -t differ "other-pass-2" Enter
pane_has differ "jimc exited"
check 'tm capture-pane -p -t differ | grep -q "jimc: the two passwords differ; nothing was registered" && tm capture-pane -p -t differ | grep -q "jimc exited 64"' \
    "two different passwords at registration: one line, exit 64"
tm new-session -d -s nopw -x 100 -y 30 \
    "env -u JIM_PASSWORD TERM=xterm NO_COLOR=1 XDG_DATA_HOME='$XDG_DATA_HOME' XDG_STATE_HOME='$XDG_STATE_HOME' '$jimc' -u tann 127.0.0.1 $port; echo jimc exited \$?; sleep 30"
pane_has nopw "password for tann"
tm send-keys -t nopw C-c
pane_has nopw "jimc exited"
check 'tm capture-pane -p -t nopw | grep -q "jimc: no password given" && tm capture-pane -p -t nopw | grep -q "jimc exited 77" && ! grep -q "failed login for .tann." "$dir/jimd.log"' \
    "Ctrl-C at the password prompt: 'no password given', exit 77, no log-in tried"
tm kill-server 2>/dev/null
