# contrib/local.mk — shipping: Debian packages (make deb, make debcheck) and the systemd unit.
EXTRA_DIST += contrib/systemd/jimd.service contrib/debcheck.sh \
	contrib/debian/changelog contrib/debian/control contrib/debian/copyright \
	contrib/debian/rules contrib/debian/source/format contrib/debian/jimd.conf.in \
	contrib/debian/libjim1.install contrib/debian/libjim1.symbols \
	contrib/debian/libjim-dev.install contrib/debian/jimd.install contrib/debian/jimc.install \
	contrib/debian/jimd.postinst contrib/debian/jimd.postrm contrib/debian/jim-qt.install

# The packages, from the release tarball: debian/ is contrib/debian/. The test suite is
# left to make check (DEB_BUILD_OPTIONS=nocheck; make deb DEB_BUILD_OPTIONS= runs it); the
# build uses every CPU.
# lintian's report is in deb/lintian.txt; an error fails the target.
DEB_BUILD_OPTIONS ?= nocheck
deb: dist
	rm -rf deb && $(MKDIR_P) deb
	xz -dc $(distdir).tar.xz | tar -C deb -xf -
	cp -R deb/$(distdir)/contrib/debian deb/$(distdir)/debian
	cd deb/$(distdir) && DEB_BUILD_OPTIONS="$(DEB_BUILD_OPTIONS) parallel=`nproc`" dpkg-buildpackage -us -uc -b
	rm -rf deb/$(distdir)
	lintian --info --display-info --fail-on error deb/*.changes >deb/lintian.txt 2>&1; \
	  rc=$$?; cat deb/lintian.txt; test $$rc -eq 0
	@for d in deb/*.deb; do echo "== $$d"; dpkg-deb -c $$d | awk '{print $$6, $$7, $$8}'; done

# The packages installed into a clean root, jimd started from them (contrib/debcheck.sh).
debcheck:
	$(SHELL) $(srcdir)/contrib/debcheck.sh deb


clean-deb:
	rm -rf deb
.PHONY: deb debcheck clean-deb
