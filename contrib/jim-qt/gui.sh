#!/bin/sh
# gui.sh — runs jim-qt's QTest tests (contrib/jim-qt/test_gui.cc) under Qt's offscreen
# platform against a real jimd, printing TAP.
QT_QPA_PLATFORM=offscreen
export QT_QPA_PLATFORM
exec "${top_builddir:-.}/contrib/jim-qt/test_gui" -o -,tap
