// The four workloads of jimbench and the report.
#pragma once

#include "server.hh"

namespace jimbench {

// Runs the chosen workloads against jimd and the relay; prints the results. Exit status.
int run_benchmarks(const Options &o, const char *self);

} // namespace jimbench
