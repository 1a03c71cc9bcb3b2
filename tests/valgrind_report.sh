#!/usr/bin/env bash
# valgrind_report.sh DIR — reads every valgrind log in DIR (one per process: test programs,
# jimd's master, workers and upkeep children, jimc) and prints what each process left: memcheck
# errors, memory definitely or indirectly lost, and descriptors open at exit that it opened
# itself and were not meant to last as long as the process. Exits 1 if any process left any.
#
# Meant to last: jimd's log (opened or reopened), its lock and pid files, its listening sockets, the master's
# signalfd, the control socket of each worker and the administration socket (all open until
# the process ends, by design).
# Descriptors inherited from the parent are the caller's, not the process's.
dir=${1:?usage: valgrind_report.sh DIR}
lifetime='lock_file|jim_log_open|listen_on|control_pair|control_socket_open|jim_log_reopen|signalfd \(signalfd.c'
procs=0 bad=0
for log in "$dir"/*.log; do
    [ -f "$log" ] || continue
    procs=$((procs + 1))
    cmd=$(sed -n 's/^==[0-9]*== Command: //p' "$log" | head -1)
    errors=$(sed -n 's/^==[0-9]*== ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -1)
    lost=$(awk '/definitely lost:|indirectly lost:/ {gsub(",", "", $4); n += $4} END {print n + 0}' "$log")
    # One record per open descriptor: its first line, then where it was opened.
    fds=$(awk -v ok="$lifetime" '
        /Open (file descriptor|AF_[A-Z0-9]* socket)/ { if (rec != "") check(); rec = $0; where = ""; next }
        rec != "" && /^==[0-9]*== *$/ { check(); rec = ""; next }
        rec != "" { where = where $0 "\n" }
        function check() {
            if (where ~ /inherited from parent/ || where ~ ok) return
            sub(/^==[0-9]*== /, "", rec); print rec
        }
        END { if (rec != "") check() }' "$log")
    if [ "${errors:-0}" -ne 0 ] || [ "$lost" -ne 0 ] || [ -n "$fds" ]; then
        bad=$((bad + 1))
        echo "$(basename "$log"): ${cmd:-?}"
        [ "${errors:-0}" -ne 0 ] && echo "  $errors memcheck errors (leaks included)"
        [ "$lost" -ne 0 ] && echo "  $lost bytes definitely or indirectly lost"
        [ -n "$fds" ] && printf '%s\n' "$fds" | sed 's/^/  left open: /'
        grep -A12 "definitely lost in loss record\|indirectly lost in loss record\|^==[0-9]*== \(Invalid\|Conditional\|Syscall\|Mismatched\)" "$log" |
            grep -m 12 "at 0x\|by 0x\|lost in\|Invalid\|Conditional" | sed 's/^==[0-9]*==/   /'
    fi
done
echo "valgrind: $procs processes checked, $bad with errors, leaks or descriptors left open"
[ "$procs" -gt 0 ] && [ "$bad" -eq 0 ]
