// jimbench — a load generator for JIM servers: one thread, epoll, non-blocking sockets,
// loopback only, bounded in count and time. It starts the server itself (jimd, or its own
// reference line relay with --relay) pinned to one CPU and runs on another, then reports
// throughput, latency and the server's own CPU time and memory from /proc.
//
//   jimbench [--relay] [--jimd PATH] [-w N] [--workload all|w1|w2|w3|w4|w5] [--short] ...
//   jimbench --help
#include "loadgen.hh"
#include "relay.hh"
#include "server.hh"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <getopt.h>
#include <string>

using namespace jimbench;

static void usage(FILE *to)
{
    std::fprintf(to,
                 "usage: jimbench [options]\n"
                 "  --relay            measure the reference line relay too, and print ratios\n"
                 "  --jimd PATH        the jimd to start (default build/jimd/jimd)\n"
                 "  -w N               jimd workers (default 1)\n"
                 "  --server-cpus L    CPUs for the server, e.g. 0 or 0,1 (default 0)\n"
                 "  --bench-cpu N      CPU for jimbench itself (default 1; -1: any)\n"
                 "  --workload W       all, w1 (direct), w2 (room), w3 (idle), w4 (login),\n"
                 "                     w5 (general chat of -C sessions)\n"
                 "  --short            small counts, for make bench (under 2 minutes in all)\n"
                 "  -P N -K N -N N     W1: pairs (50), in flight per sender (64), messages (1e6)\n"
                 "  --rate N           W1: open loop, N messages/s, latency from the due time\n"
                 "  --ids              W1, W2: every message with an id, as libjim's clients send\n"
                 "  -R N -S N          W2: room members (100), senders (5)\n"
                 "  -C N               W3, W5: idle connections (10000)\n"
                 "  --general-messages N  W5: general messages posted, one at a time (20)\n"
                 "  --logins N         W4: logins per mode (2000 without a password, 200 with)\n"
                 "  --time-limit S     stop any workload after S seconds (default 60)\n");
}

int main(int argc, char **argv)
{
    Options o;
    enum {
        O_RELAY = 256,
        O_JIMD,
        O_SCPUS,
        O_BCPU,
        O_WORK,
        O_SHORT,
        O_RATE,
        O_LOGINS,
        O_TIME,
        O_HELP,
        O_SERVE,
        O_GENERAL,
        O_IDS
    };
    static const option longopts[] = {{"relay", no_argument, nullptr, O_RELAY},
                                      {"jimd", required_argument, nullptr, O_JIMD},
                                      {"server-cpus", required_argument, nullptr, O_SCPUS},
                                      {"bench-cpu", required_argument, nullptr, O_BCPU},
                                      {"workload", required_argument, nullptr, O_WORK},
                                      {"short", no_argument, nullptr, O_SHORT},
                                      {"rate", required_argument, nullptr, O_RATE},
                                      {"logins", required_argument, nullptr, O_LOGINS},
                                      {"time-limit", required_argument, nullptr, O_TIME},
                                      {"general-messages", required_argument, nullptr, O_GENERAL},
                                      {"help", no_argument, nullptr, O_HELP},
                                      {"serve-relay", required_argument, nullptr, O_SERVE},
                                      {"ids", no_argument, nullptr, O_IDS},
                                      {nullptr, 0, nullptr, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "w:P:K:N:R:S:C:", longopts, nullptr)) != -1) {
        switch (c) {
        case O_RELAY: o.relay = true; break;
        case O_JIMD: o.jimd = optarg; break;
        case 'w': o.workers = std::atoi(optarg); break;
        case O_SCPUS: o.server_cpus = optarg; break;
        case O_BCPU: o.bench_cpu = std::atoi(optarg); break;
        case O_WORK: o.workload = optarg; break;
        case O_SHORT: o.short_run = true; break;
        case 'P': o.pairs = std::atoi(optarg); break;
        case 'K': o.inflight = std::atoi(optarg); break;
        case 'N': o.messages = std::atol(optarg); break;
        case O_RATE: o.rate = std::atol(optarg); break;
        case O_IDS: o.ids = true; break;
        case 'R': o.members = std::atoi(optarg); break;
        case 'S': o.senders = std::atoi(optarg); break;
        case 'C': o.idle = std::atoi(optarg); break;
        case O_LOGINS: o.logins = std::atoi(optarg); break;
        case O_TIME: o.time_limit = std::atof(optarg); break;
        case O_GENERAL: o.general_messages = std::atoi(optarg); break;
        case O_HELP: usage(stdout); return 0;
        case O_SERVE: return run_relay(std::atoi(optarg)); // internal: the relay process
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc || o.workers < 1 || o.workers > 64 || o.pairs < 1 || o.inflight < 1 ||
        o.messages < 1 || o.members < 2 || o.senders < 1 || o.senders > o.members || o.idle < 1 ||
        o.time_limit <= 0 || o.time_limit > 3600 || o.general_messages < 1 ||
        o.general_messages > 100000) {
        usage(stderr);
        return 2;
    }
    if (o.short_run) {
        o.messages = std::min(o.messages, 200000L);
        o.idle = std::min(o.idle, 2000);
        o.logins_plain = 500;
        o.logins_scrypt = 50;
        o.general_messages = std::min(o.general_messages, 5);
        o.time_limit = std::min(o.time_limit, 20.0);
    }
    if (o.logins > 0)
        o.logins_plain = o.logins_scrypt = o.logins;
    return run_benchmarks(o, argv[0]);
}
