# contrib/jimbench/local.mk — the load generator; run by `make bench`, built by `make check`
# (so that it keeps building), never installed.
check_PROGRAMS += contrib/jimbench/jimbench
contrib_jimbench_jimbench_SOURCES = \
	contrib/jimbench/jimbench.cc \
	contrib/jimbench/loadgen.cc \
	contrib/jimbench/loadgen.hh \
	contrib/jimbench/net.cc \
	contrib/jimbench/net.hh \
	contrib/jimbench/relay.cc \
	contrib/jimbench/relay.hh \
	contrib/jimbench/server.cc \
	contrib/jimbench/server.hh
