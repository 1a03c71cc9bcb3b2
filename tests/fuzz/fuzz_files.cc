// fuzz_files.cc — the scratch directory and file writing of fuzz_check.hh, for the
// targets that read their input from files (the config and the client store).
#include "fuzz_check.hh"

#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace {

std::string scratch;

// Removes the scratch directory and what is in it (flat: the targets make no subdirectory
// but the store's own, which they remove themselves).
void remove_scratch()
{
    if (scratch.empty())
        return;
    std::string cmd = "rm -rf '" + scratch + "'";
    if (std::system(cmd.c_str()) != 0)
        std::fprintf(stderr, "cannot remove %s\n", scratch.c_str());
}

} // namespace

const std::string &fuzz_scratch_dir()
{
    if (scratch.empty()) {
        char tmpl[] = "/tmp/jim-fuzz-XXXXXX";
        if (!mkdtemp(tmpl)) {
            std::perror("mkdtemp");
            std::abort();
        }
        scratch = tmpl;
        std::atexit(remove_scratch);
    }
    return scratch;
}

bool fuzz_write_file(const std::string &path, const uint8_t *data, size_t size)
{
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return false;
    size_t done = 0;
    while (done < size) {
        ssize_t n = ::write(fd, data + done, size - done);
        if (n <= 0) {
            ::close(fd);
            return false;
        }
        done += static_cast<size_t>(n);
    }
    return ::close(fd) == 0;
}
