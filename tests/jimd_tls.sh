#!/usr/bin/env bash
# jimd_tls.sh — jimd's TLS from the outside: a JIM session through `openssl s_client`
# (TLS 1.2 and 1.3, no compression, older versions refused), plain JIM beside it, and
# half-configured TLS refused at start and by -t with one line and exit 78. Prints TAP.
. "${srcdir:-.}/tests/jimd_lib.sh"
certs="$dir/certs"
"${srcdir:-.}/contrib/jim-certs.sh" "$certs" >/dev/null 2>&1 || { echo "Bail out! jim-certs.sh failed"; exit 1; }
"${srcdir:-.}/contrib/jim-certs.sh" --out other "$certs" >/dev/null 2>&1
"${srcdir:-.}/contrib/jim-certs.sh" "$dir/certs2" >/dev/null 2>&1 # another CA: its key fits no cert here
echo "1..15"

# One JIM request through s_client: prints what the server answered (s_client -quiet
# prints only the stream). $1: extra s_client flags.
through_sclient() {
    { printf '{"action":"presence","time":1,"type":"status","user":{"account_name":"nobody","status":"x"}}\n'
      sleep 1; } | timeout 10 openssl s_client -connect "127.0.0.1:$port" -servername localhost \
        -CAfile "$certs/ca.pem" -verify_return_error -quiet $1 2>"$dir/sclient.err"
}

printf 'log_file %s/jimd.log\nlog_level info\nscrypt_n 1024\ntls_cert %s/server.pem\ntls_key %s/server.key\n' \
    "$dir" "$certs" "$certs" > "$dir/jimd.conf"
jimd_up
out=$(through_sclient "-tls1_3")
check 'echo "$out" | grep -q "\"response\": *401"' "a JIM request through openssl s_client (TLS 1.3) is answered"
out=$(through_sclient "-tls1_2")
check 'echo "$out" | grep -q "\"response\": *401"' "and through TLS 1.2"
out=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$port" -CAfile "$certs/ca.pem" 2>&1)
check 'echo "$out" | grep -q "Compression: NONE" && echo "$out" | grep -q "Verify return code: 0"' \
    "the session has no compression and the certificate verifies against the CA"
out=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$port" -tls1_1 -cipher 'DEFAULT@SECLEVEL=0' 2>&1)
check '! echo "$out" | grep -q "^New, TLS"' "TLS 1.1 is refused"
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf '{"action":"get_rooms"}\n' >&3
IFS= read -r -t 5 line <&3
exec 3>&-
check 'echo "$line" | grep -q "\"response\": *401"' "plain JIM on the same port beside TLS (tls auto: optional)"
jimd_stop

# tls required: a plain connection gets one 403 and is closed; TLS still talks.
printf 'tls required\n' >> "$dir/jimd.conf"
jimd_up
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf '{"action":"get_rooms"}\n' >&3
IFS= read -r -t 5 line <&3
IFS= read -r -t 5 more <&3; rc=$?
exec 3>&-
check 'echo "$line" | grep -q "\"response\": *403" && echo "$line" | grep -q "TLS required" && [ $rc -ne 0 ] && [ -z "$more" ]' \
    "tls required: a plain connection gets one 403 and is closed"
out=$(through_sclient "")
check 'echo "$out" | grep -q "\"response\": *401"' "tls required: TLS is served"
jimd_stop

# tls_ca: a TLS client must show a certificate that CA signed.
openssl req -new -newkey rsa:2048 -nodes -keyout "$dir/client.key" -subj /CN=client 2>/dev/null |
    openssl x509 -req -CA "$certs/ca.pem" -CAkey "$certs/ca.key" -days 1 -out "$dir/client.pem" \
        -extfile <(printf 'extendedKeyUsage = clientAuth\n') 2>/dev/null
sed -i '/^tls required/d' "$dir/jimd.conf"
printf 'tls_ca %s/ca.pem\n' "$certs" >> "$dir/jimd.conf"
jimd_up
out=$(through_sclient "")
check '! echo "$out" | grep -q "\"response\""' "tls_ca: a TLS client without a certificate is not served"
out=$(through_sclient "-cert $dir/client.pem -key $dir/client.key")
check 'echo "$out" | grep -q "\"response\": *401"' "tls_ca: a TLS client with a certificate from that CA is served"
jimd_stop

# Half-configured TLS: one line, exit 78, never a plain server.
base="log_file $dir/half.log\n"
half() { # $1: config lines; $2: what the one line must say
    printf "$base$1" > "$dir/half.conf"
    "$jimd" -c "$dir/half.conf" -a 127.0.0.1 -p 0 -w 1 -D "$dir/half.db" 2>"$dir/err" >/dev/null; rc=$?
    "$jimd" -c "$dir/half.conf" -t 2>"$dir/err-t" >/dev/null; rc_t=$?
    [ $rc -eq 78 ] && [ $rc_t -eq 78 ] && [ "$(wc -l < "$dir/err")" -eq 1 ] && grep -q "$2" "$dir/err" &&
        grep -q "$2" "$dir/err-t"
}
check 'half "tls_cert $certs/server.pem\n" "tls_cert is set but tls_key is not"' \
    "a certificate without its key: exit 78 with one line (and jimd -t too)"
check 'half "tls_cert $certs/server.pem\ntls_key $dir/nothing.key\n" "tls_key $dir/nothing.key: No such file"' \
    "an unreadable key file: exit 78, the line names the setting and the file"
check 'half "tls_cert $certs/server.pem\ntls_key $dir/certs2/server.key\n" "does not match the certificate"' \
    "a key that does not match the certificate: exit 78"
check 'half "tls required\n" "tls required needs tls_cert and tls_key"' \
    "tls required without a certificate: exit 78"
check 'half "tls_cert $certs/server.key\ntls_key $certs/server.key\n" "not a PEM certificate"' \
    "a file that is no certificate: exit 78"
printf "${base}tls off\ntls_cert $dir/nothing.pem\n" > "$dir/off.conf"
"$jimd" -c "$dir/off.conf" -t >/dev/null 2>&1
check '[ $? -eq 0 ]' "tls off: the TLS files are not read"
