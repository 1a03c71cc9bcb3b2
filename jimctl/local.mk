# jimctl/local.mk — the administration tool, built only on libjim's public API.
sbin_PROGRAMS += jimctl/jimctl
jimctl_jimctl_SOURCES = \
	jimctl/jimctl.h \
	jimctl/link.c \
	jimctl/main.c \
	jimctl/print.c
jimctl_jimctl_CPPFLAGS = $(AM_CPPFLAGS)
jimctl_jimctl_LDADD = libjim/libjim.la

man8_MANS += doc/man/jimctl.8
EXTRA_DIST += doc/man/jimctl.8
