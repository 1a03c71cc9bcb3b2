# tests/local.mk — cmocka test programs and TAP scripts run by `make check`, and the benchmarks.
#
# Every test program prints TAP (cmocka with CMOCKA_MESSAGE_OUTPUT=TAP); automake's
# TAP driver counts each test case, and test-suite.log sums them.

LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
TEST_EXTENSIONS = .sh
SH_LOG_DRIVER = $(LOG_DRIVER)
SH_LOG_COMPILER = bash
AM_TESTS_ENVIRONMENT = \
	CMOCKA_MESSAGE_OUTPUT=TAP; export CMOCKA_MESSAGE_OUTPUT; \
	TZ=UTC; export TZ; \
	top_srcdir='$(top_srcdir)'; top_builddir='$(top_builddir)'; export top_srcdir top_builddir; \
	CC='$(CC)'; NM='$(NM)'; OBJDUMP='$(OBJDUMP)'; export CC NM OBJDUMP; \
	JIM_CFLAGS='$(JIM_CFLAGS)'; JIM_LDFLAGS='$(JIM_LDFLAGS)'; export JIM_CFLAGS JIM_LDFLAGS;

TEST_CPPFLAGS = $(AM_CPPFLAGS) $(CMOCKA_CFLAGS)
TEST_LDADD = libjim/libjim.la $(CMOCKA_LIBS)

unit_tests = \
	tests/test_errors \
	tests/test_limits \
	tests/test_message \
	tests/test_codec \
	tests/test_framer \
	tests/test_log \
	tests/test_e2e_crypto \
	tests/test_peer_protocol \
	tests/test_line_templates \
	tests/test_group_commit \
	tests/test_precise_timer \
	tests/test_wal_vfs \
	tests/test_name_set \
	tests/test_output_buffer \
	tests/test_mesh \
	tests/test_router \
	tests/test_session_list \
	tests/test_store_batches
# End-to-end: a real jimd (built first) on an ephemeral loopback port.
e2e_tests = \
	tests/test_jimd_protocol \
	tests/test_jimd_workers \
	tests/test_jimd_resilience \
	tests/test_jimd_logins \
	tests/test_jimd_admin \
	tests/test_jimd_abuse \
	tests/test_jimd_dialects \
	tests/test_jimd_notify \
	tests/test_client \
	tests/test_outbox
check_PROGRAMS += $(unit_tests) $(e2e_tests) tests/test_header_c99 tests/test_header_cxx \
	doc/examples/build_and_parse
TESTS += $(unit_tests) $(e2e_tests) tests/test_header_c99 tests/test_header_cxx \
	tests/example.sh tests/exports.sh tests/verifier.sh tests/jimd_cli.sh tests/jimd_daemon.sh \
	tests/jimc_pipes.sh tests/jimc_tty.sh tests/install.sh tests/jimd_bad_files.sh \
	tests/jimd_config_doc.sh tests/version.sh tests/jimd_journal.sh \
	tests/jimd_metrics.sh
# Peers that try to tie jimd up (a flood from one address, slowloris): TAP of its own.
check_PROGRAMS += tests/slow_peers
TESTS += tests/slow_peers
tests_slow_peers_SOURCES = tests/slow_peers.c
tests_slow_peers_LDADD = $(E2E_LDADD)
# Catching up after a long absence: make check hands over 50,000 messages, longcheck 1,000,000.
# crowd (longcheck only): 10,000 idle logged-in connections and 1,000 more over TLS for a
# minute beside 50 pairs.
check_PROGRAMS += tests/catchup tests/crowd
TESTS += tests/catchup
LOAD_HARNESS = tests/load_harness.c tests/load_harness.h
tests_catchup_SOURCES = tests/catchup.c $(LOAD_HARNESS)
tests_catchup_LDADD = $(E2E_LDADD)
tests_crowd_SOURCES = tests/crowd.c $(LOAD_HARNESS) tests/tls_harness.c tests/tls_harness.h
tests_crowd_LDADD = $(E2E_LDADD)
longcheck: tests/catchup$(EXEEXT) tests/crowd$(EXEEXT) jimd/jimd$(EXEEXT)
	@status=0; \
	top_builddir=$(top_builddir) tests/catchup -n 1000000 || status=1; \
	top_builddir=$(top_builddir) top_srcdir=$(top_srcdir) \
	    tests/crowd -n 10000 --tls 1000 -t 60 || status=1; \
	exit $$status
.PHONY: longcheck
# TLS and end-to-end encryption on the client side, against openssl s_server and fakejim (a
# tiny JIM server with TLS and the key actions that jimd does not serve yet).
client_tls_tests = tests/test_tls tests/test_e2e
check_PROGRAMS += $(client_tls_tests) tests/fakejim
TESTS += $(client_tls_tests) tests/jimc_e2e.sh
$(client_tls_tests): tests/fakejim$(EXEEXT)
EXTRA_DIST += tests/jimc_e2e.sh
tests_fakejim_SOURCES = tests/fakejim.c
tests_fakejim_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS)
tests_fakejim_LDADD = libjim/libjim.la $(OPENSSL_LIBS)
TLS_HARNESS = tests/tls_harness.c tests/tls_harness.h
tests_test_tls_SOURCES = tests/test_tls.c $(TLS_HARNESS)
tests_test_tls_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_tls_LDADD = $(TEST_LDADD) -lpthread
tests_test_e2e_SOURCES = tests/test_e2e.c $(TLS_HARNESS)
tests_test_e2e_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_e2e_LDADD = $(TEST_LDADD) -lpthread
# The same against the real jimd (each would skip, with the reason, against a jimd without
# TLS or the key actions); jimd_tls.sh: s_client, tls required, half-configured TLS.
jimd_tls_tests = tests/test_jimd_tls tests/test_jimd_e2e
check_PROGRAMS += $(jimd_tls_tests)
TESTS += $(jimd_tls_tests) tests/jimd_tls.sh
EXTRA_DIST += tests/jimd_tls.sh
$(jimd_tls_tests): jimd/jimd$(EXEEXT)
tests_test_jimd_tls_SOURCES = tests/test_jimd_tls.c $(TLS_HARNESS)
tests_test_jimd_tls_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_jimd_tls_LDADD = $(E2E_LDADD)
tests_test_jimd_e2e_SOURCES = tests/test_jimd_e2e.c $(TLS_HARNESS)
tests_test_jimd_e2e_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_jimd_e2e_LDADD = $(E2E_LDADD) -lpthread
# A stand-in for a syslog daemon, for jimd_daemon.sh.
check_PROGRAMS += tests/syslog_sink
tests_syslog_sink_SOURCES = tests/syslog_sink.c
check_LTLIBRARIES = tests/libjimdharness.la
tests_libjimdharness_la_SOURCES = tests/jimd_harness.c tests/jimd_harness.h
tests_libjimdharness_la_CPPFLAGS = $(AM_CPPFLAGS)
E2E_LDADD = tests/libjimdharness.la $(TEST_LDADD)
# The tests run the jimd just built.
$(e2e_tests) tests/slow_peers$(EXEEXT) tests/catchup$(EXEEXT) tests/crowd$(EXEEXT): jimd/jimd$(EXEEXT)
tests_test_jimd_protocol_SOURCES = tests/test_jimd_protocol.c
tests_test_jimd_protocol_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_jimd_protocol_LDADD = $(E2E_LDADD)
tests_test_jimd_workers_SOURCES = tests/test_jimd_workers.c
tests_test_jimd_workers_CPPFLAGS = $(TEST_CPPFLAGS) $(SQLITE_CFLAGS)
tests_test_jimd_workers_LDADD = $(E2E_LDADD) $(SQLITE_LIBS)
tests_test_jimd_resilience_SOURCES = tests/test_jimd_resilience.c
tests_test_jimd_resilience_CPPFLAGS = $(TEST_CPPFLAGS) $(SQLITE_CFLAGS)
tests_test_jimd_resilience_LDADD = $(E2E_LDADD) $(SQLITE_LIBS)

tests_test_jimd_logins_SOURCES = tests/test_jimd_logins.c
tests_test_jimd_logins_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_jimd_logins_LDADD = $(E2E_LDADD)

tests_test_jimd_admin_SOURCES = tests/test_jimd_admin.c
tests_test_jimd_admin_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_jimd_admin_LDADD = $(E2E_LDADD)
TESTS += tests/jimctl.sh
EXTRA_DIST += tests/jimctl.sh

tests_test_jimd_abuse_SOURCES = tests/test_jimd_abuse.c
tests_test_jimd_abuse_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_jimd_abuse_LDADD = $(E2E_LDADD)

tests_test_jimd_dialects_SOURCES = tests/test_jimd_dialects.c
tests_test_jimd_dialects_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_jimd_dialects_LDADD = $(E2E_LDADD)

tests_test_jimd_notify_SOURCES = tests/test_jimd_notify.c
tests_test_jimd_notify_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_jimd_notify_LDADD = $(E2E_LDADD)

tests_test_client_SOURCES = tests/test_client.c
tests_test_client_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_client_LDADD = $(E2E_LDADD) -lpthread
tests_test_outbox_SOURCES = tests/test_outbox.c
tests_test_outbox_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_outbox_LDADD = $(E2E_LDADD)

tests_test_errors_SOURCES = tests/test_errors.c
tests_test_errors_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_errors_LDADD = $(TEST_LDADD)
tests_test_limits_SOURCES = tests/test_limits.c
tests_test_limits_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_limits_LDADD = $(TEST_LDADD)
tests_test_message_SOURCES = tests/test_message.c
tests_test_message_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_message_LDADD = $(TEST_LDADD)
tests_test_codec_SOURCES = tests/test_codec.c
tests_test_codec_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_codec_LDADD = $(TEST_LDADD)
tests_test_framer_SOURCES = tests/test_framer.c
tests_test_framer_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_framer_LDADD = $(TEST_LDADD)
# The §7 construction and the key ring, from libjim's internal libraries.
tests_test_e2e_crypto_SOURCES = tests/test_e2e_crypto.cc
tests_test_e2e_crypto_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)/libjim/src
tests_test_e2e_crypto_CXXFLAGS = $(AM_CXXFLAGS) $(OPENSSL_CFLAGS)
tests_test_e2e_crypto_LDADD = libjim/libjimclient.la libjim/libjimcore.la $(YAJL_LIBS) \
	$(SQLITE_LIBS) $(OPENSSL_LIBS) $(CMOCKA_LIBS) -lpthread
# jimd's templated acknowledgement and push against libjim's encoder.
tests_test_line_templates_SOURCES = tests/test_line_templates.cc jimd/line_templates.cc \
	jimd/line_templates.hh
tests_test_line_templates_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)/jimd
tests_test_line_templates_LDADD = $(TEST_LDADD)
# jimd's group-commit policy (a header of jimd's own).
tests_test_group_commit_SOURCES = tests/test_group_commit.cc jimd/group_commit.hh
tests_test_group_commit_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)/jimd
tests_test_group_commit_LDADD = $(CMOCKA_LIBS)
tests_test_precise_timer_SOURCES = tests/test_precise_timer.cc jimd/precise_timer.cc \
	jimd/precise_timer.hh
tests_test_precise_timer_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)/jimd
tests_test_precise_timer_CXXFLAGS = $(AM_CXXFLAGS) $(LIBEVENT_CFLAGS)
tests_test_precise_timer_LDADD = $(CMOCKA_LIBS) $(LIBEVENT_LIBS)
# jimd's lazy set of names (a header of jimd's own).
tests_test_name_set_SOURCES = tests/test_name_set.cc jimd/name_set.hh
tests_test_name_set_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)/jimd
tests_test_name_set_LDADD = $(CMOCKA_LIBS)
# A connection's output queue and the loop's spare ones (headers of jimd's own).
tests_test_output_buffer_SOURCES = tests/test_output_buffer.cc jimd/output_buffer.hh \
	jimd/spare_outputs.hh
tests_test_output_buffer_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)/jimd
tests_test_output_buffer_LDADD = $(CMOCKA_LIBS)
# The links between workers, over a socketpair and a libevent loop.
tests_test_mesh_SOURCES = tests/test_mesh.cc jimd/mesh.cc jimd/mesh.hh jimd/output_buffer.hh \
	jimd/peer_protocol.cc jimd/peer_protocol.hh
tests_test_mesh_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)/jimd
tests_test_mesh_CXXFLAGS = $(AM_CXXFLAGS) $(LIBEVENT_CFLAGS)
tests_test_mesh_LDADD = $(CMOCKA_LIBS) $(LIBEVENT_LIBS)
# The router's hand-overs between workers, over socketpairs and a libevent loop.
tests_test_router_SOURCES = tests/test_router.cc jimd/router.cc jimd/router.hh \
	jimd/local_directory.cc jimd/local_directory.hh jimd/mesh.cc jimd/mesh.hh \
	jimd/peer_protocol.cc jimd/peer_protocol.hh jimd/replies.cc jimd/replies.hh \
	jimd/line_templates.cc jimd/session.cc jimd/connection.cc jimd/transport.cc \
	jimd/transport_tls.cc
tests_test_router_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)/jimd
tests_test_router_CXXFLAGS = $(AM_CXXFLAGS) $(LIBEVENT_CFLAGS)
tests_test_router_LDADD = $(TEST_LDADD) $(LIBEVENT_LIBS) $(OPENSSL_LIBS)
# The router's list of a user's sessions (a header of jimd's own).
tests_test_session_list_SOURCES = tests/test_session_list.cc jimd/session_list.hh
tests_test_session_list_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)/jimd
tests_test_session_list_LDADD = $(CMOCKA_LIBS)
# jimd's internal frames, compiled from jimd's own source.
tests_test_peer_protocol_SOURCES = tests/test_peer_protocol.cc jimd/peer_protocol.cc \
	jimd/peer_protocol.hh
tests_test_peer_protocol_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)/jimd
tests_test_peer_protocol_LDADD = $(CMOCKA_LIBS)
# jimd's message log, compiled from jimd's own source.
store_sources = jimd/store.cc jimd/store_accounts.cc jimd/store_admin.cc jimd/store_keys.cc \
	jimd/store_ids.cc jimd/store_messages.cc jimd/recent_ids.cc jimd/recent_ids.hh \
	jimd/heads_row.cc jimd/heads_row.hh \
	jimd/batch_format.cc jimd/batch_format.hh jimd/store.hh jimd/store_sql.hh jimd/journal.hh \
	jimd/wal_vfs.cc jimd/wal_vfs.hh
tests_test_wal_vfs_SOURCES = tests/test_wal_vfs.cc jimd/wal_vfs.cc jimd/wal_vfs.hh
tests_test_wal_vfs_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)/jimd
tests_test_wal_vfs_CXXFLAGS = $(AM_CXXFLAGS) $(SQLITE_CFLAGS)
tests_test_wal_vfs_LDADD = $(SQLITE_LIBS) $(CMOCKA_LIBS)
tests_test_store_batches_SOURCES = tests/test_store_batches.cc $(store_sources)
tests_test_store_batches_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)/jimd
tests_test_store_batches_CXXFLAGS = $(AM_CXXFLAGS) $(SQLITE_CFLAGS)
tests_test_store_batches_LDADD = $(SQLITE_LIBS) $(CMOCKA_LIBS)
tests_test_log_SOURCES = tests/test_log.c
tests_test_log_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_log_LDADD = $(TEST_LDADD)

# The header test: jim.h must compile as strict C99 and as C++.
tests_test_header_c99_SOURCES = tests/test_header_c99.c
tests_test_header_c99_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_header_c99_CFLAGS = -std=c99 -pedantic -Werror -Wall -Wextra $(JIM_CFLAGS)
tests_test_header_c99_LDADD = $(TEST_LDADD)
tests_test_header_cxx_SOURCES = tests/test_header_cxx.cc
tests_test_header_cxx_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_header_cxx_CXXFLAGS = -std=c++11 -pedantic -Werror -Wall -Wextra $(JIM_CFLAGS)
tests_test_header_cxx_LDADD = $(TEST_LDADD)

# The example in doc/: only jim.h, built and run by tests/example.sh.
doc_examples_build_and_parse_SOURCES = doc/examples/build_and_parse.c
doc_examples_build_and_parse_LDADD = libjim/libjim.la

EXTRA_DIST += tests/jimd_config_doc.sh tests/version.sh tests/jimd_journal.sh tests/jimd_metrics.sh tests/install.list
EXTRA_DIST += tests/example.sh tests/exports.sh tests/verifier.sh tests/jimd_cli.sh tests/jimd_daemon.sh \
	tests/example.expected tests/jimc_pipes.sh tests/jimc_tty.sh tests/jimd_lib.sh tests/install.sh \
	tests/jimd_bad_files.sh tests/e2e_vectors.py

# Benchmarks: programs that report numbers, run by `make bench`; `make check` only builds them
# (so that they keep linking).
check_PROGRAMS += tests/bench_codec
tests_bench_codec_SOURCES = tests/bench_codec.c
tests_bench_codec_LDADD = libjim/libjim.la
check_PROGRAMS += tests/bench_store
tests_bench_store_SOURCES = tests/bench_store.cc $(store_sources)
tests_bench_store_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/jimd
tests_bench_store_CXXFLAGS = $(AM_CXXFLAGS) $(SQLITE_CFLAGS)
tests_bench_store_LDADD = $(SQLITE_LIBS)

# Short runs of everything: the codec, the store, then jimd -w 1 and -w 2 against the relay.
# The server is pinned to CPU 0 and jimbench to CPU 1.
bench: tests/bench_codec$(EXEEXT) tests/bench_store$(EXEEXT) contrib/jimbench/jimbench$(EXEEXT) \
	    jimd/jimd$(EXEEXT)
	$(top_builddir)/tests/bench_codec -s 0.5
	$(top_builddir)/tests/bench_store -s 0.5
	$(top_builddir)/contrib/jimbench/jimbench --short --relay --jimd $(top_builddir)/jimd/jimd -w 1
	$(top_builddir)/contrib/jimbench/jimbench --short --jimd $(top_builddir)/jimd/jimd -w 2 \
	    --server-cpus 0,1 --bench-cpu -1 --workload w1

# make valgrind: the end-to-end tests and jimc's pipe tests under valgrind's memcheck, jimd
# and jimc under it too (every process jimd forks has its own log), then a report of what each
# process left (tests/valgrind_report.sh): errors, leaks, descriptors open at exit.
VALGRIND = valgrind
VALGRIND_FLAGS = --leak-check=full --show-leak-kinds=definite,indirect \
	--errors-for-leak-kinds=definite,indirect --track-fds=yes --error-exitcode=99 --num-callers=24
VALGRIND_TESTS = $(e2e_tests) tests/jimc_pipes.sh
VALGRIND_LOGS = $(abs_top_builddir)/valgrind-logs
valgrind: $(check_PROGRAMS) jimd/jimd$(EXEEXT) jimc/jimc$(EXEEXT)
	rm -rf $(VALGRIND_LOGS) && mkdir -p $(VALGRIND_LOGS)
	-env JIMD_WRAPPER='$(VALGRIND) $(VALGRIND_FLAGS) --trace-children=yes --log-file=$(VALGRIND_LOGS)/jimd.%p.log' \
	    JIMC_WRAPPER='$(abs_top_builddir)/libtool --mode=execute $(VALGRIND) $(VALGRIND_FLAGS) --log-file=$(VALGRIND_LOGS)/jimc.%p.log' \
	    $(MAKE) $(AM_MAKEFLAGS) check TESTS='$(VALGRIND_TESTS)' TEST_SUITE_LOG=valgrind-suite.log \
	    LOG_COMPILER='$(LIBTOOL) --mode=execute $(VALGRIND) $(VALGRIND_FLAGS) --log-file=$(VALGRIND_LOGS)/test.%p.log'
	$(SHELL) $(srcdir)/tests/valgrind_report.sh $(VALGRIND_LOGS)
	@if grep -q '^# \(FAIL\|ERROR\|XPASS\): *[1-9]' valgrind-suite.log; then \
	    echo "valgrind: tests failed under valgrind (valgrind-suite.log)"; exit 1; fi
.PHONY: valgrind
EXTRA_DIST += tests/valgrind_report.sh
