// replay_main.cc — main() for a fuzz target built without libFuzzer: runs every file
// named on the command line (a directory: every file in it, in name order) through
// LLVMFuzzerTestOneInput once, so `make check` replays the corpora with any compiler.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <dirent.h>
#include <fstream>
#include <iterator>
#include <string>
#include <sys/stat.h>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

namespace {

// Appends path, or every regular file under it, to out.
void collect(const std::string &path, std::vector<std::string> &out)
{
    struct stat st;
    if (stat(path.c_str(), &st) != 0) {
        std::fprintf(stderr, "%s: cannot stat\n", path.c_str());
        out.push_back(path); // reported as unreadable below
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        out.push_back(path);
        return;
    }
    DIR *d = opendir(path.c_str());
    std::vector<std::string> names;
    while (dirent *e = d ? readdir(d) : nullptr)
        if (e->d_name[0] != '.')
            names.push_back(path + "/" + e->d_name);
    if (d)
        closedir(d);
    std::sort(names.begin(), names.end());
    for (const std::string &n : names)
        collect(n, out);
}

} // namespace

int main(int argc, char **argv)
{
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    std::vector<std::string> files;
    for (int i = 1; i < argc; i++)
        collect(argv[i], files);
    int bad = 0;
    for (const std::string &f : files) {
        std::ifstream in(f, std::ios::binary);
        if (!in) {
            std::fprintf(stderr, "%s: cannot read\n", f.c_str());
            bad++;
            continue;
        }
        std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(data.data()), data.size());
    }
    std::printf("%zu inputs replayed\n", files.size());
    return bad ? 1 : 0;
}
