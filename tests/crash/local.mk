# tests/crash/local.mk — the crash loop (crashloop.cc): kill -9 of a worker, and of the master,
# under load; make check runs 5 rounds of each, make crashcheck 100.
check_PROGRAMS += tests/crash/crashloop
TESTS += tests/crash/crashloop
tests_crash_crashloop_SOURCES = tests/crash/crashloop.cc tests/crash/ledger.cc \
	tests/crash/ledger.hh tests/crash/load.cc tests/crash/load.hh
tests_crash_crashloop_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests $(SQLITE_CFLAGS)
tests_crash_crashloop_LDADD = tests/libjimdharness.la libjim/libjim.la $(SQLITE_LIBS)

CRASH_ROUNDS_LONG = 100
crashcheck: tests/crash/crashloop$(EXEEXT) jimd/jimd$(EXEEXT)
	top_builddir=$(top_builddir) tests/crash/crashloop -r $(CRASH_ROUNDS_LONG)
.PHONY: crashcheck

# synchronous full on a small volume that fills up (root: a tmpfs mounted for the test).
check_PROGRAMS += tests/crash/diskfull
TESTS += tests/crash/diskfull
tests_crash_diskfull_SOURCES = tests/crash/diskfull.cc
tests_crash_diskfull_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests $(SQLITE_CFLAGS)
tests_crash_diskfull_LDADD = tests/libjimdharness.la libjim/libjim.la $(SQLITE_LIBS)
# Both run the jimd just built.
crash_programs = tests/crash/crashloop tests/crash/diskfull
$(crash_programs): jimd/jimd$(EXEEXT)
