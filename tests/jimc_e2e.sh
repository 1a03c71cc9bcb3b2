#!/usr/bin/env bash
# jimc_e2e.sh — jimc's TLS and end-to-end encryption against tests/fakejim (a tiny JIM server
# that serves TLS and put_key/get_key, which jimd does not yet): --tls/--ca/--insecure, a TLS
# failure in one line with exit 69, messages unreadable on the wire and shown with a lock
# mark (JSON: "e2e":true), what cannot be decrypted said as such, a changed key refused
# (-w: exit 65, nothing sent) until /trust, /fingerprint, /e2e off. Prints TAP.
. "${top_srcdir:-.}/tests/jimd_lib.sh"
fakejim="${top_builddir:-.}/tests/fakejim"
echo "1..23"

# Starts fakejim with the given options; sets $port and $fj.
fake_up() {
    "$fakejim" "$@" > "$dir/fake.out" 2>&1 &
    fj=$!
    port=
    for _ in $(seq 100); do
        port=$(sed -n 's/^port //p' "$dir/fake.out")
        [ -n "$port" ] && return 0
        sleep 0.05
    done
    echo "Bail out! fakejim did not start"
    exit 1
}
fake_down() { kill -TERM "$fj" 2>/dev/null; wait "$fj" 2>/dev/null; }
trap 'fake_down; jimd_down' EXIT
# Waits until file $1 has at least $2 lines (10 s at most).
wait_lines() {
    for _ in $(seq 200); do
        [ "$(wc -l < "$1" 2>/dev/null || echo 0)" -ge "$2" ] && return 0
        sleep 0.05
    done
    return 1
}

sh "${top_srcdir:-.}/contrib/jim-certs.sh" "$dir/certs" > /dev/null
sh "${top_srcdir:-.}/contrib/jim-certs.sh" --out other "$dir/certs" other.example > /dev/null
sh "${top_srcdir:-.}/contrib/jim-certs.sh" --expired --out old "$dir/certs" > /dev/null
sh "${top_srcdir:-.}/contrib/jim-certs.sh" "$dir/other-ca" > /dev/null
ca="$dir/certs/ca.pem"

# ---- TLS --------------------------------------------------------------------------
fake_up --tls "$dir/certs/server.pem" "$dir/certs/server.key"
"$jimc" -u bob --register -r --json --tls --ca "$ca" localhost "$port" > "$dir/bob.out" 2> "$dir/bob.err" &
reader=$!
for _ in $(seq 100); do grep -q "account bob created" "$dir/bob.err" && break; sleep 0.05; done
sleep 0.3
printf 'over tls\n' | "$jimc" -u alice --register -w --to bob --ca "$ca" localhost "$port" 2> "$dir/w.err"
rc=$?
wait_lines "$dir/bob.out" 1
check '[ $rc -eq 0 ] && grep -q "\"message\":\"over tls\"" "$dir/bob.out"' \
    "--tls --ca: -w and -r talk over TLS checked against a private CA"
kill -TERM "$reader"; wait "$reader"

printf 'x\n' | "$jimc" -u alice -w --to bob --ca "$dir/other-ca/ca.pem" localhost "$port" > "$dir/o.out" 2> "$dir/o.err"
rc=$?
check '[ $rc -eq 69 ] && [ "$(wc -l < "$dir/o.err")" -eq 1 ] && grep -q "unknown CA" "$dir/o.err"' \
    "an unknown CA: exit 69 and one line that says so"
printf 'x\n' | "$jimc" -u alice -w --to bob --tls localhost "$port" 2> "$dir/o.err"
rc=$?
check '[ $rc -eq 69 ] && grep -q "unknown CA" "$dir/o.err"' "--tls alone trusts the system's store, which does not know a private CA"
printf 'x\n' | "$jimc" -u alice -w --to bob --insecure localhost "$port" 2> "$dir/o.err"
rc=$?
check '[ $rc -eq 0 ] && grep -q "WARNING: --insecure" "$dir/o.err"' "--insecure connects and warns"
printf 'x\n' | "$jimc" -u alice -w --to bob --ca /nonexistent.pem localhost "$port" 2> "$dir/o.err"
rc=$?
check '[ $rc -eq 64 ] && grep -q "cannot load the CA file /nonexistent.pem: No such file" "$dir/o.err"' \
    "a CA file that cannot be read: exit 64 and why"
printf 'x\n' | "$jimc" -u alice -w --to bob 127.0.0.1 "$port" > /dev/null 2>&1
rc=$?
check '[ $rc -eq 69 ]' "a plain client to a TLS-only server fails with 69"
fake_down

fake_up --tls "$dir/certs/other.pem" "$dir/certs/other.key"
printf 'x\n' | "$jimc" -u alice -w --to bob --ca "$ca" localhost "$port" 2> "$dir/o.err"
rc=$?
check '[ $rc -eq 69 ] && [ "$(wc -l < "$dir/o.err")" -eq 1 ] && grep -q "name mismatch" "$dir/o.err"' \
    "a certificate for another name: exit 69, name mismatch"
fake_down
fake_up --tls "$dir/certs/old.pem" "$dir/certs/old.key"
printf 'x\n' | "$jimc" -u alice -w --to bob --ca "$ca" localhost "$port" 2> "$dir/o.err"
rc=$?
check '[ $rc -eq 69 ] && [ "$(wc -l < "$dir/o.err")" -eq 1 ] && grep -q "expired" "$dir/o.err"' \
    "an expired certificate: exit 69, expired"
fake_down

# ---- end-to-end encryption ---------------------------------------------------------
rm -rf "$dir/data"
fake_up --capture "$dir/wire"
LANG=C LC_ALL= LC_CTYPE= "$jimc" -u bob --register -r 127.0.0.1 "$port" > "$dir/bob.txt" 2>/dev/null &
r1=$!
# A second reader of the account needs a store of its own (two readers of one store show
# each message once between them) and the same key: the files store beside the first.
"$jimc" -u bob -r --json --store files 127.0.0.1 "$port" > "$dir/bob.json" 2>/dev/null &
r2=$!
sleep 0.5
printf 'the plan is secret\n' | "$jimc" -u alice --register -w --to bob 127.0.0.1 "$port" 2>/dev/null
rc=$?
wait_lines "$dir/bob.txt" 1
wait_lines "$dir/bob.json" 1
check '[ $rc -eq 0 ] && grep -q "\"message\":\"the plan is secret\"" "$dir/bob.json" && grep -q "\"e2e\":true" "$dir/bob.json"' \
    "-r --json prints the decrypted message with \"e2e\":true"
check 'grep -q "alice: \[e2e\] the plan is secret" "$dir/bob.txt" || { sed "s/^/# /" "$dir/bob.txt"; false; }' "-r marks an encrypted line ([e2e] outside UTF-8)"
check '! grep -q "the plan is secret" "$dir/wire" && grep -q "x25519-chacha20poly1305" "$dir/wire"' \
    "the server never sees the text, only the envelope"
kill -TERM "$r1" "$r2"; wait "$r1" "$r2"
check '[ "$(stat -c %a "$dir/data/jim/alice@127.0.0.1_$port/e2e_key")" = 600 ] && grep -q "^bob " "$dir/data/jim/alice@127.0.0.1_$port/e2e_pins"' \
    "the private key is kept beside the store (0600) and bob's key is pinned"

out=$(printf '/fingerprint\n' | "$jimc" -u bob 127.0.0.1 "$port" 2>&1)
bob_fp=$(echo "$out" | sed -n 's/^-- your key (bob): //p')
out=$(printf '/fingerprint bob\n/msg bob hi\n/e2e\n' | LANG=C.UTF-8 "$jimc" -u alice 127.0.0.1 "$port" 2>&1)
check '[ -n "$bob_fp" ] && echo "$out" | grep -qF -- "-- bob: $bob_fp (trusted)" && echo "$out" | grep -q "end-to-end encryption with bob: on (key: trusted)"' \
    "/fingerprint shows one's own key and the peer's, the same on both sides; /e2e its state"

printf '/msg alice hi back\n' | "$jimc" -u bob 127.0.0.1 "$port" > /dev/null 2>&1
out=$(printf '' | LANG=C.UTF-8 "$jimc" -u alice 127.0.0.1 "$port" 2>&1)
check 'echo "$out" | grep -q "bob: 🔒 hi back"' "a lock mark in a UTF-8 locale (offline delivery, decrypted)"

printf '/msg bob\n/msg bob in the clear now\n' > /dev/null
out=$(printf '/msg bob first\n/e2e off\n/msg bob in the clear now\n/e2e on\n/msg bob secret again\n' |
      "$jimc" -u alice 127.0.0.1 "$port" 2>&1)
check 'grep -q "in the clear now" "$dir/wire" && ! grep -q "secret again" "$dir/wire" && echo "$out" | grep -q "encryption with bob: off"' \
    "/e2e off sends the conversation in the clear, /e2e on encrypts again"

# bob comes back with another key: alice's -w sends nothing and exits 65.
printf '' | XDG_DATA_HOME="$dir/another-device" "$jimc" -u bob -w 127.0.0.1 "$port" 2>/dev/null
before=$(grep -c '"action":"msg"' "$dir/wire")
printf 'one\ntwo\n' | "$jimc" -u alice -w --to bob 127.0.0.1 "$port" 2> "$dir/w.err"
rc=$?
after=$(grep -c '"action":"msg"' "$dir/wire")
check '[ $rc -eq 65 ] && [ "$before" = "$after" ] && [ "$(wc -l < "$dir/w.err")" -eq 1 ] && grep -q "nothing sent: the end-to-end key of bob changed" "$dir/w.err"' \
    "-w to a user whose key changed: exit 65, one line, nothing sent"
out=$(printf '/msg bob refused\n' | "$jimc" -u alice 127.0.0.1 "$port" 2>&1)
rc=$?
check '[ $rc -eq 65 ] && echo "$out" | grep -q "not sent: the end-to-end key of bob changed" && echo "$out" | grep -q "/trust bob"' \
    "a script's message to a changed key is refused and says how to go on"
out=$(printf '/fingerprint bob\n/trust bob\n' | "$jimc" -u alice 127.0.0.1 "$port" 2>&1)
check 'echo "$out" | grep -q "pinned .*, published now .*CHANGED" && echo "$out" | grep -q "trusted the new key of bob"' \
    "/fingerprint shows both keys of a changed one; /trust accepts the new one"
printf 'trusted now\n' | "$jimc" -u alice -w --to bob 127.0.0.1 "$port" 2>/dev/null
rc=$?
check '[ $rc -eq 0 ] && ! grep -q "trusted now" "$dir/wire"' "after /trust, -w sends again, encrypted"
fake_down

# A damaged envelope is shown as such, never as text; a server without keys: plain.
rm -rf "$dir/data"
fake_up --tamper
"$jimc" -u bob --register -r 127.0.0.1 "$port" > "$dir/bob.txt" 2>/dev/null &
r1=$!
sleep 0.5
printf 'not for the server\n' | "$jimc" -u alice --register -w --to bob 127.0.0.1 "$port" 2>/dev/null
wait_lines "$dir/bob.txt" 1
kill -TERM "$r1"; wait "$r1"
check 'grep -q "alice: \[encrypted message not decrypted: cannot be decrypted" "$dir/bob.txt" && ! grep -q "not for the server" "$dir/bob.txt"' \
    "a damaged message is shown as not decrypted, not as text"
fake_down
rm -rf "$dir/data"
fake_up --no-keys --capture "$dir/wire2"
"$jimc" -u bob --register -r --json 127.0.0.1 "$port" > "$dir/bob.json" 2>/dev/null &
r1=$!
sleep 0.5
printf 'plain as before\n' | "$jimc" -u alice --register -w --to bob 127.0.0.1 "$port" 2> "$dir/w.err"
rc=$?
wait_lines "$dir/bob.json" 1
kill -TERM "$r1"; wait "$r1"
check '[ $rc -eq 0 ] && grep -q "plain as before" "$dir/bob.json" && ! grep -q "e2e" "$dir/bob.json" && [ "$(cat "$dir/w.err")" = "jimc: account alice created" ]' \
    "a server that answers put_key 400: messages go plain, -w quietly"
out=$(printf '/fingerprint bob\n/e2e\n/msg bob hi\n' | "$jimc" -u alice --to bob 127.0.0.1 "$port" 2>&1)
rc=$?
check '[ $rc -eq 0 ] && echo "$out" | grep -q "bob: this server keeps no keys"' \
    "/fingerprint says the server keeps no keys"
check 'grep -c "\"action\":\"put_key\"" "$dir/wire2" | grep -qv "^0$"' "every login still offers the key (put_key)"
