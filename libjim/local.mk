# libjim/local.mk — the library: a convenience core (used by jimd too) and the shared libjim.
#
# libtool version rules (-version-info CURRENT:REVISION:AGE), for every release:
#   code changed, interface not:           REVISION++
#   interface added/removed/changed:       CURRENT++, REVISION=0
#   only added:                            AGE++;   anything removed or changed: AGE=0
# SONAME is libjim.so.(CURRENT-AGE): now libjim.so.1 (0.2.0 changed the order of the
# parameters of seven functions: output parameters first after the handle).

noinst_LTLIBRARIES += libjim/libjimcore.la
libjim_libjimcore_la_SOURCES = \
	libjim/src/base64.cc \
	libjim/src/base64.hh \
	libjim/src/decoder.cc \
	libjim/src/encoder.cc \
	libjim/src/framer.cc \
	libjim/src/framer.hh \
	libjim/src/framer_api.cc \
	libjim/src/guard.hh \
	libjim/src/limits.cc \
	libjim/src/limits.hh \
	libjim/src/log.cc \
	libjim/src/log.hh \
	libjim/src/message.hh \
	libjim/src/message_api.cc \
	libjim/src/schema.cc \
	libjim/src/scan8.hh \
	libjim/src/schema.hh \
	libjim/src/trace.cc \
	libjim/src/utf8.cc \
	libjim/src/utf8.hh \
	libjim/src/validate.cc \
	libjim/src/version.cc
libjim_libjimcore_la_CXXFLAGS = $(AM_CXXFLAGS) -fvisibility=hidden -fvisibility-inlines-hidden $(YAJL_CFLAGS)
libjim_libjimcore_la_LIBADD = $(YAJL_LIBS)

# The client side: connection (TLS), end-to-end encryption, client store, object model
# (only in the shared libjim).
noinst_LTLIBRARIES += libjim/libjimclient.la
libjim_libjimclient_la_SOURCES = \
	libjim/src/chat.cc \
	libjim/src/chat.hh \
	libjim/src/client.cc \
	libjim/src/client.hh \
	libjim/src/client_api.cc \
	libjim/src/client_e2e.cc \
	libjim/src/client_store.cc \
	libjim/src/client_store.hh \
	libjim/src/e2e.cc \
	libjim/src/e2e.hh \
	libjim/src/e2e_api.cc \
	libjim/src/e2e_crypto.cc \
	libjim/src/e2e_crypto.hh \
	libjim/src/list.cc \
	libjim/src/list.hh \
	libjim/src/outbox.cc \
	libjim/src/outbox.hh \
	libjim/src/store_api.cc \
	libjim/src/store_files.cc \
	libjim/src/store_sqlite.cc \
	libjim/src/tls.cc \
	libjim/src/tls.hh
libjim_libjimclient_la_CXXFLAGS = $(AM_CXXFLAGS) -fvisibility=hidden -fvisibility-inlines-hidden \
	$(SQLITE_CFLAGS) $(OPENSSL_CFLAGS)
libjim_libjimclient_la_LIBADD = $(SQLITE_LIBS) $(OPENSSL_LIBS)

lib_LTLIBRARIES += libjim/libjim.la
libjim_libjim_la_SOURCES =
nodist_EXTRA_libjim_libjim_la_SOURCES = dummy.cc
libjim_libjim_la_LIBADD = libjim/libjimclient.la libjim/libjimcore.la $(YAJL_LIBS) $(SQLITE_LIBS) \
	$(OPENSSL_LIBS) -lpthread
libjim_libjim_la_LDFLAGS = $(AM_LDFLAGS) -version-info 1:0:0 -no-undefined \
	-Wl,--version-script=$(srcdir)/libjim/libjim.map
EXTRA_libjim_libjim_la_DEPENDENCIES = $(srcdir)/libjim/libjim.map

jimincludedir = $(includedir)/jim
jiminclude_HEADERS = \
	libjim/include/jim/client.h \
	libjim/include/jim/common.h \
	libjim/include/jim/e2e.h \
	libjim/include/jim/framer.h \
	libjim/include/jim/jim.h \
	libjim/include/jim/limits.h \
	libjim/include/jim/list.h \
	libjim/include/jim/log.h \
	libjim/include/jim/message.h \
	libjim/include/jim/store.h

pkgconfig_DATA += libjim/libjim.pc

# The libtool archive is for libtool alone: programs link through libjim.pc, and a
# distribution would delete the file anyway. Not installed; so uninstall (which libtool
# would do from the installed .la) removes the library's names as the built .la lists them.
install-exec-hook:
	rm -f $(DESTDIR)$(libdir)/libjim.la
uninstall-hook:
	@names=`sed -n "s/^library_names='\(.*\)'$$/\1/p" libjim/libjim.la`; \
	for f in $$names; do echo "rm -f $(DESTDIR)$(libdir)/$$f"; rm -f "$(DESTDIR)$(libdir)/$$f"; done
EXTRA_DIST += libjim/libjim.map libjim/libjim.pc.in

# A tour of the API; the reference is Doxygen's (make doc).
man3_MANS = doc/man/libjim.3
EXTRA_DIST += doc/man/libjim.3
