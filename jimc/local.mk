# jimc/local.mk — the readline client, built only on libjim's public API.
# GNU readline is GPL-3, so the jimc binary is GPL-3; libjim stays MIT (see README).
bin_PROGRAMS += jimc/jimc
jimc_jimc_SOURCES = \
	jimc/commands.c \
	jimc/events.c \
	jimc/interactive.c \
	jimc/jimc.h \
	jimc/loop.c \
	jimc/main.c \
	jimc/output.c
jimc_jimc_CPPFLAGS = $(AM_CPPFLAGS)
jimc_jimc_LDADD = libjim/libjim.la -lreadline

man1_MANS = doc/man/jimc.1
EXTRA_DIST += doc/man/jimc.1
