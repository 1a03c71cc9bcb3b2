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
	CC='$(CC)'; NM='$(NM)'; OBJDUMP='$(OBJDUMP)'; export CC NM OBJDUMP;

TEST_CPPFLAGS = $(AM_CPPFLAGS) $(CMOCKA_CFLAGS)
TEST_LDADD = libjim/libjim.la $(CMOCKA_LIBS)

unit_tests = \
	tests/test_errors \
	tests/test_limits \
	tests/test_message \
	tests/test_codec \
	tests/test_framer \
	tests/test_log \
	tests/test_peer_protocol
# End-to-end: a real jimd (built first) on an ephemeral loopback port.
e2e_tests = \
	tests/test_jimd_protocol \
	tests/test_jimd_workers \
	tests/test_jimd_resilience \
	tests/test_jimd_logins \
	tests/test_jimd_abuse \
	tests/test_jimd_dialects \
	tests/test_client \
	tests/test_outbox
check_PROGRAMS += $(unit_tests) $(e2e_tests) tests/test_header_c99 tests/test_header_cxx \
	doc/examples/build_and_parse
TESTS += $(unit_tests) $(e2e_tests) tests/test_header_c99 tests/test_header_cxx \
	tests/example.sh tests/exports.sh tests/verifier.sh tests/jimd_cli.sh tests/jimd_daemon.sh \
	tests/jimc_pipes.sh tests/jimc_tty.sh tests/install.sh
# A stand-in for a syslog daemon, for jimd_daemon.sh.
check_PROGRAMS += tests/syslog_sink
tests_syslog_sink_SOURCES = tests/syslog_sink.c
check_LTLIBRARIES = tests/libjimdharness.la
tests_libjimdharness_la_SOURCES = tests/jimd_harness.c tests/jimd_harness.h
tests_libjimdharness_la_CPPFLAGS = $(AM_CPPFLAGS)
E2E_LDADD = tests/libjimdharness.la $(TEST_LDADD)
# The tests run the jimd just built.
$(e2e_tests): jimd/jimd$(EXEEXT)
tests_test_jimd_protocol_SOURCES = tests/test_jimd_protocol.c
tests_test_jimd_protocol_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_jimd_protocol_LDADD = $(E2E_LDADD)
tests_test_jimd_workers_SOURCES = tests/test_jimd_workers.c
tests_test_jimd_workers_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_jimd_workers_LDADD = $(E2E_LDADD)
tests_test_jimd_resilience_SOURCES = tests/test_jimd_resilience.c
tests_test_jimd_resilience_CPPFLAGS = $(TEST_CPPFLAGS) $(SQLITE_CFLAGS)
tests_test_jimd_resilience_LDADD = $(E2E_LDADD) $(SQLITE_LIBS)

tests_test_jimd_logins_SOURCES = tests/test_jimd_logins.c
tests_test_jimd_logins_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_jimd_logins_LDADD = $(E2E_LDADD)

tests_test_jimd_abuse_SOURCES = tests/test_jimd_abuse.c
tests_test_jimd_abuse_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_jimd_abuse_LDADD = $(E2E_LDADD)

tests_test_jimd_dialects_SOURCES = tests/test_jimd_dialects.c
tests_test_jimd_dialects_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_jimd_dialects_LDADD = $(E2E_LDADD)

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
# jimd's internal frames, compiled from jimd's own source.
tests_test_peer_protocol_SOURCES = tests/test_peer_protocol.cc jimd/peer_protocol.cc \
	jimd/peer_protocol.hh
tests_test_peer_protocol_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)/jimd
tests_test_peer_protocol_LDADD = $(CMOCKA_LIBS)
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

EXTRA_DIST += tests/example.sh tests/exports.sh tests/verifier.sh tests/jimd_cli.sh tests/jimd_daemon.sh \
	tests/example.expected tests/jimc_pipes.sh tests/jimc_tty.sh tests/jimd_lib.sh tests/install.sh

# Benchmarks: programs that report numbers, run by `make bench`, never by `make check`.
EXTRA_PROGRAMS += tests/bench_codec
tests_bench_codec_SOURCES = tests/bench_codec.c
tests_bench_codec_LDADD = libjim/libjim.la
EXTRA_PROGRAMS += tests/bench_store
tests_bench_store_SOURCES = tests/bench_store.cc jimd/store.cc jimd/store_accounts.cc \
	jimd/store_messages.cc jimd/store.hh jimd/store_sql.hh jimd/journal.hh
tests_bench_store_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/jimd
tests_bench_store_CXXFLAGS = $(AM_CXXFLAGS) $(SQLITE_CFLAGS)
tests_bench_store_LDADD = $(SQLITE_LIBS)
CLEANFILES += $(EXTRA_PROGRAMS)

# Short runs of everything: the codec, the store, then jimd -w 1 and -w 2 against the relay.
# The server is pinned to CPU 0 and jimbench to CPU 1.
bench: tests/bench_codec$(EXEEXT) tests/bench_store$(EXEEXT) contrib/jimbench/jimbench$(EXEEXT) \
	    jimd/jimd$(EXEEXT)
	$(top_builddir)/tests/bench_codec -s 0.5
	$(top_builddir)/tests/bench_store -s 0.5
	$(top_builddir)/contrib/jimbench/jimbench --short --relay --jimd $(top_builddir)/jimd/jimd -w 1
	$(top_builddir)/contrib/jimbench/jimbench --short --jimd $(top_builddir)/jimd/jimd -w 2 \
	    --server-cpus 0,1 --bench-cpu -1 --workload w1
