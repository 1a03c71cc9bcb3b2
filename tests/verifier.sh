#!/bin/sh
# verifier.sh — the course's role check, on the built objects: the server (jimd) never
# calls connect(), the client side (libjim, jimc) never calls accept() or listen(), and
# the server does listen and accept on stream sockets. Prints TAP.
b="${top_builddir:-.}"
NM="${NM:-nm}"
echo "1..4"

undefined() { # the undefined symbols of the given object files
    for o in "$@"; do [ -f "$o" ] && $NM -u "$o"; done | awk '{print $NF}' | sed 's/@.*//' | sort -u
}

server_objs=$(ls "$b"/jimd/*.o 2>/dev/null)
client_objs=$(ls "$b"/libjim/src/*.o "$b"/libjim/src/.libs/*.o "$b"/jimc/*.o 2>/dev/null)

if [ -z "$server_objs" ]; then echo "not ok 1 - no jimd objects in $b/jimd"; exit 0; fi
srv=$(undefined $server_objs)
cli=$(undefined $client_objs)

if echo "$srv" | grep -qx 'connect'; then echo "not ok 1 - jimd calls connect()"
else echo "ok 1 - jimd never calls connect()"; fi

bad=$(echo "$cli" | grep -x -e accept -e accept4 -e listen)
if [ -n "$bad" ]; then echo "not ok 2 - the client side calls: $bad"
else echo "ok 2 - libjim and jimc never call accept() or listen()"; fi

if echo "$srv" | grep -qx 'listen' && echo "$srv" | grep -qx 'accept4'; then
    echo "ok 3 - jimd listens and accepts"
else echo "not ok 3 - jimd does not listen and accept"; fi

if grep -q 'SOCK_STREAM' "${top_srcdir:-.}"/jimd/master.cc; then
    echo "ok 4 - jimd's listening sockets are TCP stream sockets"
else echo "not ok 4 - no SOCK_STREAM listener in jimd/master.cc"; fi
