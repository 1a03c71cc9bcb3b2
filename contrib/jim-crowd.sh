#!/usr/bin/env bash
# jim-crowd.sh — the course's "start N clients" launcher: N accounts (crowd1..crowdN)
# join one room, each sends M messages to it and reads what the others send; prints
# how many messages each client received. Bounded: every client ends after M messages
# and a short wait. Loopback by default.
#
#   contrib/jim-crowd.sh [-n N] [-m M] [--room '#name'] [ADDRESS [PORT]]
set -euo pipefail
jimc=${JIMC:-jimc}
command -v "$jimc" >/dev/null 2>&1 || jimc="$(dirname "$0")/../build/jimc/jimc"
n=5
m=3
room='#crowd'
while [ $# -gt 0 ]; do
    case "$1" in
    -n) n=$2; shift 2 ;;
    -m) m=$2; shift 2 ;;
    --room) room=$2; shift 2 ;;
    -h | --help) sed -n '2,8p' "$0"; exit 0 ;;
    -*) echo "jim-crowd.sh: unknown option $1" >&2; exit 64 ;;
    *) break ;;
    esac
done
addr=${1:-127.0.0.1}
port=${2:-7777}
export JIM_PASSWORD=${JIM_PASSWORD:-crowd-password}
out=$(mktemp -d /tmp/jim-crowd-XXXXXX)
trap 'rm -rf "$out"' EXIT
# Everyone joins first, so every message has all N members to reach.
for i in $(seq "$n"); do
    printf '/join %s\n' "$room" | "$jimc" -u "crowd$i" --register --store none "$addr" "$port" \
        >/dev/null 2>&1 || true
done
for i in $(seq "$n"); do
    {
        printf '/join %s\n' "$room"
        sleep 1 # until every client is logged in: a room reaches only who is online
        for j in $(seq "$m"); do printf 'message %d from crowd%d\n' "$j" "$i"; sleep 0.05; done
        sleep 1 # what the others send meanwhile arrives and is printed
    } | "$jimc" -u "crowd$i" --store none "$addr" "$port" > "$out/crowd$i.log" 2>&1 &
done
wait
for i in $(seq "$n"); do
    got=$(grep -c "$room crowd" "$out/crowd$i.log" || true)
    echo "crowd$i received $got room messages"
done
