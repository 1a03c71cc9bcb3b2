# contrib/jim-qt/local.mk — jim-qt, the Qt 6 Widgets desktop client, built on libjim's public
# API only (configure --with-qt=auto|yes|no), its QTest tests and `make screenshots`.
JIMQT_EXTRA = contrib/jim-qt/jim-qt.desktop contrib/jim-qt/jim-qt.svg contrib/jim-qt/gui.sh \
	contrib/jim-qt/gui_skipped.sh contrib/jim-qt/links.sh
JIMQT_HDRS = contrib/jim-qt/admin_window.hh contrib/jim-qt/chat_list_model.hh contrib/jim-qt/chat_view.hh \
	contrib/jim-qt/login_dialog.hh contrib/jim-qt/main_window.hh contrib/jim-qt/session.hh
EXTRA_DIST += $(JIMQT_EXTRA) $(JIMQT_HDRS) contrib/jim-qt/admin_window.cc contrib/jim-qt/chat_list_model.cc \
	contrib/jim-qt/chat_view.cc contrib/jim-qt/login_dialog.cc contrib/jim-qt/main_window.cc \
	contrib/jim-qt/session.cc contrib/jim-qt/main.cc contrib/jim-qt/test_gui.cc doc/man/jim-qt.1

if HAVE_QT
# Qt's headers are not ours to keep warning-free: they come in as system headers.
JIMQT_CPPFLAGS = $(AM_CPPFLAGS) $(QT_SYSTEM_CFLAGS)
JIMQT_CXXFLAGS = $(AM_CXXFLAGS) -fPIC

# The window, the models and the session: one convenience library for jim-qt and its tests.
noinst_LTLIBRARIES += contrib/jim-qt/libjimqt.la
contrib_jim_qt_libjimqt_la_SOURCES = contrib/jim-qt/admin_window.cc contrib/jim-qt/chat_list_model.cc contrib/jim-qt/chat_view.cc \
	contrib/jim-qt/login_dialog.cc contrib/jim-qt/main_window.cc contrib/jim-qt/session.cc \
	$(JIMQT_HDRS)
nodist_contrib_jim_qt_libjimqt_la_SOURCES = contrib/jim-qt/moc_admin_window.cc \
	contrib/jim-qt/moc_chat_list_model.cc \
	contrib/jim-qt/moc_chat_view.cc contrib/jim-qt/moc_login_dialog.cc \
	contrib/jim-qt/moc_main_window.cc contrib/jim-qt/moc_session.cc
contrib_jim_qt_libjimqt_la_CPPFLAGS = $(JIMQT_CPPFLAGS)
contrib_jim_qt_libjimqt_la_CXXFLAGS = $(JIMQT_CXXFLAGS)
CLEANFILES += $(nodist_contrib_jim_qt_libjimqt_la_SOURCES)

# moc, one rule per header that declares a Q_OBJECT.
JIMQT_MOC = $(AM_V_GEN)$(MKDIR_P) contrib/jim-qt && $(MOC) -o $@ $<
contrib/jim-qt/moc_admin_window.cc: contrib/jim-qt/admin_window.hh
	$(JIMQT_MOC)
contrib/jim-qt/moc_chat_list_model.cc: contrib/jim-qt/chat_list_model.hh
	$(JIMQT_MOC)
contrib/jim-qt/moc_chat_view.cc: contrib/jim-qt/chat_view.hh
	$(JIMQT_MOC)
contrib/jim-qt/moc_login_dialog.cc: contrib/jim-qt/login_dialog.hh
	$(JIMQT_MOC)
contrib/jim-qt/moc_main_window.cc: contrib/jim-qt/main_window.hh
	$(JIMQT_MOC)
contrib/jim-qt/moc_session.cc: contrib/jim-qt/session.hh
	$(JIMQT_MOC)

bin_PROGRAMS += contrib/jim-qt/jim-qt
contrib_jim_qt_jim_qt_SOURCES = contrib/jim-qt/main.cc
contrib_jim_qt_jim_qt_CPPFLAGS = $(JIMQT_CPPFLAGS) -I$(top_srcdir)/contrib/jim-qt
contrib_jim_qt_jim_qt_CXXFLAGS = $(JIMQT_CXXFLAGS)
contrib_jim_qt_jim_qt_LDADD = contrib/jim-qt/libjimqt.la libjim/libjim.la $(QT_LIBS)

desktopdir = $(datadir)/applications
desktop_DATA = contrib/jim-qt/jim-qt.desktop
iconsdir = $(datadir)/icons/hicolor/scalable/apps
icons_DATA = contrib/jim-qt/jim-qt.svg
man1_MANS += doc/man/jim-qt.1

# QTest against a real jimd, under the offscreen platform; and what jim-qt links.
check_PROGRAMS += contrib/jim-qt/test_gui
contrib_jim_qt_test_gui_SOURCES = contrib/jim-qt/test_gui.cc tests/tls_harness.c tests/tls_harness.h
contrib_jim_qt_test_gui_CPPFLAGS = $(JIMQT_CPPFLAGS) -I$(top_srcdir)/tests \
	-I$(top_srcdir)/contrib/jim-qt -I$(top_builddir)/contrib/jim-qt
contrib_jim_qt_test_gui_CXXFLAGS = $(JIMQT_CXXFLAGS)
contrib_jim_qt_test_gui_LDADD = contrib/jim-qt/libjimqt.la tests/libjimdharness.la \
	libjim/libjim.la $(QTTEST_LIBS) $(QT_LIBS)
EXTRA_contrib_jim_qt_test_gui_DEPENDENCIES = jimd/jimd$(EXEEXT) tests/fakejim$(EXEEXT)
contrib/jim-qt/test_gui.moc: contrib/jim-qt/test_gui.cc
	$(JIMQT_MOC)
BUILT_SOURCES = contrib/jim-qt/test_gui.moc
# BUILT_SOURCES is made only by all, check and install; make valgrind builds the test itself.
contrib/jim-qt/test_gui-test_gui.$(OBJEXT): contrib/jim-qt/test_gui.moc
CLEANFILES += contrib/jim-qt/test_gui.moc
TESTS += contrib/jim-qt/gui.sh contrib/jim-qt/links.sh

# PNGs of the log-in dialog and the main window, offscreen with a fixed font and size.
screenshots: contrib/jim-qt/test_gui$(EXEEXT) jimd/jimd$(EXEEXT)
	$(MKDIR_P) $(abs_top_srcdir)/doc/screenshots
	JIMQT_SCREENSHOTS=$(abs_top_srcdir)/doc/screenshots QT_QPA_PLATFORM=offscreen \
	  top_builddir=$(abs_top_builddir) TZ=UTC $(abs_top_builddir)/contrib/jim-qt/test_gui screenshots
else
TESTS += contrib/jim-qt/gui_skipped.sh
screenshots:
	@echo "screenshots: jim-qt is not built: configure found no Qt 6 Widgets or was given --without-qt (contrib/install-deps.sh qt installs Qt)" >&2; exit 1
endif
.PHONY: screenshots
