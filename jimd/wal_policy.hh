// How much of the WAL's copy a worker's loop may do itself (checkpoint.cc): a pure rule,
// so that tests can drive it.
#pragma once

namespace jimd {

// The loop copies what its checkpoint thread left, and syncs it, only when that is little:
// kLoopFrames frames, a few milliseconds. A thread that got little CPU or waited long on
// its syncs leaves more (16,000 frames once at full load: a 417 ms stall of the loop); then
// the thread goes on instead, and past Store::kWalLimit the master's restart takes over.
constexpr int kLoopFrames = 256;

// Whether the loop copies the rest of a WAL now wal_frames long, the thread's last pass
// having copied up to frame copied (-1: it could not copy).
inline bool loop_may_finish(int wal_frames, int copied)
{
    return copied >= 0 && wal_frames - copied <= kLoopFrames;
}

} // namespace jimd
