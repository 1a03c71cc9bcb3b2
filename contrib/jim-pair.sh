#!/usr/bin/env bash
# jim-pair.sh — the course's two-window launcher: one jimc reading the chat and one
# writing to it, for the same account, side by side in tmux (or, without tmux, the
# reader in the background of this terminal and the writer in the foreground).
#
#   contrib/jim-pair.sh [-u NAME] [--to TARGET] [ADDRESS [PORT]]
#
# The writer writes to the general chat, where every user is, unless --to names a user or
# a #room.
#
# The password comes from JIM_PASSWORD (asked once here if unset), never from argv.
set -euo pipefail
jimc=${JIMC:-jimc}
command -v "$jimc" >/dev/null 2>&1 || jimc="$(dirname "$0")/../build/jimc/jimc"
user=${USER:-guest}
to=""
while [ $# -gt 0 ]; do
    case "$1" in
    -u) user=$2; shift 2 ;;
    --to) to=$2; shift 2 ;;
    -h | --help) sed -n '2,11p' "$0"; exit 0 ;;
    -*) echo "jim-pair.sh: unknown option $1" >&2; exit 64 ;;
    *) break ;;
    esac
done
addr=${1:-127.0.0.1}
port=${2:-7777}
if [ -z "${JIM_PASSWORD:-}" ]; then
    read -r -s -p "password for $user: " JIM_PASSWORD
    echo
fi
export JIM_PASSWORD
# One account, two sessions: the reader stays on, the writer sends each line to $to.
to_args=()
[ -n "$to" ] && to_args=(--to "$to")
if command -v tmux >/dev/null 2>&1 && [ -z "${TMUX:-}" ]; then
    tmux new-session -d -s "jim-$user" "$jimc -u $user -r $addr $port"
    tmux split-window -v -t "jim-$user" "$jimc -u $user -w ${to:+--to '$to'} --store none $addr $port"
    exec tmux attach -t "jim-$user"
fi
"$jimc" -u "$user" -r "$addr" "$port" &
reader=$!
trap 'kill $reader 2>/dev/null' EXIT
"$jimc" -u "$user" -w "${to_args[@]}" --store none "$addr" "$port"
