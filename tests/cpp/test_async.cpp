// The calls of storetasks.hpp that do not block, against the emulator: hundreds of futures in
// flight at once behind a delayed reply, each equal to the blocking call's list; calls stopped by
// destroying their owner early (or their client), and by cancel(); errors as the exceptions the
// blocking calls throw; a page-by-page call equal to the blocking listing, taken blocking and from
// a poll() loop, bounded when its caller is slow; an event loop over many PendingCalls; and
// callbacks on the library's threads, one that throws and a chain that replaces its own call.
// Run plain, under valgrind and with ASan/UBSan by tests/cpp/run.sh.
#include <poll.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

// The tests' helpers: CHECK, the emulator process, expect_error, Stop, time_factor.
#include "harness.hpp"

static emulator emu;
static const std::size_t kTasks = 60;

static_assert(!std::is_copy_constructible_v<st::AsyncList> && !std::is_copy_assignable_v<st::AsyncList>);
static_assert(!std::is_copy_constructible_v<st::Call> && !std::is_copy_constructible_v<st::PendingCall>);
static_assert(!std::is_copy_constructible_v<st::PageCall> && !std::is_copy_constructible_v<st::Result>);
static_assert(std::is_nothrow_move_constructible_v<st::AsyncList> && std::is_nothrow_move_assignable_v<st::AsyncList>);
static_assert(std::is_nothrow_move_constructible_v<st::Call> && std::is_nothrow_move_assignable_v<st::Call>);
static_assert(std::is_nothrow_move_constructible_v<st::PendingCall> && std::is_nothrow_move_assignable_v<st::PageCall>);
static_assert(std::is_nothrow_default_constructible_v<st::Call> && std::is_nothrow_default_constructible_v<st::AsyncList>);
static_assert(std::is_nothrow_default_constructible_v<st::PendingCall> &&
              std::is_nothrow_default_constructible_v<st::PageCall>);
static_assert(static_cast<int>(st::Status::Pending) == 16);

using Clock = std::chrono::steady_clock;

static std::vector<std::string> ids(const st::TaskList& list) {
    std::vector<std::string> out;
    for (const st::Task& t : list) out.emplace_back(t.ami_id.value_or("-"));
    return out;
}

static st::Query page_of(std::int32_t n) {
    st::Query q;
    q.max_results(n);
    return q;
}

// Whether two errors say the same (their request ids aside).
static bool same_error(const st::Error& a, const st::Error& b) {
    return a.status() == b.status() && a.code() == b.code() && a.http_status() == b.http_status() &&
           a.message() == b.message();
}

static void test_names() {
    CHECK(st::status_name(st::Status::Pending) == "STORETASKS_STATUS_PENDING", "the new status's name: %s",
          std::string(st::status_name(st::Status::Pending)).c_str());
}

// Hundreds of calls started at once against replies delayed by 400 ms: starting does not wait,
// the emulator holds many of them at the same time, and each outcome is the blocking call's.
static void test_many_futures() {
    st::Client client(emu_st_config(&emu));
    const std::vector<std::string> want5 = ids(client.describe(page_of(5)));
    const std::vector<std::string> want_all = ids(client.describe_all(page_of(30)));
    const int n = std::getenv("STORETASKS_UNDER_VALGRIND") ? 40 : 300;
    emu_fault(&emu, "delay,ms=400,count=1000000");
    emu_http(&emu, "DELETE", "/_emulator/max-in-flight", "", nullptr, 0);
    const Clock::time_point started = Clock::now();
    std::vector<st::AsyncList> calls;
    std::vector<std::future<st::TaskList>> moved_out;
    for (int i = 0; i < n; i++) {
        calls.push_back(i % 2 ? client.describe_async(page_of(5)) : client.describe_all_async(page_of(30)));
        // A future moved out of a quarter of them: the AsyncList still owns the call.
        if (i % 4 == 3) moved_out.push_back(std::move(calls.back().future()));
    }
    const double start_secs = std::chrono::duration<double>(Clock::now() - started).count();
    CHECK(start_secs < 0.4 * time_factor(), "starting %d calls took %.2f s", n, start_secs);
    int pages = 0, listings = 0, wrong = 0;
    std::size_t next_moved = 0;
    for (int i = 0; i < n; i++) {
        try {
            st::TaskList list = calls[static_cast<std::size_t>(i)].valid() ? calls[static_cast<std::size_t>(i)].get()
                                                                           : moved_out.at(next_moved++).get();
            if (ids(list) == (i % 2 ? want5 : want_all))
                (i % 2 ? pages : listings)++;
            else
                wrong++;
        } catch (const st::Error& e) {
            wrong++;
            std::fprintf(stderr, "call %d: %s\n", i, e.what());
        }
    }
    const double secs = std::chrono::duration<double>(Clock::now() - started).count();
    const long max_in_flight = emu_stat(&emu, "max_in_flight");
    std::printf("%d calls in %.2f s, at most %ld requests in flight\n", n, secs, max_in_flight);
    CHECK(pages == n / 2 && listings == n / 2 && wrong == 0, "%d pages, %d listings, %d wrong", pages, listings, wrong);
    CHECK(!calls[0].valid(), "get() took the future");
    CHECK(max_in_flight >= n / 4, "the calls ran at the same time: at most %ld of %d requests in flight",
          max_in_flight, n);
    // One after the other they would take n * 0.6 s on average.
    CHECK(secs < 0.1 * n * time_factor(), "%d calls took %.2f s", n, secs);
    emu_clear_faults(&emu);
}

// An owner destroyed before its call ended stops the call at once; cancel() does too; a client
// destroyed under its calls ends them.
static void test_stopping() {
    st::Client client(emu_st_config(&emu));
    emu_fault(&emu, "delay,ms=3000,count=1000000");
    std::future<st::TaskList> orphan;
    Clock::time_point t = Clock::now();
    {
        st::AsyncList call = client.describe_async(page_of(5));
        orphan = std::move(call.future());
        CHECK(!call.valid(), "the future was moved out");
    }
    CHECK(Clock::now() - t < 500ms * time_factor(), "destroying a running AsyncList took long");
    CHECK(orphan.wait_for(0s) == std::future_status::ready, "the moved-out future was settled");
    st::Error e = expect_error([&] { orphan.get(); });
    CHECK(e.status() == st::Status::Cancelled && e.message().find("destroyed") != std::string::npos,
          "the future of a destroyed AsyncList: %s", e.what());

    st::AsyncList cancelled = client.describe_all_async(page_of(5));
    t = Clock::now();
    cancelled.cancel();
    CHECK(cancelled.wait_for(2s * time_factor()) == std::future_status::ready, "a cancelled call ended");
    e = expect_error([&] { cancelled.get(); });
    CHECK(e.status() == st::Status::Cancelled && Clock::now() - t < 2s * time_factor(), "cancel(): %s", e.what());

    // Move assignment stops the call it replaces.
    st::AsyncList replaced = client.describe_async(page_of(5));
    std::future<st::TaskList> first = std::move(replaced.future());
    replaced = client.describe_async(page_of(6));
    e = expect_error([&] { first.get(); });
    CHECK(e.status() == st::Status::Cancelled, "the replaced call: %s", e.what());
    replaced = std::move(replaced);  // NOLINT: self-move is harmless
    CHECK(replaced.valid(), "self-move keeps the call");
    replaced.cancel();
    st::AsyncList later;
    CHECK(!later.valid(), "an empty AsyncList has no future");
    later = std::move(replaced);
    e = expect_error([&] { later.get(); });
    CHECK(e.status() == st::Status::Cancelled, "moved into an empty AsyncList: %s", e.what());

    // A callback's Call, a PendingCall and a PageCall destroyed early: at once, and the callback
    // never runs.
    std::atomic<int> ran{0};
    t = Clock::now();
    {
        st::Call call = client.describe_async(page_of(5), [&](st::Result) { ran++; });
        st::PendingCall pending = client.describe_start(page_of(5));
        st::PageCall pages = client.describe_pages_async(page_of(5));
        std::this_thread::sleep_for(50ms);
        CHECK(!call.finished() && !pending.finished() && !pages.finished(), "the calls run");
    }
    CHECK(Clock::now() - t < 550ms * time_factor(), "destroying running calls took long");
    std::this_thread::sleep_for(100ms);
    CHECK(ran == 0, "the callback of a destroyed call ran");
    emu_clear_faults(&emu);

    // The client destroyed while a call runs on it: the call ends as cancelled and stays to be read.
    emu_fault(&emu, "delay,ms=5000,count=1");
    std::optional<st::Client> own(std::in_place, emu_st_config(&emu));
    st::AsyncList outlives = own->describe_async(page_of(5));
    std::this_thread::sleep_for(100ms);
    own.reset();
    CHECK(outlives.wait_for(10s) == std::future_status::ready, "the call did not end with its client");
    e = expect_error([&] { outlives.get(); });
    CHECK(e.status() == st::Status::Cancelled && e.message().find("client was freed") != std::string::npos,
          "a call whose client went: %s", e.what());
    emu_clear_faults(&emu);
}

// Failures are the exceptions the blocking calls throw: from get(), take(), the Result of a
// callback and next_page(); a bad argument throws at the start, before anything is sent.
static void test_errors() {
    st::Client client(emu_st_config(&emu));
    st::Client denied(emu_st_config(&emu, "us-east-1", EMU_DENIED_KEY));

    const st::Error refused = expect_error([&] { denied.describe(); });
    st::Error e = expect_error([&] { denied.describe_async(st::Query()).get(); });
    CHECK(e.status() == st::Status::Unauthorized && e.code() == "UnauthorizedOperation" && same_error(e, refused),
          "denied: %s, blocking: %s", e.what(), refused.what());
    CHECK(e.request_id() && !e.request_id()->empty(), "a request id");
    e = expect_error([&] { denied.describe_all_async(page_of(5)).get(); });
    CHECK(same_error(e, refused), "denied, every page: %s", e.what());

    st::Query unknown;
    unknown.filter("no-such-filter", {"x"});
    st::Error blocking = expect_error([&] { client.describe(unknown); });
    e = expect_error([&] { client.describe_async(unknown).get(); });
    CHECK(e.code() == "InvalidParameterValue" && e.http_status() == 400 && same_error(e, blocking),
          "unknown filter: %s", e.what());
    e = expect_error([&] { client.describe_async(st::Query().dry_run()).get(); });
    CHECK(e.status() == st::Status::DryRunOk && e.code() == "DryRunOperation", "dry run: %s", e.what());

    // A PendingCall throws from take(), once; afterwards take() refuses.
    st::PendingCall pending = denied.describe_start(st::Query());
    pending.wait();
    CHECK(pending.finished(), "finished after wait()");
    e = expect_error([&] { pending.take(); });
    CHECK(same_error(e, refused), "take(): %s", e.what());
    e = expect_error([&] { pending.take(); });
    CHECK(e.status() == st::Status::InvalidArgument, "a second take(): %s", e.what());

    // A callback receives the error in its Result.
    std::promise<st::Result> delivered;
    st::Call call = denied.describe_async(st::Query(), [&](st::Result r) { delivered.set_value(std::move(r)); });
    st::Result result = delivered.get_future().get();
    CHECK(!result.ok() && !result && result.error() && same_error(*result.error(), refused) && result.exception(),
          "the callback's Result: %s", result.error() ? result.error()->what() : "no Error");
    e = expect_error([&] { (void)result.value(); });
    CHECK(same_error(e, refused), "Result::value() throws the error: %s", e.what());

    // Bad arguments: thrown by the start, as the blocking call throws them, with nothing sent.
    st::Query bad;
    bad.image_id("ami-00000000000000001").max_results(10);
    blocking = expect_error([&] { client.describe(bad); });
    long before = emu_requests(&emu);
    int called = 0;
    const std::function<void()> starts[] = {
        [&] { (void)client.describe_async(bad); },
        [&] { (void)client.describe_all_async(bad, 3); },
        [&] { (void)client.describe_async(bad, [&](st::Result) { called++; }); },
        [&] { (void)client.describe_all_async(bad, 0, [&](st::Result) { called++; }); },
        [&] { (void)client.describe_start(bad); },
        [&] { (void)client.describe_all_start(bad); },
        [&] { (void)client.describe_pages_async(bad); },
    };
    for (const auto& start : starts) {
        e = expect_error(start);
        CHECK(e.status() == st::Status::InvalidArgument && same_error(e, blocking), "a bad query: %s", e.what());
    }
    e = expect_error([&] { (void)client.describe_async(st::Query(), std::function<void(st::Result)>()); });
    CHECK(e.status() == st::Status::InvalidArgument, "an empty callback: %s", e.what());
    CHECK(emu_requests(&emu) == before && called == 0, "nothing was sent, no callback ran");

    // A moved-from client throws, as its blocking calls do.
    st::Client gone = std::move(client);
    e = expect_error([&] { (void)client.describe_async(st::Query()); });  // NOLINT(bugprone-use-after-move)
    CHECK(e.status() == st::Status::InvalidArgument, "a moved-from client: %s", e.what());
    CHECK(gone.describe_async(page_of(2)).get().size() == 2, "the moved-to client works");
}

// Page by page: the same tasks as the blocking listing, taken blocking and from a poll() loop;
// the cap; a slow caller holds the listing back; what ends a listing early is thrown once.
static void test_pages() {
    st::Client client(emu_st_config(&emu));
    const st::Query q = page_of(7);
    const std::vector<std::string> want = ids(client.describe_all(q));
    CHECK(want.size() == kTasks, "the blocking listing has %zu tasks", want.size());

    st::PageCall pages = client.describe_pages_async(q);
    std::vector<std::string> got;
    std::size_t n = 0;
    while (std::optional<st::TaskList> page = pages.wait_next_page()) {
        n++;
        for (const std::string& id : ids(*page)) got.push_back(id);
    }
    CHECK(got == want && n == 9, "blocking: %zu pages, %zu tasks, %s", n, got.size(),
          got == want ? "the listing's" : "not the listing's");
    CHECK(pages.ended() && pages.finished() && !pages.next_page() && pages.wait_for(0ms), "the end stays");

    // From a poll() loop over its descriptor, with a cap of 30 tasks.
    st::PageCall capped = client.describe_pages_async(q, 30);
    got.clear();
    int woken = 0;
    while (!capped.ended()) {
        pollfd p{capped.fd(), POLLIN, 0};
        if (poll(&p, 1, 5000 * time_factor()) != 1) {
            CHECK(false, "no page for 5 s after %zu tasks", got.size());
            break;
        }
        woken++;
        while (std::optional<st::TaskList> page = capped.next_page())
            for (const std::string& id : ids(*page)) got.push_back(id);
    }
    CHECK(got == std::vector<std::string>(want.begin(), want.begin() + 30), "capped: %zu tasks", got.size());
    CHECK(woken >= 1 && capped.finished(), "woken %d times", woken);

    // A caller that takes nothing: the listing stops once two pages wait for it.
    long before = emu_requests(&emu);
    st::PageCall slow = client.describe_pages_async(q);
    std::this_thread::sleep_for(600ms * time_factor());
    const long asked = emu_requests(&emu) - before;
    CHECK(asked >= 2 && asked <= 3, "a listing whose pages are not taken asked %ld pages", asked);
    n = 0;
    while (slow.wait_next_page()) n++;
    CHECK(n == 9, "then every page: %zu", n);

    // Waiting with a time limit, before anything came.
    emu_fault(&emu, "delay,ms=800,count=1");
    st::PageCall delayed = client.describe_pages_async(q);
    CHECK(!delayed.wait_for(100ms), "nothing came in 100 ms");
    CHECK(!delayed.next_page() && !delayed.ended(), "nothing to take yet");
    CHECK(delayed.wait_for(5s * time_factor()), "a page came");
    std::optional<st::TaskList> first = delayed.next_page();
    CHECK(first && ids(*first) == std::vector<std::string>(want.begin(), want.begin() + 7), "the first page");
    delayed.cancel();
    try {
        while (delayed.wait_next_page()) {
        }
        CHECK(false, "a cancelled listing ended without an error");
    } catch (const st::Error& e) {
        CHECK(e.status() == st::Status::Cancelled && delayed.ended(), "cancelled listing: %s", e.what());
    }

    // A listing that fails after two pages: they are delivered, then its error, once.
    st::Client once(emu_st_config(&emu).retry(st::RetryMode::Standard, 1));
    emu_fault(&emu, "internal,at=3");
    st::PageCall failing = once.describe_pages_async(q);
    n = 0;
    st::Error e = expect_error([&] {
        while (failing.wait_next_page()) n++;
    });
    CHECK(n == 2 && e.status() == st::Status::Service && e.code() == "InternalError", "after %zu pages: %s", n,
          e.what());
    CHECK(failing.ended() && !failing.next_page() && !failing.wait_next_page(), "the error is thrown once");
    emu_clear_faults(&emu);

    st::Client denied(emu_st_config(&emu, "us-east-1", EMU_DENIED_KEY));
    st::PageCall refused = denied.describe_pages_async(q);
    e = expect_error([&] { refused.wait_next_page(); });
    CHECK(e.status() == st::Status::Unauthorized && refused.ended(), "denied pages: %s", e.what());
}

// Many PendingCalls driven from one thread by poll(), as an event loop drives them.
static void test_event_loop() {
    st::Client client(emu_st_config(&emu));
    const std::vector<std::string> want = ids(client.describe(page_of(5)));
    const int n = std::getenv("STORETASKS_UNDER_VALGRIND") ? 20 : 100;
    emu_fault(&emu, "delay,ms=300,count=1000000");
    std::vector<std::optional<st::PendingCall>> calls;
    for (int i = 0; i < n; i++) calls.emplace_back(client.describe_start(page_of(5)));
    CHECK(!calls[0]->take() && !calls[0]->finished(), "a running call has nothing to take");
    CHECK(!calls[0]->wait_for(50ms), "nor within 50 ms");
    int listed = 0, other = 0, running = n;
    const Clock::time_point started = Clock::now();
    while (running > 0 && Clock::now() - started < 60s * time_factor()) {
        std::vector<pollfd> fds;
        std::vector<std::size_t> index;
        for (std::size_t i = 0; i < calls.size(); i++)
            if (calls[i]) {
                fds.push_back(pollfd{calls[i]->fd(), POLLIN, 0});
                index.push_back(i);
            }
        if (poll(fds.data(), fds.size(), 200) <= 0) continue;
        for (std::size_t k = 0; k < fds.size(); k++) {
            if (!(fds[k].revents & POLLIN)) continue;
            std::optional<st::PendingCall>& call = calls[index[k]];
            try {
                std::optional<st::TaskList> list = call->take();
                if (!list) continue;  // woken for nothing
                (ids(*list) == want ? listed : other)++;
            } catch (const st::Error& e) {
                other++;
                std::fprintf(stderr, "call %zu: %s\n", index[k], e.what());
            }
            call.reset();
            running--;
        }
    }
    CHECK(listed == n && other == 0, "%d of %d listed, %d other", listed, n, other);
    emu_clear_faults(&emu);
}

// Callbacks run on the library's threads, once each, with the blocking call's list; an exception
// thrown by one goes nowhere; a chain of calls, each started by the previous one's callback,
// which replaces its own Call with the new one.
static void test_callbacks() {
    st::Client client(emu_st_config(&emu));
    const std::vector<std::string> want = ids(client.describe(page_of(3)));
    const std::vector<std::string> want_all = ids(client.describe_all(page_of(25), 40));
    const int n = std::getenv("STORETASKS_UNDER_VALGRIND") ? 20 : 100;
    const std::thread::id main_thread = std::this_thread::get_id();
    std::mutex lock;
    std::condition_variable done;
    int ok = 0, wrong = 0, on_main = 0;
    {
        std::vector<st::Call> calls;
        emu_fault(&emu, "delay,ms=200,count=1000000");
        for (int i = 0; i < n; i++) {
            const std::vector<std::string>& expected = i % 2 ? want : want_all;
            auto on_result = [&, expected_ids = &expected](st::Result r) {
                const bool right = r.ok() && ids(r.value()) == *expected_ids;
                std::lock_guard<std::mutex> guard(lock);
                (right ? ok : wrong)++;
                if (std::this_thread::get_id() == main_thread) on_main++;
                done.notify_all();
            };
            calls.push_back(i % 2 ? client.describe_async(page_of(3), on_result)
                                  : client.describe_all_async(page_of(25), 40, on_result));
        }
        std::unique_lock<std::mutex> guard(lock);
        done.wait_for(guard, 30s * time_factor(), [&] { return ok + wrong == n; });
        CHECK(ok == n && wrong == 0 && on_main == 0, "%d right, %d wrong, %d on the main thread", ok, wrong, on_main);
        guard.unlock();
        CHECK(calls[0].finished() && calls[1].finished(), "the calls finished");
        emu_clear_faults(&emu);
    }  // the Calls go before what their callbacks use

    // A callback that throws: the exception stays on the library's thread, the client goes on.
    std::promise<void> thrown;
    {
        st::Call call = client.describe_async(page_of(2), [&](st::Result) {
            thrown.set_value();
            throw Stop("nobody catches this");
        });
        CHECK(thrown.get_future().wait_for(10s * time_factor()) == std::future_status::ready, "the callback ran");
    }
    CHECK(client.describe_async(page_of(2)).get().size() == 2, "usable after a throwing callback");

    // A chain: each callback starts the next call and assigns it over its own Call.
    struct Chain {
        std::mutex lock;
        std::condition_variable done;
        st::Call current;  // empty at first
        int left = 20, listed = 0;
    } chain;
    const st::Query q = page_of(3);
    std::function<void(st::Result)> step = [&](st::Result r) {
        std::lock_guard<std::mutex> guard(chain.lock);
        if (r.ok() && r.value().size() == 3) chain.listed++;
        if (--chain.left > 0)
            chain.current = client.describe_async(q, step);  // destroys the Call running this callback
        else
            chain.done.notify_all();
    };
    {
        std::lock_guard<std::mutex> guard(chain.lock);
        chain.current = client.describe_async(q, step);
    }
    st::Call last;
    {
        std::unique_lock<std::mutex> guard(chain.lock);
        chain.done.wait_for(guard, 30s * time_factor(), [&] { return chain.left == 0; });
        CHECK(chain.left == 0 && chain.listed == 20, "a chain of 20 calls: %d listed, %d left", chain.listed,
              chain.left);
        last = std::move(chain.current);
    }
    last = st::Call();  // outside the lock: it waits for the last callback if that one still runs
    CHECK(!last.get() && !last.finished() && last.fd() == -1, "an empty Call");
}

int main() {
    const char* args[] = {"--generate", "60", "--seed", "11", nullptr};
    with_emulator(&emu, args, [] {
        test_names();
        test_many_futures();
        test_stopping();
        test_errors();
        test_pages();
        test_event_loop();
        test_callbacks();
    });
    return h_finish();
}
