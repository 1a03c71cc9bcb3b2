#!/bin/sh
# jimd_config_doc.sh — one source of truth for jimd's settings: the table behind
# --help-config also writes the config file (--print-config) and jimd.conf(5)
# (--man-config, built into doc/man/jimd.conf.5), so every setting appears in each with the
# same default; the file with every line uncommented is valid and changes nothing; the
# packaged /etc/jim/jimd.conf (contrib/debian/jimd.conf.in) sets only the service's paths.
# Prints TAP.
jimd="${top_builddir:-.}/jimd/jimd"
man="${top_builddir:-.}/doc/man/jimd.conf.5"
dir=$(mktemp -d /tmp/jim-confdoc-XXXXXX)
trap 'rm -rf "$dir"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { if eval "$1"; then ok "$2"; else nok "$2"; fi; }
echo "1..7"

"$jimd" --help-config >"$dir/help"
"$jimd" --print-config >"$dir/conf"
"$jimd" --man-config >"$dir/man"
# name default, one line per setting, from each source ("" for an empty default).
awk '/^[a-z_]+ .*default: / {d = $NF; if (d == "(empty)") d = "\"\""; print $1, d}' "$dir/help" >"$dir/from-help"
# (the file quotes a value with a '#' in it, which would start a comment)
sed -n 's/^#\([a-z_][a-z_]*\) \(.*\)$/\1 \2/p' "$dir/conf" | sed 's/ "\(..*\)"$/ \1/' >"$dir/from-conf"
awk '/^\.B / {name = $2; gsub(/\\-/, "-", name)}
     /^Range: / {d = $0; sub(/.*default: /, "", d); sub(/(; restart)?\.$/, "", d);
                 gsub(/\\-/, "-", d); gsub(/\\&/, "", d); if (d == "empty") d = "\"\""; print name, d}' \
    "$dir/man" >"$dir/from-man"
count=$(wc -l <"$dir/from-help")
check '[ "$count" -gt 40 ] && cmp -s "$dir/from-help" "$dir/from-conf"' \
    "--print-config has all $count settings of --help-config, commented out at the same defaults"
check 'cmp -s "$dir/from-help" "$dir/from-man"' "jimd.conf(5) lists the same settings with the same defaults"
check 'cmp -s "$dir/man" "$man"' "the built doc/man/jimd.conf.5 is jimd --man-config's output"
check '[ "$(grep -c "^\.B " "$dir/man")" -ge "$count" ] && ! grep -q "^[a-z_][a-z_]* " "$dir/conf"' \
    "nothing is set in the default file: every setting line is a comment"

# Uncommented, the file is valid and its values are the defaults: printing it again
# leaves every line a comment.
sed 's/^#\([a-z_][a-z_]* \)/\1/' "$dir/conf" >"$dir/all.conf"
check '"$jimd" -t -c "$dir/all.conf" >/dev/null && "$jimd" -c "$dir/all.conf" --print-config | cmp -s - "$dir/conf"' \
    "every line uncommented: jimd -t accepts it, and every value is the default"

# A value changed by the file or a flag is written uncommented, with the default beside.
printf 'msg_rate 50\ngeneral_chat ""\n' >"$dir/some.conf"
"$jimd" -c "$dir/some.conf" -p 8000 --print-config >"$dir/some"
check 'grep -qx "msg_rate 50" "$dir/some" && grep -qx "port 8000" "$dir/some" &&
    grep -qx "general_chat \"\"" "$dir/some" && grep -qx "# default: 200" "$dir/some" &&
    [ "$(grep -c "^[a-z_][a-z_]* " "$dir/some")" -eq 3 ] && "$jimd" -t -c "$dir/some" >/dev/null' \
    "values from -c and flags are written uncommented, and the result is valid"

deb="${top_srcdir:-.}/contrib/debian/jimd.conf.in"
"$jimd" -c "$deb" --print-config >"$dir/deb.conf"
check '"$jimd" -t -c "$dir/deb.conf" >/dev/null &&
    [ "$(grep "^[a-z_][a-z_]* " "$dir/deb.conf" | tr "\n" " ")" = "database /var/lib/jim/jimd.db pidfile /run/jim/jimd.pid " ]' \
    "the packaged jimd.conf sets only database and pidfile, and is valid"
