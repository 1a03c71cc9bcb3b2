#!/usr/bin/env bash
# debcheck.sh DIR — installs the packages `make deb` left in DIR into a clean root and runs
# the installed jimd with the installed /etc/jim/jimd.conf, then logs in and sends a
# presence to it, and a message with the installed jimc (which links the installed
# libjim.so.1); the installed jim-qt starts under Qt's offscreen platform and says its
# version. Prints TAP.
#
# The root is a Debian 12 chroot when one is at hand: $JIM_DEBCHECK_BASE (a directory made
# by `debootstrap --variant=minbase bookworm DIR`) is copied, the packages are installed
# there with apt-get (which fetches their dependencies from the mirror, as on a user's
# machine) so the maintainer scripts run, and jimd runs as _jim inside it. Without a base
# (or not root) every package is unpacked with dpkg -x into a scratch tree instead
# (dpkg --root cannot run maintainer scripts in a tree with no shell in it), jimd runs
# from there with the libraries of this machine, and the conffile's paths are moved into
# the tree: the maintainer scripts are then checked only by lintian.
set -u
debs_dir=${1:?usage: debcheck.sh DIR-WITH-DEBS}
debs=()
for d in "$debs_dir"/*.deb; do
    case "$d" in *-dbgsym_*) ;; *) debs+=("$d") ;; esac # the debug symbols are not installed
done
scratch=$(mktemp -d /var/tmp/jim-debcheck-XXXXXX)
jimd_pid=
mounted=
cleanup() {
    [ -n "$jimd_pid" ] && kill "$jimd_pid" 2>/dev/null && wait "$jimd_pid" 2>/dev/null
    [ -n "$mounted" ] && umount "$scratch/root/proc" 2>/dev/null
    rm -rf "$scratch"
}
trap cleanup EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }

free_port() {
    local p
    for p in $(shuf -i 20000-32000 -n 20); do
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
}

echo "1..7"
if [ "${#debs[@]}" -eq 0 ] || [ ! -e "${debs[0]}" ]; then
    nok "no packages in $debs_dir (make deb first)"
    exit 1
fi
names=$(for d in "${debs[@]}"; do dpkg-deb -f "$d" Package; done | LC_ALL=C sort | tr '\n' ' ')
if [ "$names" = "jim-qt jimc jimd libjim-dev libjim1 " ]; then ok "the packages: $names"
else nok "the packages are: $names"; fi

root="$scratch/root"
base=${JIM_DEBCHECK_BASE:-}
if [ -n "$base" ] && [ -x "$base/bin/sh" ] && [ "$(id -u)" -eq 0 ]; then
    mode=chroot
    cp -a "$base" "$root"
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    mkdir -p "$root/debs" && cp "${debs[@]}" "$root/debs/"
    mount -t proc proc "$root/proc" && mounted=1
    # What a user does: apt install ./*.deb (the service is not started: no systemd here).
    if chroot "$root" sh -c 'export DEBIAN_FRONTEND=noninteractive; apt-get update -qq &&
            apt-get install -y -qq --no-install-recommends /debs/*.deb' >"$scratch/apt.log" 2>&1; then
        ok "apt-get install of every package into a clean Debian 12 chroot (maintainer scripts ran)"
    else
        nok "apt-get install into the chroot failed" "$(tail -20 "$scratch/apt.log")"
        exit 1
    fi
    user=$(chroot "$root" getent passwd _jim)
    state=$(chroot "$root" stat -c '%U %a' /var/lib/jim 2>&1)
    if [ -n "$user" ] && [ "$state" = "_jim 750" ]; then
        ok "postinst made the system user _jim ($user) and /var/lib/jim ($state)"
    else nok "user '$user', /var/lib/jim '$state'"; fi
    conf="$root/etc/jim/jimd.conf"
    port=$(free_port)
    # As the service runs it: user _jim, the installed config; only the port is chosen here.
    chroot --userspec=_jim:_jim "$root" /usr/sbin/jimd -c /etc/jim/jimd.conf -p "$port" -w 2 \
        2>"$scratch/jimd.log" &
    jimd_pid=$!
    run_jimc() { chroot "$root" env HOME=/tmp JIM_PASSWORD=password2 /usr/bin/jimc "$@"; }
    run_jimqt() { chroot "$root" env HOME=/tmp QT_QPA_PLATFORM=offscreen /usr/bin/jim-qt "$@"; }
else
    mode=extract
    mkdir -p "$root"
    for d in "${debs[@]}"; do dpkg -x "$d" "$root"; done
    ok "dpkg -x of every package into a scratch tree (no chroot base: maintainer scripts not run)"
    mkdir -p "$root/var/lib/jim" "$root/run/jim"
    if [ -f "$root/etc/jim/jimd.conf" ] && [ -x "$root/usr/sbin/jimd" ]; then
        ok "the tree has /etc/jim/jimd.conf and /usr/sbin/jimd"
    else nok "/etc/jim/jimd.conf or /usr/sbin/jimd missing"; fi
    conf="$scratch/jimd.conf"
    # The installed config, its paths moved into the scratch tree.
    sed -e "s|/var/lib/jim/|$root/var/lib/jim/|" -e "s|/run/jim/|$root/run/jim/|" \
        "$root/etc/jim/jimd.conf" >"$conf"
    port=$(free_port)
    libdir=$(dirname "$(find "$root/usr/lib" -name 'libjim.so.1' | head -1)")
    "$root/usr/sbin/jimd" -c "$conf" -p "$port" -w 2 2>"$scratch/jimd.log" &
    jimd_pid=$!
    run_jimc() { env HOME="$scratch" LD_LIBRARY_PATH="$libdir" JIM_PASSWORD=password2 \
        "$root/usr/bin/jimc" "$@"; }
    run_jimqt() { env HOME="$scratch" LD_LIBRARY_PATH="$libdir" QT_QPA_PLATFORM=offscreen \
        "$root/usr/bin/jim-qt" "$@"; }
fi

for _ in $(seq 300); do
    grep -q "ready: .* workers serving" "$scratch/jimd.log" 2>/dev/null && break
    kill -0 "$jimd_pid" 2>/dev/null || break
    sleep 0.1
done
if grep -q "ready: 2 workers serving" "$scratch/jimd.log"; then
    ok "the installed jimd ($mode) serves with the installed default config: $(grep -o 'database [^,]*' "$scratch/jimd.log" | head -1)"
else nok "jimd did not start" "$(tail -5 "$scratch/jimd.log")"; fi

# register, authenticate, presence: each answered 2xx.
answers=$(
    exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 0
    printf '{"action":"register","time":1,"user":{"account_name":"alice","password":"password1"}}\n' >&3
    IFS= read -r -t 10 a <&3
    printf '{"action":"authenticate","time":1,"user":{"account_name":"alice","password":"password1","features":["ndjson"]}}\n' >&3
    IFS= read -r -t 10 b <&3
    printf '{"action":"presence","time":1,"type":"status","user":{"account_name":"alice","status":"online"}}\n' >&3
    IFS= read -r -t 10 c <&3
    echo "$a $b $c" | grep -o '"response":[0-9]*' | tr '\n' ' '
)
if [ "$answers" = '"response":201 "response":200 "response":200 ' ]; then
    ok "register, authenticate and presence answered: $answers"
else nok "answers: '$answers'" "$(tail -5 "$scratch/jimd.log")"; fi

if printf 'hello from the package\n' | run_jimc -u bob --register --store none -w --to alice \
    127.0.0.1 "$port" >"$scratch/jimc.out" 2>&1; then
    ok "the installed jimc (installed libjim.so.1) registers and sends a message"
else nok "jimc failed" "$(cat "$scratch/jimc.out")"; fi
kill "$jimd_pid" 2>/dev/null
wait "$jimd_pid" 2>/dev/null
jimd_pid=

# jim-qt from the installed files (with the installed libjim.so.1), no display needed: its
# version is the package's, its --help names --admin, and its man page and desktop entry
# are installed.
want=
for d in "${debs[@]}"; do
    [ "$(dpkg-deb -f "$d" Package)" = jim-qt ] && want=$(dpkg-deb -f "$d" Version)
done
qtver=$(run_jimqt --version 2>"$scratch/jim-qt.err")
qthelp=$(run_jimqt --help 2>>"$scratch/jim-qt.err")
if [ -n "$want" ] && [ "$qtver" = "jim-qt $want" ] && printf '%s\n' "$qthelp" | grep -q -- '--admin' &&
    [ -f "$root/usr/share/man/man1/jim-qt.1.gz" ] &&
    [ -f "$root/usr/share/applications/jim-qt.desktop" ]; then
    ok "the installed jim-qt ($mode, offscreen) says '$qtver', offers --admin; its man page and desktop entry are installed"
else nok "jim-qt: version '$qtver' (package $want)" "$(head -5 "$scratch/jim-qt.err")" \
    "$(printf '%s\n' "$qthelp" | head -5)"; fi
