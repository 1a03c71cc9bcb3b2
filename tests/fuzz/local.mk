# tests/fuzz/local.mk — the fuzz targets (tests/fuzz/README.md). Built normally (gcc, no
# libFuzzer) each has a small main() that replays files, and `make check` replays every
# committed corpus through its target (tests/fuzz/replay.sh). Configured with
# --enable-fuzzing (clang), they are libFuzzer programs: `make fuzz T=target S=seconds`.
fuzz_targets = framer decode config client store_files peer e2e
fuzz_programs = tests/fuzz/fuzz_framer tests/fuzz/fuzz_decode tests/fuzz/fuzz_config \
	tests/fuzz/fuzz_client tests/fuzz/fuzz_store_files tests/fuzz/fuzz_peer tests/fuzz/fuzz_e2e
check_PROGRAMS += $(fuzz_programs)
TESTS += tests/fuzz/replay.sh

if FUZZING
fuzz_main =
fuzz_link = -fsanitize=fuzzer
else
fuzz_main = tests/fuzz/replay_main.cc
fuzz_link =
endif
fuzz_common = tests/fuzz/fuzz_check.hh tests/fuzz/fuzz_files.cc $(fuzz_main)
# libjim's code linked in statically (the convenience libraries), instrumented with it.
fuzz_ldadd = libjim/libjimclient.la libjim/libjimcore.la $(YAJL_LIBS) $(SQLITE_LIBS) -lpthread
fuzz_ldflags = $(AM_LDFLAGS) $(fuzz_link)

tests_fuzz_fuzz_framer_SOURCES = tests/fuzz/fuzz_framer.cc $(fuzz_common)
tests_fuzz_fuzz_framer_LDADD = $(fuzz_ldadd)
tests_fuzz_fuzz_framer_LDFLAGS = $(fuzz_ldflags)
tests_fuzz_fuzz_decode_SOURCES = tests/fuzz/fuzz_decode.cc $(fuzz_common)
tests_fuzz_fuzz_decode_LDADD = $(fuzz_ldadd)
tests_fuzz_fuzz_decode_LDFLAGS = $(fuzz_ldflags)
# jimd's config reader, compiled in from jimd's own source.
tests_fuzz_fuzz_config_SOURCES = tests/fuzz/fuzz_config.cc jimd/settings.cc jimd/settings.hh \
	$(fuzz_common)
tests_fuzz_fuzz_config_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/jimd
tests_fuzz_fuzz_config_LDADD = $(fuzz_ldadd)
tests_fuzz_fuzz_config_LDFLAGS = $(fuzz_ldflags)
tests_fuzz_fuzz_client_SOURCES = tests/fuzz/fuzz_client.cc $(fuzz_common)
tests_fuzz_fuzz_client_LDADD = $(fuzz_ldadd)
tests_fuzz_fuzz_client_LDFLAGS = $(fuzz_ldflags)
tests_fuzz_fuzz_store_files_SOURCES = tests/fuzz/fuzz_store_files.cc $(fuzz_common)
tests_fuzz_fuzz_store_files_LDADD = $(fuzz_ldadd)
tests_fuzz_fuzz_store_files_LDFLAGS = $(fuzz_ldflags)
# jimd's peer protocol decoder, compiled in from jimd's own source.
tests_fuzz_fuzz_peer_SOURCES = tests/fuzz/fuzz_peer.cc jimd/peer_protocol.cc jimd/peer_protocol.hh \
	$(fuzz_common)
tests_fuzz_fuzz_peer_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/jimd
tests_fuzz_fuzz_peer_LDADD = $(fuzz_ldadd)
tests_fuzz_fuzz_peer_LDFLAGS = $(fuzz_ldflags)
# The E2E envelope's decryption, from libjim's internal §7 code.
tests_fuzz_fuzz_e2e_SOURCES = tests/fuzz/fuzz_e2e.cc $(fuzz_common)
tests_fuzz_fuzz_e2e_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/libjim/src
tests_fuzz_fuzz_e2e_CXXFLAGS = $(AM_CXXFLAGS) $(OPENSSL_CFLAGS)
tests_fuzz_fuzz_e2e_LDADD = $(fuzz_ldadd) $(OPENSSL_LIBS)
tests_fuzz_fuzz_e2e_LDFLAGS = $(fuzz_ldflags)

EXTRA_DIST += tests/fuzz/README.md tests/fuzz/replay.sh tests/fuzz/corpus tests/fuzz/jim.dict \
	tests/fuzz/config.dict

# make fuzz T=target S=seconds [L=max_len]: runs one target under libFuzzer (ASan + UBSan), at
# nice 10, from its committed corpus; what it finds new goes to fuzz-work/T/corpus, a crash to
# fuzz-work/T/ (copy a finding into tests/fuzz/corpus/T/ once it is fixed).
T ?=
S ?= 60
L ?= 8192
fuzz:
if FUZZING
	@case " $(fuzz_targets) " in *" $(T) "*) ;; \
	  *) echo "make fuzz T=target S=seconds; targets: $(fuzz_targets)" >&2; exit 64 ;; esac
	$(MAKE) $(AM_MAKEFLAGS) tests/fuzz/fuzz_$(T)$(EXEEXT)
	@mkdir -p fuzz-work/$(T)/corpus
	@dict=$(srcdir)/tests/fuzz/jim.dict; test "$(T)" = config && dict=$(srcdir)/tests/fuzz/config.dict; \
	echo "fuzzing $(T) for $(S) s (dictionary $$dict)"; \
	nice -n 10 tests/fuzz/fuzz_$(T) -max_total_time=$(S) -print_final_stats=1 -max_len=$(L) \
	    -timeout=10 -rss_limit_mb=2048 -dict=$$dict -artifact_prefix=fuzz-work/$(T)/ \
	    fuzz-work/$(T)/corpus $(srcdir)/tests/fuzz/corpus/$(T)
else
	@echo "make fuzz needs a build configured with --enable-fuzzing and clang:" >&2
	@echo "  run 'make fuzz T=target S=seconds' in the source tree (it configures build-fuzz)" >&2
	@exit 64
endif
.PHONY: fuzz
