#!/bin/sh
# gui_skipped.sh — stands in for jim-qt's tests when configure did not find Qt 6 Widgets.
echo "1..0 # SKIP jim-qt not built: configure found no Qt 6 Widgets or was given --without-qt (contrib/install-deps.sh qt installs Qt)"
