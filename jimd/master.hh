// The master process: listening sockets, the worker mesh, fork/reap/respawn, signals,
// and the journal's periodic upkeep (journal.hh).
#pragma once

#include "settings.hh"

#include <jim/jim.h>

#include <string>

namespace jimd {

// Runs jimd until SIGTERM/SIGINT has drained the workers; returns the exit status.
int run_master(Settings &settings, const std::string &config_path, jim_log *log);

} // namespace jimd
