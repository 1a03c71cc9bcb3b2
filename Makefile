# jim-entry-makefile — the entry point in the source tree.
#
# On first use it installs missing Debian packages (contrib/install-deps.sh),
# generates the autotools files, configures a build in $(BUILD) and then runs
# the asked-for target there. Every target of the automake build works:
#   make, make check, make run, make demo, make doc, make bench,
#   make install DESTDIR=..., make distcheck, make check-style,
#   make valgrind, make crashcheck, make longcheck, make deb, make debcheck,
#   make screenshots (jim-qt's, into doc/screenshots)
# and make fuzz T=target S=seconds, which builds in build-fuzz with clang and libFuzzer.
# A second build: make BUILD=build-asan CONFIGURE_FLAGS=--enable-sanitizers check
# With clang: make BUILD=build-clang CONFIGURE_FLAGS='CC=clang CXX=clang++ --enable-sanitizers' check
BUILD ?= build
CONFIGURE_FLAGS ?=
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
# A clang build also needs clang itself: install-deps.sh adds it when asked.
DEPS_ARGS = $(if $(findstring clang,$(CONFIGURE_FLAGS)),clang)

TARGETS = all check install uninstall installcheck run demo doc bench dist distcheck \
	check-style format clean distclean crashcheck longcheck screenshots
AUTOTOOLS_INPUTS = configure.ac Makefile.am $(wildcard */local.mk */*/local.mk) \
	libjim/include/jim/common.h

.DEFAULT_GOAL := all
.PHONY: $(TARGETS) deps bootstrap maintainer-clean fuzz valgrind deb debcheck

$(TARGETS): $(BUILD)/Makefile
	+$(MAKE) -C $(BUILD) -j$(JOBS) $@

# memcheck over the end-to-end tests: valgrind is installed first if missing.
valgrind: $(BUILD)/Makefile
	@contrib/install-deps.sh valgrind
	+$(MAKE) -C $(BUILD) -j$(JOBS) valgrind

# Debian packages in $(BUILD)/deb (debhelper, lintian, dpkg-dev and Qt 6, for jim-qt, are
# installed first), and their check: installed into a clean root, jimd started from them,
# jim-qt run offscreen (contrib/debcheck.sh).
deb debcheck: $(BUILD)/Makefile
	@contrib/install-deps.sh deb
	+$(MAKE) -C $(BUILD) -j$(JOBS) $@

# One fuzz target under libFuzzer with ASan + UBSan (tests/fuzz/README.md): a build of its own.
FUZZ_BUILD ?= build-fuzz
T ?=
S ?= 60
L ?= 8192
fuzz: configure
	@contrib/install-deps.sh clang
	@if [ ! -f $(FUZZ_BUILD)/Makefile ]; then \
	    mkdir -p $(FUZZ_BUILD) && cd $(FUZZ_BUILD) && \
	    $(CURDIR)/configure CC=clang CXX=clang++ --enable-fuzzing; \
	fi
	+$(MAKE) -C $(FUZZ_BUILD) -j$(JOBS) fuzz T=$(T) S=$(S) L=$(L)

deps:
	@contrib/install-deps.sh $(DEPS_ARGS)

configure: $(AUTOTOOLS_INPUTS)
	@contrib/install-deps.sh $(DEPS_ARGS)
	autoreconf -fi

bootstrap: configure

# A build directory keeps the options it was first configured with, unless new ones are given.
$(BUILD)/Makefile: configure
	@contrib/install-deps.sh $(DEPS_ARGS)
	mkdir -p $(BUILD)
	if [ -f $(BUILD)/config.status ] && [ -z "$(CONFIGURE_FLAGS)" ]; then \
	    cd $(BUILD) && ./config.status --recheck && ./config.status; \
	else \
	    cd $(BUILD) && $(CURDIR)/configure $(CONFIGURE_FLAGS); \
	fi

maintainer-clean:
	rm -rf build build-* autom4te.cache configure aclocal.m4 config.h.in config.h.in~ \
		Makefile.in build-aux/[!.]* m4/[!.]*
