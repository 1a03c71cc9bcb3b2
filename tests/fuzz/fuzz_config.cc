// fuzz_config.cc — fuzz target for jimd's config file reader (jimd/settings.cc, compiled
// in as it is): the input is a config file. Settings::load either accepts it, leaving
// every number within its setting's range, or reports at least one error, each one line
// that begins with the file's name, and leaves the settings as they were. A reload
// (Settings::reloaded) of the same file agrees with load.
#include "fuzz_check.hh"
#include "settings.hh"

#include <string>
#include <vector>

using jimd::Setting;
using jimd::Settings;

namespace {

// A snapshot of every value, to see that a refused file changed nothing.
std::vector<std::string> values(const Settings &s)
{
    std::vector<std::string> v;
    for (int i = 0; i < jimd::S_COUNT; i++)
        v.push_back(std::to_string(s.num(static_cast<Setting>(i))) + "|" +
                    s.str(static_cast<Setting>(i)));
    return v;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string path = fuzz_scratch_dir() + "/jimd.conf";
    FUZZ_CHECK(fuzz_write_file(path, data, size), "cannot write %s", path.c_str());
    Settings s;
    s.pin(jimd::S_PORT); // as -p does: the file's port is then skipped
    const std::vector<std::string> before = values(s);
    std::vector<std::string> errors;
    bool ok = s.load(path, &errors);
    FUZZ_CHECK(ok == errors.empty(), "load returned %d with %zu errors", ok, errors.size());
    for (const std::string &e : errors) {
        FUZZ_CHECK(e.compare(0, path.size() + 1, path + ":") == 0, "error without the file: %s",
                   e.c_str());
        FUZZ_CHECK(e.find('\n') == std::string::npos, "error of more than one line: %s", e.c_str());
    }
    if (!ok) {
        FUZZ_CHECK(values(s) == before, "a refused file changed settings");
    } else {
        for (int i = 0; i < jimd::S_COUNT; i++) {
            auto k = static_cast<Setting>(i);
            const jimd::SettingInfo &info = jimd::setting_info(k);
            if (info.type == jimd::Type::Int)
                FUZZ_CHECK(s.num(k) >= info.min && s.num(k) <= info.max, "%s = %ld out of range",
                           info.name, s.num(k));
            else if (info.type == jimd::Type::String)
                FUZZ_CHECK(static_cast<long>(s.str(k).size()) <= info.max, "%s too long",
                           info.name);
        }
        jim_limits *lim = nullptr;
        FUZZ_CHECK(jim_limits_new(&lim) == JIM_OK, "jim_limits_new");
        s.fill_limits(lim);
        jim_limits_free(lim);
    }
    // The reload half as often: the nearest-key search over unknown keys is most of a run.
    if (fuzz_hash(data, size) & 1)
        return 0;
    Settings fresh;
    std::vector<std::string> errors2;
    bool ok2 = s.reloaded(path, &fresh, &errors2);
    FUZZ_CHECK(ok2 == ok && errors2.size() == errors.size(), "reload disagrees with load");
    if (ok2)
        s.take_reloadable(fresh);
    return 0;
}
