#!/bin/sh
# jim-certs.sh — makes a private certificate authority and a server certificate signed by it,
# for jimd's TLS on a LAN or in tests, and says what to type next. Needs the openssl command.
set -eu

usage() {
    cat <<'EOF'
usage: jim-certs.sh [--out BASE] [--expired] [--days N] DIR [NAME...]
Makes, in DIR (created, mode 0700):
  ca.pem, ca.key       a private CA (kept when DIR has one: every certificate made in DIR is
                       signed by the same CA)
  server.pem, .key     a server certificate for NAME... (subjectAltName; names and IP
                       addresses; default: localhost 127.0.0.1 ::1), signed by the CA
Options:
  --out BASE   write BASE.pem and BASE.key instead of server.pem and server.key
  --expired    a certificate that expired yesterday (to test that clients refuse it)
  --days N     how long the server certificate is valid (default 825 days)
Then jimd takes tls_cert/tls_key, and clients trust DIR/ca.pem (jimc --tls --ca DIR/ca.pem).
EOF
}

out=server expired=0 days=825
while [ $# -gt 0 ]; do
    case "$1" in
        --out) [ $# -ge 2 ] || { echo "jim-certs.sh: --out needs a name" >&2; exit 64; }
               out=$2; shift 2 ;;
        --expired) expired=1; shift ;;
        --days) [ $# -ge 2 ] || { echo "jim-certs.sh: --days needs a number" >&2; exit 64; }
                days=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        --) shift; break ;;
        -*) echo "jim-certs.sh: unknown option $1 (see --help)" >&2; exit 64 ;;
        *) break ;;
    esac
done
[ $# -ge 1 ] || { usage >&2; exit 64; }
case "$days" in ''|*[!0-9]*) echo "jim-certs.sh: --days takes a number of days" >&2; exit 64 ;; esac
case "$out" in ''|*/*) echo "jim-certs.sh: --out takes a plain file name" >&2; exit 64 ;; esac
command -v openssl >/dev/null 2>&1 || {
    echo "jim-certs.sh: the openssl command is needed (Debian: apt-get install openssl)" >&2
    exit 69
}
dir=$1
shift
[ $# -gt 0 ] || set -- localhost 127.0.0.1 ::1

umask 077
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# subjectAltName: IP addresses (with a dot of digits, or a colon) as IP, the rest as DNS.
san=""
for name in "$@"; do
    case "$name" in
        *:*|[0-9]*.[0-9]*.[0-9]*.[0-9]*) entry="IP:$name" ;;
        *) entry="DNS:$name" ;;
    esac
    san="${san:+$san,}$entry"
done
cat > "$tmp/server.ext" <<EOF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = $san
EOF

quiet() { "$@" > "$tmp/log" 2>&1 || { cat "$tmp/log" >&2; echo "jim-certs.sh: $1 failed" >&2; exit 70; }; }

if [ ! -f "$dir/ca.pem" ] || [ ! -f "$dir/ca.key" ]; then
    quiet openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 3650 \
        -subj "/CN=jim private CA $(hostname 2>/dev/null || echo host) $(date +%Y-%m-%d)" \
        -addext "basicConstraints = critical, CA:TRUE" \
        -addext "keyUsage = critical, keyCertSign, cRLSign"
    made_ca=1
else
    made_ca=0
fi

quiet openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$tmp/key.pem" -out "$tmp/req.pem" -subj "/CN=$1"
if [ "$expired" -eq 1 ]; then
    # openssl ca is the one that takes dates in the past: valid 30 days ago to yesterday.
    : > "$tmp/index.txt"
    cat > "$tmp/ca.cnf" <<EOF
[ca]
default_ca = jim
[jim]
database = $tmp/index.txt
new_certs_dir = $tmp
serial = $tmp/serial
default_md = sha256
policy = anything
unique_subject = no
[anything]
commonName = supplied
EOF
    openssl rand -hex 16 > "$tmp/serial"
    quiet openssl ca -batch -notext -config "$tmp/ca.cnf" -cert "$dir/ca.pem" \
        -keyfile "$dir/ca.key" -in "$tmp/req.pem" -out "$tmp/cert.pem" \
        -extfile "$tmp/server.ext" \
        -startdate "$(date -u -d '30 days ago' +%Y%m%d%H%M%SZ)" \
        -enddate "$(date -u -d '1 day ago' +%Y%m%d%H%M%SZ)"
else
    quiet openssl x509 -req -in "$tmp/req.pem" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
        -set_serial "0x$(openssl rand -hex 16)" -days "$days" -sha256 \
        -extfile "$tmp/server.ext" -out "$tmp/cert.pem"
fi
mv "$tmp/cert.pem" "$dir/$out.pem"
mv "$tmp/key.pem" "$dir/$out.key"
chmod 644 "$dir/ca.pem" "$dir/$out.pem"
chmod 600 "$dir/ca.key" "$dir/$out.key"

what="a certificate"
[ "$expired" -eq 1 ] && what="an EXPIRED certificate (for tests)"
[ "$made_ca" -eq 1 ] && echo "made the private CA $dir/ca.pem (its key $dir/ca.key: keep it secret)"
echo "made $what for $*: $dir/$out.pem, key $dir/$out.key"
cat <<EOF

In jimd's configuration file (then start jimd, or send it SIGHUP):
    tls_cert $dir/$out.pem
    tls_key  $dir/$out.key
    tls      optional        # TLS and plain JIM on one port; "required" refuses plain
A client then connects with TLS and trusts this CA:
    jimc --tls --ca $dir/ca.pem -u NAME $1
Copy $dir/ca.pem (never ca.key) to each client machine.
EOF
