// What the C++ tests share, on top of the C tests' harness (tests/c/harness.h, plain C that
// compiles as C++: CHECK, and the emulator process with its control endpoint): a Config for an
// emulator, errors caught as values, the emulator's counters, a run that counts an escaping
// exception as a failure (and one against 60 generated tasks), a Cancel triggered from another
// thread, and time bounds stretched under valgrind. Every test names the library `st` and writes
// durations as literals (300ms).
#ifndef STORETASKS_TEST_HARNESS_HPP
#define STORETASKS_TEST_HARNESS_HPP

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include "storetasks.hpp"
#include "../c/harness.h"

namespace st = storetasks;
using namespace std::chrono_literals;

// A Config for the emulator `emu`: `region`, its endpoint, and keys it accepts (EMU_DENIED_KEY for
// keys it refuses); everything else is the library's default.
inline st::Config emu_st_config(const emulator* emu, const std::string& region = "us-east-1",
                             const char* access_key = EMU_ACCESS_KEY) {
    st::Config cfg;
    cfg.region(region).endpoint_url(emu->endpoint).credentials(access_key, EMU_SECRET_KEY);
    return cfg;
}

// emu_st_config, with AssumeRole sent to the emulator too, `attempts` tries per request, and at most
// 2 s to connect, 5 s per attempt and 20 s per call: for the calls that reach several places.
inline st::Config emu_role_config(const emulator* emu, const std::string& region, std::uint32_t attempts) {
    st::Config cfg = emu_st_config(emu, region);
    cfg.sts_endpoint_url(emu->endpoint).retry(st::RetryMode::Standard, attempts).timeouts(2000ms, 5000ms, 20000ms);
    return cfg;
}

// Runs `fn`, which must throw st::Error; returns it (status Ok when nothing was thrown).
template <class F>
st::Error expect_error(F&& fn) {
    try {
        fn();
    } catch (const st::Error& e) {
        return e;
    }
    return st::Error(st::Status::Ok, "nothing was thrown");
}

// An exception of the tests' own type, thrown by a callback to see it come out of the call that
// ran the callback with its type.
struct Stop : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A top-level number of the emulator's /_emulator/stats (its per-pair table, "by_pair", is
// skipped); -1 when the stats cannot be read.
inline long emu_stat(const emulator* emu, const char* name) {
    char body[16384];
    if (emu_http(emu, "GET", "/_emulator/stats", "", body, sizeof body) != 200) return -1;
    std::string s(body);
    std::size_t at = s.find("\"by_pair\":");
    if (at != std::string::npos) {
        std::size_t i = s.find('{', at);
        int depth = 0;
        std::size_t end = i;
        for (; end < s.size(); end++) {
            if (s[end] == '{') depth++;
            if (s[end] == '}' && --depth == 0) break;
        }
        if (i == std::string::npos || end >= s.size()) return -1;
        s.erase(at, end + 1 - at);
    }
    std::string key = std::string("\"") + name + "\":";
    std::size_t k = s.find(key);
    return k == std::string::npos ? -1 : std::atol(s.c_str() + k + key.size());
}

// Starts `emu` with `args` (the emulator's arguments, NULL-terminated), runs `tests`, counts an
// exception that escapes them as a failure (its message says "unexpected exception", then
// `where`), and stops `emu`.
template <class F>
void with_emulator(emulator* emu, const char* const* args, F&& tests, const char* where = "") {
    emu_start(emu, args);
    try {
        tests();
    } catch (const std::exception& e) {
        CHECK(false, "unexpected exception%s: %s", where, e.what());
    }
    emu_stop(emu);
}

// How many tasks the emulator of with_generated_tasks serves.
inline constexpr std::size_t kGeneratedTasks = 60;

// Runs `tests` as with_emulator does, against `emu` serving kGeneratedTasks generated tasks, the
// same ones every run (seed 11).
template <class F>
void with_generated_tasks(emulator* emu, F&& tests) {
    const std::string count = std::to_string(kGeneratedTasks);
    const char* args[] = {"--generate", count.c_str(), "--seed", "11", nullptr};
    with_emulator(emu, args, std::forward<F>(tests));
}

// How many times a bound on elapsed time is stretched: valgrind runs a program tens of times
// slower, so its run gets ten times the time (the plain and ASan runs hold the tight bound).
inline int time_factor() { return std::getenv("STORETASKS_UNDER_VALGRIND") ? 10 : 1; }

// What a call that another thread cancelled threw, and how long it ran.
struct CancelledCall {
    st::Error error;
    std::chrono::steady_clock::duration took;
};

// Runs `fn`, which must throw st::Error, while another thread triggers `cancel` 300 ms after the
// start.
template <class F>
CancelledCall run_and_cancel(st::Cancel& cancel, F&& fn) {
    std::thread trigger([&] {
        std::this_thread::sleep_for(300ms);
        cancel.trigger();
    });
    auto started = std::chrono::steady_clock::now();
    st::Error e = expect_error(std::forward<F>(fn));
    auto took = std::chrono::steady_clock::now() - started;
    trigger.join();
    return CancelledCall{e, took};
}

#endif
