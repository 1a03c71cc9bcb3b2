# doc/local.mk — Doxygen HTML and man pages from the public headers; `make doc`.
EXTRA_DIST += doc/Doxyfile.in doc/protocol.md doc/design.md doc/benchmarks.md doc/examples/build_and_parse.c

doc: doc/Doxyfile
	@test -n "$(DOXYGEN)" || { echo "doc: doxygen not found" >&2; exit 1; }
	@rm -rf doc/api doc/doxygen-warnings.txt
	$(AM_V_GEN)$(DOXYGEN) doc/Doxyfile
	@if test -s doc/doxygen-warnings.txt; then \
	    cat doc/doxygen-warnings.txt >&2; \
	    echo "doc: Doxygen warnings (undocumented public symbols?) — failing" >&2; exit 1; fi
	@echo "doc: HTML in doc/api/html, man pages in doc/api/man"

clean-local: clean-doc clean-deb
clean-doc:
	rm -rf doc/api doc/doxygen-warnings.txt
.PHONY: doc clean-doc
