# jimd/local.mk — the daemon, linked with libjim's core directly.
sbin_PROGRAMS += jimd/jimd
jimd_jimd_SOURCES = \
	jimd/acceptor.cc \
	jimd/acceptor.hh \
	jimd/batch_format.cc \
	jimd/batch_format.hh \
	jimd/checkpoint.cc \
	jimd/checkpoint.hh \
	jimd/clock.hh \
	jimd/connection.cc \
	jimd/connection.hh \
	jimd/control.cc \
	jimd/control.hh \
	jimd/control_socket.cc \
	jimd/control_socket.hh \
	jimd/counters.cc \
	jimd/counters.hh \
	jimd/daemon.cc \
	jimd/daemon.hh \
	jimd/group_commit.hh \
	jimd/handlers.cc \
	jimd/handlers.hh \
	jimd/handlers_admin.cc \
	jimd/handlers_contacts.cc \
	jimd/handlers_keys.cc \
	jimd/handlers_login.cc \
	jimd/handlers_messages.cc \
	jimd/handlers_rooms.cc \
	jimd/heads_row.cc \
	jimd/heads_row.hh \
	jimd/helper.cc \
	jimd/helper.hh \
	jimd/ip_slots.cc \
	jimd/ip_slots.hh \
	jimd/journal.hh \
	jimd/json_bytes.hh \
	jimd/journal_files.cc \
	jimd/journal_sqlite.cc \
	jimd/journal_upkeep.cc \
	jimd/line_templates.cc \
	jimd/line_templates.hh \
	jimd/local_directory.cc \
	jimd/local_directory.hh \
	jimd/main.cc \
	jimd/master.cc \
	jimd/master.hh \
	jimd/metrics.cc \
	jimd/metrics.hh \
	jimd/mesh.cc \
	jimd/mesh.hh \
	jimd/name_set.hh \
	jimd/notify.cc \
	jimd/notify.hh \
	jimd/output_buffer.hh \
	jimd/password.cc \
	jimd/password.hh \
	jimd/peer_protocol.cc \
	jimd/peer_protocol.hh \
	jimd/precise_timer.cc \
	jimd/precise_timer.hh \
	jimd/recent_ids.cc \
	jimd/recent_ids.hh \
	jimd/replies.cc \
	jimd/replies.hh \
	jimd/room_run.hh \
	jimd/router.cc \
	jimd/router.hh \
	jimd/session.cc \
	jimd/session.hh \
	jimd/session_list.hh \
	jimd/spare_outputs.hh \
	jimd/settings.cc \
	jimd/settings.hh \
	jimd/store.cc \
	jimd/store.hh \
	jimd/store_accounts.cc \
	jimd/store_keys.cc \
	jimd/store_admin.cc \
	jimd/store_ids.cc \
	jimd/store_messages.cc \
	jimd/store_sql.hh \
	jimd/stream.cc \
	jimd/stream.hh \
	jimd/tls.cc \
	jimd/tls.hh \
	jimd/transport.cc \
	jimd/transport.hh \
	jimd/transport_tls.cc \
	jimd/wal_vfs.cc \
	jimd/wal_vfs.hh \
	jimd/worker.cc \
	jimd/worker.hh
jimd_jimd_CXXFLAGS = $(AM_CXXFLAGS) $(LIBEVENT_CFLAGS) $(SQLITE_CFLAGS) $(OPENSSL_CFLAGS)
jimd_jimd_LDADD = libjim/libjimcore.la $(LIBEVENT_LIBS) $(SQLITE_LIBS) $(OPENSSL_LIBS) -lpthread

man8_MANS = doc/man/jimd.8
EXTRA_DIST += doc/man/jimd.8

# jimd.conf(5) is written by the jimd just built from its settings table (--man-config), so
# the manual cannot drift from the defaults; tests/jimd_config_doc.sh checks that it agrees.
nodist_man5_MANS = doc/man/jimd.conf.5
CLEANFILES += doc/man/jimd.conf.5
doc/man/jimd.conf.5: jimd/jimd$(EXEEXT)
	$(AM_V_GEN)$(MKDIR_P) doc/man && ./jimd/jimd$(EXEEXT) --man-config >$@.tmp && mv $@.tmp $@
