// The calls of storetasks.hpp that do not block, against the emulator: hundreds of futures in
// flight at once behind a delayed reply, each equal to the blocking call's list; calls stopped by
// destroying their owner early (or their client), and by cancel(); errors as the exceptions the
// blocking calls throw; a page-by-page call equal to the blocking listing, taken blocking and from
// a poll() loop, bounded when its caller is slow; an event loop over many PendingCalls; and
// callbacks on the library's threads, one that throws and a chain that replaces its own call.
// Then, against an emulator serving two regions: waits that end completed, failed, not found or
// cancelled, and across both regions, each as the blocking wait ends; fleets equal to the blocking
// fleet place by place; and fleets page by page, every page naming its region, adding up to the
// blocking fleet's counts, and stopped by destroying their owner.
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
static const std::size_t kTasks = kGeneratedTasks;

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
static_assert(!std::is_copy_constructible_v<st::AsyncFleet> && !std::is_copy_constructible_v<st::PendingFleet>);
static_assert(!std::is_copy_constructible_v<st::FleetPageCall> && !std::is_copy_constructible_v<st::FleetOutcome>);
static_assert(std::is_nothrow_move_constructible_v<st::AsyncFleet> &&
              std::is_nothrow_move_assignable_v<st::AsyncFleet>);
static_assert(std::is_nothrow_move_constructible_v<st::PendingFleet> &&
              std::is_nothrow_move_assignable_v<st::PendingFleet>);
static_assert(std::is_nothrow_move_constructible_v<st::FleetPageCall> &&
              std::is_nothrow_move_assignable_v<st::FleetPageCall>);
static_assert(std::is_nothrow_default_constructible_v<st::AsyncFleet> &&
              std::is_nothrow_default_constructible_v<st::PendingFleet> &&
              std::is_nothrow_default_constructible_v<st::FleetPageCall>);
static_assert(std::is_same_v<st::Result, st::Outcome<st::TaskList>> &&
              std::is_same_v<st::AsyncList, st::AsyncCall<st::TaskList>>);
static_assert(std::is_same_v<decltype(std::declval<st::AsyncFleet&>().get()), st::FleetResult>);

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

// Waits up to `within` for `call` (a std::future or an AsyncCall) to be settled, then checks that
// get() throws Error(Status::Cancelled) with `text` in its message; `what` names the call.
template <class Future>
static void check_cancelled(Future& call, std::chrono::milliseconds within, const char* text, const char* what) {
    CHECK(call.wait_for(within) == std::future_status::ready, "%s was not settled", what);
    const st::Error e = expect_error([&] { call.get(); });
    CHECK(e.status() == st::Status::Cancelled && e.message().find(text) != std::string::npos, "%s: %s", what,
          e.what());
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
    check_cancelled(orphan, 0ms, "destroyed", "the future of a destroyed AsyncList");

    st::AsyncList cancelled = client.describe_all_async(page_of(5));
    t = Clock::now();
    cancelled.cancel();
    CHECK(cancelled.wait_for(2s * time_factor()) == std::future_status::ready, "a cancelled call ended");
    st::Error e = expect_error([&] { cancelled.get(); });
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
    check_cancelled(outlives, 10s, "client was freed", "a call whose client went");
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

// --- waits and fleets, against an emulator serving us-east-1 and eu-west-3 ----------------------

static const char* const kDone1 = "ami-0c0000000000000c1";
static const char* const kDone2 = "ami-0c0000000000000c2";
static const char* const kFailed = "ami-0f0000000000000f1";
static const char* const kRunning = "ami-0a0000000000000a1";
static const char* const kMissing = "ami-0ffffffffffffffff";
static const char* const kEuDone = "ami-0e0000000000000e1";
static const char* const kEuFailed = "ami-0e00000000000000f";

// A task of the tasks-file shape, started a minute before the emulator's clock.
static std::string task_json(const char* ami, const char* state, int progress, const char* reason = nullptr) {
    std::string out = std::string("{\"AmiId\":\"") + ami +
                      "\",\"TaskStartTime\":\"2026-11-20T11:59:00.000Z\",\"Bucket\":\"b\",\"ProgressPercentage\":" +
                      std::to_string(progress) + ",\"StoreTaskState\":\"" + state + "\"";
    if (reason) out += std::string(",\"StoreTaskFailureReason\":\"") + reason + "\"";
    return out + "}";
}

// The tasks the waits wait for: four in the home pair, two in eu-west-3's.
static void add_wait_tasks() {
    emu_add_tasks(&emu, ("{\"StoreImageTaskResults\":[" + task_json(kDone1, "Completed", 100) + "," +
                         task_json(kDone2, "Completed", 100) + "," +
                         task_json(kFailed, "Failed", 40, "the bucket is gone") + "," +
                         task_json(kRunning, "InProgress", 10) + "]}")
                            .c_str());
    const std::string eu = "{\"StoreImageTaskResults\":[" + task_json(kEuDone, "Completed", 100) + "," +
                           task_json(kEuFailed, "Failed", 70, "access denied to the bucket") + "]}";
    CHECK(emu_http(&emu, "POST", "/_emulator/tasks?region=eu-west-3", eu.c_str(), nullptr, 0) == 200,
          "the tasks of eu-west-3 were added");
}

static st::WaitOptions fast() { return st::WaitOptions().delays(100ms, 300ms).deadline(30s).grace(300ms); }

// A task copied out of its list: its AMI, state and failure reason.
static std::vector<std::string> seen(const st::TaskList& list) {
    std::vector<std::string> out;
    for (const st::Task& t : list)
        out.push_back(std::string(t.ami_id.value_or("-")) + " " + std::string(t.state_raw.value_or("-")) + " " +
                      std::string(t.failure_reason.value_or("")));
    return out;
}

// Waits that end completed, failed, not found or cancelled, through each form (future, callback,
// PendingCall), each ending as the blocking wait ends.
static void test_waits() {
    st::Client client(emu_st_config(&emu));
    const std::vector<std::string> done = {kDone2, kDone1};

    // Completed: the final tasks in the order asked, as the blocking wait gives them; the progress
    // callback of the options is not called by a wait that does not block.
    int progressed = 0;
    const st::WaitOptions counted = fast().on_progress([&](const st::TaskList&) {
        progressed++;
        return true;
    });
    const std::vector<std::string> want = seen(client.wait(done, fast()));
    CHECK(want.size() == 2 && want[0].rfind(kDone2, 0) == 0 && want[1].find("Completed") != std::string::npos,
          "the blocking wait: %zu tasks", want.size());
    st::AsyncList waiting = client.wait_async(done, counted);
    CHECK(waiting.valid(), "a wait's future");
    CHECK(seen(waiting.get()) == want, "wait_async gives the blocking wait's tasks");
    CHECK(progressed == 0, "the progress callback ran %d times", progressed);
    st::PendingCall pending = client.wait_start(done, fast());
    pending.wait();
    std::optional<st::TaskList> taken = pending.take();
    CHECK(taken && seen(*taken) == want, "wait_start's take() gives the blocking wait's tasks");
    std::promise<st::Result> delivered;
    st::Call call = client.wait_async(done, fast(), [&](st::Result r) { delivered.set_value(std::move(r)); });
    st::Result result = delivered.get_future().get();
    CHECK(result.ok() && seen(result.value()) == want, "the callback's Result holds the blocking wait's tasks");

    // Failed: TaskFailed naming the AMI and EC2's reason, as the blocking wait throws it.
    const st::Error failed = expect_error([&] { client.wait({kFailed}, fast()); });
    st::Error e = expect_error([&] { client.wait_async({kFailed}, fast()).get(); });
    CHECK(e.status() == st::Status::TaskFailed && e.ami_id() == kFailed &&
              e.failure_reason() == std::string("the bucket is gone") && same_error(e, failed),
          "failed: %s, blocking: %s", e.what(), failed.what());
    st::PendingCall failing = client.wait_start({kFailed}, fast());
    CHECK(failing.wait_for(15s * time_factor()), "the failed wait ended");
    e = expect_error([&] { failing.take(); });
    CHECK(same_error(e, failed), "take() of the failed wait: %s", e.what());
    e = expect_error([&] { failing.take(); });
    CHECK(e.status() == st::Status::InvalidArgument, "a second take(): %s", e.what());

    // Not found: NotFound after the grace period, naming the AMI (the message says how long it
    // had no task, which differs from one wait to the next).
    const st::Error missing = expect_error([&] { client.wait({kMissing}, fast()); });
    const auto same_not_found = [&](const st::Error& got) {
        const std::string said = std::string(kMissing) + " has had no store task for ";
        return got.status() == st::Status::NotFound && got.ami_id() == kMissing && !got.code() &&
               got.message().rfind(said, 0) == 0 && missing.message().rfind(said, 0) == 0;
    };
    const Clock::time_point started = Clock::now();
    e = expect_error([&] { client.wait_async({kMissing}, fast()).get(); });
    CHECK(same_not_found(e), "not found: %s, blocking: %s", e.what(), missing.what());
    CHECK(Clock::now() - started >= 300ms, "the grace of 300 ms was kept");
    std::promise<st::Result> not_found;
    call = client.wait_async({kMissing}, fast(), [&](st::Result r) { not_found.set_value(std::move(r)); });
    result = not_found.get_future().get();
    CHECK(!result.ok() && result.error() && same_not_found(*result.error()), "the callback's not found: %s",
          result.error() ? result.error()->what() : "no Error");

    // Cancelled: a wait on a task that stays InProgress ends promptly once cancel() is called, and a
    // wait whose owner is destroyed ends at once, its callback never run.
    st::AsyncList running = client.wait_async({kRunning}, fast());
    CHECK(running.wait_for(400ms) == std::future_status::timeout, "a wait on a running task goes on");
    Clock::time_point t = Clock::now();
    running.cancel();
    e = expect_error([&] { running.get(); });
    CHECK(e.status() == st::Status::Cancelled && Clock::now() - t < 1s * time_factor(), "cancelled: %s", e.what());
    st::PendingCall stopped = client.wait_start({kRunning}, fast());
    CHECK(!stopped.wait_for(200ms) && !stopped.take(), "the wait runs, with nothing to take");
    stopped.cancel();
    CHECK(stopped.wait_for(1s * time_factor()), "the cancelled wait ended");
    e = expect_error([&] { stopped.take(); });
    CHECK(e.status() == st::Status::Cancelled, "take() of a cancelled wait: %s", e.what());
    std::atomic<int> ran{0};
    t = Clock::now();
    {
        st::Call gone = client.wait_async({kRunning}, fast(), [&](st::Result) { ran++; });
        st::AsyncList dropped = client.wait_async({kRunning}, fast());
        std::this_thread::sleep_for(200ms);
    }
    CHECK(Clock::now() - t < 700ms * time_factor(), "destroying running waits took long");
    std::this_thread::sleep_for(100ms);
    CHECK(ran == 0, "the callback of a destroyed wait ran");

    // Bad arguments throw at the start, as the blocking wait throws them, and nothing is sent.
    const long before = emu_requests(&emu);
    struct Bad {
        std::function<void()> blocking, started;
    };
    const std::string nul = std::string(kDone1) + '\0';
    const Bad bad[] = {
        {[&] { client.wait({}, fast()); }, [&] { (void)client.wait_async({}, fast()); }},
        {[&] { client.wait({nul}, fast()); }, [&] { (void)client.wait_start({nul}, fast()); }},
        {[&] { client.wait({kDone1}, fast().delays(2s, 1s)); },
         [&] { (void)client.wait_async({kDone1}, fast().delays(2s, 1s), [](st::Result) {}); }},
        {[&] { client.wait_targets({}, fast()); }, [&] { (void)client.wait_targets_async({}, fast()); }},
        {[&] { client.wait_targets({{"EU WEST", "", kDone1}}, fast()); },
         [&] { (void)client.wait_targets_start({{"EU WEST", "", kDone1}}, fast()); }},
        {[&] { client.wait_targets({{"", "", ""}}, fast()); },
         [&] { (void)client.wait_targets_async({{"", "", ""}}, fast(), [](st::Result) {}); }},
    };
    for (const Bad& b : bad) {
        const st::Error want_error = expect_error(b.blocking);
        e = expect_error(b.started);
        CHECK(e.status() == st::Status::InvalidArgument && same_error(e, want_error), "refused: %s, blocking: %s",
              e.what(), want_error.what());
    }
    e = expect_error([&] { (void)client.wait_async({kDone1}, fast(), std::function<void(st::Result)>()); });
    CHECK(e.status() == st::Status::InvalidArgument, "an empty callback: %s", e.what());
    CHECK(emu_requests(&emu) == before, "bad arguments sent %ld requests", emu_requests(&emu) - before);
}

// Waits across us-east-1 and eu-west-3: the tasks in the order of the targets, a failure named with
// its region, each as the blocking wait_targets ends.
static void test_wait_targets() {
    st::Client client(emu_st_config(&emu));
    const std::vector<st::WaitTarget> targets = {
        {"eu-west-3", "", kEuDone}, {"", "", kDone1}, {"us-east-1", "", kDone2}};
    const std::vector<std::string> want = seen(client.wait_targets(targets, fast()));
    CHECK(want.size() == 3 && want[0].rfind(kEuDone, 0) == 0 && want[1].rfind(kDone1, 0) == 0 &&
              want[2].rfind(kDone2, 0) == 0,
          "the blocking wait across regions: %zu tasks", want.size());
    CHECK(seen(client.wait_targets_async(targets, fast()).get()) == want, "wait_targets_async gives its tasks");
    st::PendingCall pending = client.wait_targets_start(targets, fast());
    pollfd p{pending.fd(), POLLIN, 0};
    CHECK(poll(&p, 1, 15000 * time_factor()) == 1, "the wait across regions never ended");
    std::optional<st::TaskList> taken = pending.take();
    CHECK(taken && seen(*taken) == want, "wait_targets_start's take() gives its tasks");

    // An image of eu-west-3 waited for there fails, named "eu-west-3/ami-...".
    const std::vector<st::WaitTarget> failing = {{"us-east-1", "", kDone1}, {"eu-west-3", "", kEuFailed}};
    const st::Error blocking = expect_error([&] { client.wait_targets(failing, fast()); });
    std::promise<st::Result> delivered;
    st::Call call =
        client.wait_targets_async(failing, fast(), [&](st::Result r) { delivered.set_value(std::move(r)); });
    st::Result result = delivered.get_future().get();
    const st::Error* e = result.error();
    CHECK(e && e->status() == st::Status::TaskFailed && e->ami_id() == kEuFailed &&
              e->message().rfind(std::string("eu-west-3/") + kEuFailed + " failed: ", 0) == 0 &&
              same_error(*e, blocking),
          "failed across regions: %s, blocking: %s", e ? e->what() : "no Error", blocking.what());
    // The image of eu-west-3 is not in us-east-1.
    st::Error missing = expect_error([&] {
        client.wait_targets_async({{"us-east-1", "", kEuDone}, {"eu-west-3", "", kEuDone}}, fast()).get();
    });
    CHECK(missing.status() == st::Status::NotFound && missing.ami_id() == kEuDone &&
              missing.message().find(std::string("us-east-1/") + kEuDone) != std::string::npos,
          "looked for in the wrong region: %s", missing.what());
}

// The regions of the fleet calls: two served, one that is not (each of its requests is refused).
static st::Fleet three_regions() {
    st::Fleet fleet;
    fleet.regions({"us-east-1", "eu-west-3", "ap-south-1"});
    return fleet;
}

// Checks that two fleet results hold the same places in order: regions, accounts, outcomes and
// tasks (or, with `counted`, that `got` has the tasks' count and no tasks).
static void same_places(const st::FleetResult& got, const st::FleetResult& want, const char* what,
                        bool counted = false) {
    CHECK(got.size() == want.size() && got.failed() == want.failed(), "%s: %zu places (%zu failed), want %zu (%zu)",
          what, got.size(), got.failed(), want.size(), want.failed());
    for (std::size_t i = 0; i < got.size() && i < want.size(); i++) {
        const st::FleetPlace& g = got[i];
        const st::FleetPlace& w = want[i];
        CHECK(g.region == w.region && g.account == w.account && g.role_arn == w.role_arn,
              "%s: place %zu is %s, want %s", what, i, std::string(g.region).c_str(), std::string(w.region).c_str());
        CHECK(g.ok() == w.ok() && (g.ok() || same_error(*g.error, *w.error)), "%s: place %zu ends as %s, want %s", what,
              i, g.error ? g.error->what() : "ok", w.error ? w.error->what() : "ok");
        if (counted)
            CHECK(g.tasks.empty() && g.task_count == w.tasks.size(),
                  "%s: place %zu counts %zu tasks (holds %zu), want %zu", what, i, g.task_count, g.tasks.size(),
                  w.tasks.size());
        else
            CHECK(g.tasks.to_json() == w.tasks.to_json() && g.task_count == w.task_count,
                  "%s: place %zu's tasks differ", what, i);
    }
}

// Adds the tasks of `page`, a page of `region`, to the count of that region's place in `want`
// (`counts` has a count for each place of `want`).
static void count_page(std::vector<std::size_t>& counts, const st::FleetResult& want,
                       std::optional<std::string_view> region, const st::TaskList& page) {
    for (std::size_t i = 0; i < want.size(); i++)
        if (region == want[i].region) counts[i] += page.size();
}

// describe_fleet_pages of `fleet` and `q`, with `counts` set to the tasks its pages gave each
// place of `want`: what it returned.
static st::FleetResult count_fleet_pages(const st::Client& client, const st::Fleet& fleet, const st::Query& q,
                                         const st::FleetResult& want, std::vector<std::size_t>& counts) {
    counts.assign(want.size(), 0);
    return client.describe_fleet_pages(
        fleet, q, [&](std::string_view region, std::optional<std::string_view>, const st::TaskList& page) {
            count_page(counts, want, region, page);
        });
}

// A fleet listed without blocking, as a future, through a callback and from an event loop: place by
// place the blocking fleet; the fleet and the query are copied; bad arguments throw at the start;
// cancel() and destroying the owner stop it.
static void test_fleet() {
    st::Client client(emu_st_config(&emu));
    st::Fleet fleet = three_regions();
    st::Query q = page_of(7);
    const st::FleetResult want = client.describe_fleet(fleet, q);
    CHECK(want.size() == 3 && want.failed() == 1 && !want[2].ok() && want[0].tasks.size() > 7 &&
              want[1].tasks.size() > 7,
          "the blocking fleet: %zu places, %zu failed", want.size(), want.failed());

    st::AsyncFleet started = client.describe_fleet_async(fleet, q);
    fleet.region("us-west-2");  // copied at the start: the call lists three places
    q.max_results(5);
    same_places(started.get(), want, "describe_fleet_async");
    CHECK(!started.valid(), "get() took the future");
    q.max_results(7);
    fleet = three_regions();
    same_places(client.describe_fleet_async(fleet).get(), client.describe_fleet(fleet), "without a query");

    std::promise<st::FleetOutcome> delivered;
    st::Call call =
        client.describe_fleet_async(fleet, q, [&](st::FleetOutcome r) { delivered.set_value(std::move(r)); });
    st::FleetOutcome outcome = delivered.get_future().get();
    CHECK(outcome.ok() && !outcome.error(), "the callback's outcome");
    if (outcome) same_places(outcome.value(), want, "the callback form");

    st::PendingFleet pending = client.describe_fleet_start(fleet, q);
    CHECK(!pending.finished(), "a fleet call just started has not ended");
    while (!pending.finished()) {
        pollfd p{pending.fd(), POLLIN, 0};
        if (poll(&p, 1, 15000 * time_factor()) != 1) break;
        if (std::optional<st::FleetResult> result = pending.take()) same_places(*result, want, "describe_fleet_start");
    }
    st::Error e = expect_error([&] { pending.take(); });
    CHECK(pending.finished() && e.status() == st::Status::InvalidArgument, "a second take(): %s", e.what());

    // Bad arguments: thrown by the start, as describe_fleet throws them, with nothing sent.
    const long before = emu_requests(&emu);
    int called = 0;
    const std::function<void()> starts[] = {
        [&] { (void)client.describe_fleet_async(st::Fleet(), q); },
        [&] { (void)client.describe_fleet_async(st::Fleet(), q, [&](st::FleetOutcome) { called++; }); },
        [&] { (void)client.describe_fleet_start(st::Fleet()); },
        [&] { (void)client.describe_fleet_pages_async(st::Fleet(), q); },
    };
    const st::Error refused = expect_error([&] { client.describe_fleet(st::Fleet(), q); });
    for (const auto& start : starts) {
        e = expect_error(start);
        CHECK(e.status() == st::Status::InvalidArgument && same_error(e, refused), "a fleet without regions: %s",
              e.what());
    }
    const st::Error tokened = expect_error([&] { client.describe_fleet(fleet, st::Query().next_token("abc")); });
    e = expect_error([&] { (void)client.describe_fleet_async(fleet, st::Query().next_token("abc")); });
    CHECK(e.status() == st::Status::InvalidArgument && same_error(e, tokened), "a query with a token: %s", e.what());
    e = expect_error([&] { (void)client.describe_fleet_async(fleet, q, std::function<void(st::FleetOutcome)>()); });
    CHECK(e.status() == st::Status::InvalidArgument, "an empty callback: %s", e.what());
    CHECK(emu_requests(&emu) == before && called == 0, "nothing was sent, no callback ran");

    // Stopped: by cancel(), and by destroying the AsyncFleet (its moved-out future says so).
    emu_fault(&emu, "delay,ms=3000,count=1000000");
    st::AsyncFleet cancelled = client.describe_fleet_async(fleet, q);
    std::this_thread::sleep_for(100ms);
    Clock::time_point t = Clock::now();
    cancelled.cancel();
    e = expect_error([&] { cancelled.get(); });
    CHECK(e.status() == st::Status::Cancelled && Clock::now() - t < 2s * time_factor(), "cancel(): %s", e.what());
    std::future<st::FleetResult> orphan;
    t = Clock::now();
    {
        st::AsyncFleet dropped = client.describe_fleet_async(fleet, q);
        orphan = std::move(dropped.future());
        st::PendingFleet dropped_pending = client.describe_fleet_start(fleet, q);
        std::this_thread::sleep_for(50ms);
    }
    CHECK(Clock::now() - t < 550ms * time_factor(), "destroying running fleet calls took long");
    check_cancelled(orphan, 0ms, "AsyncFleet was destroyed", "the future of a destroyed AsyncFleet");
    emu_clear_faults(&emu);
}

// A fleet page by page: every page names its region (and no account), a region's pages add up to
// its tasks in the blocking fleet, in order, and the end counts them; cancel() ends the listing and
// take_fleet() says so; the owner destroyed mid-listing stops it.
static void test_fleet_pages() {
    st::Client client(emu_st_config(&emu));
    const st::Fleet fleet = three_regions();
    const st::Query q = page_of(7);
    const st::FleetResult want = client.describe_fleet(fleet, q);
    CHECK(!client.describe(q).region() && !client.describe(q).account(), "a listing's page names no place");

    st::FleetPageCall pages = client.describe_fleet_pages_async(fleet, q);
    CHECK(!pages.take_fleet(), "no end before the pages");
    std::vector<std::vector<std::string>> got(want.size());
    std::size_t n = 0, unnamed = 0, too_big = 0;
    while (std::optional<st::TaskList> page = pages.wait_next_page()) {
        n++;
        const std::optional<std::string_view> region = page->region();
        std::size_t at = want.size();
        for (std::size_t i = 0; i < want.size(); i++)
            if (region == want[i].region) at = i;
        if (at == want.size() || page->account()) unnamed++;
        if (page->size() > 7) too_big++;
        if (at < want.size())
            for (const std::string& id : ids(*page)) got[at].push_back(id);
    }
    CHECK(pages.ended() && pages.finished() && unnamed == 0 && too_big == 0,
          "%zu pages: %zu without a served region or with an account, %zu of more than 7 tasks", n, unnamed, too_big);
    for (std::size_t i = 0; i < want.size(); i++)
        CHECK(got[i] == ids(want[i].tasks), "%s: %zu tasks in pages, %zu in the blocking fleet",
              std::string(want[i].region).c_str(), got[i].size(), want[i].tasks.size());
    CHECK(n >= 4, "more than one page per served region: %zu pages", n);
    std::optional<st::FleetResult> end = pages.take_fleet();
    CHECK(end.has_value(), "the end after the last page");
    if (end) same_places(*end, want, "the end of the pages", true);
    st::Error e = expect_error([&] { pages.take_fleet(); });
    CHECK(e.status() == st::Status::InvalidArgument, "a second take_fleet(): %s", e.what());
    CHECK(!pages.next_page() && !pages.wait_next_page(), "the end stays");

    // From a poll() loop over its descriptor: the same counts as describe_fleet_pages'.
    std::vector<std::size_t> counts;
    const st::FleetResult streamed = count_fleet_pages(client, fleet, q, want, counts);
    st::FleetPageCall polled = client.describe_fleet_pages_async(fleet, q);
    std::vector<std::size_t> polled_counts(want.size());
    while (!polled.ended()) {
        pollfd p{polled.fd(), POLLIN, 0};
        if (poll(&p, 1, 15000 * time_factor()) != 1) {
            CHECK(false, "no page for 15 s");
            break;
        }
        while (std::optional<st::TaskList> page = polled.next_page())
            count_page(polled_counts, want, page->region(), *page);
    }
    CHECK(polled_counts == counts, "the pages of the poll() loop add up as describe_fleet_pages' do");
    end = polled.take_fleet();
    CHECK(end.has_value(), "the end of the poll() loop");
    if (end) {
        CHECK(end->size() == streamed.size(), "%zu places, describe_fleet_pages has %zu", end->size(), streamed.size());
        for (std::size_t i = 0; i < end->size() && i < streamed.size(); i++)
            CHECK((*end)[i].task_count == streamed[i].task_count && (*end)[i].task_count == polled_counts[i] &&
                      (*end)[i].ok() == streamed[i].ok(),
                  "place %zu counts %zu, describe_fleet_pages %zu", i, (*end)[i].task_count, streamed[i].task_count);
    }

    // Cancelled after one page: the listing ends, take_fleet() throws Cancelled.
    st::FleetPageCall cancelled = client.describe_fleet_pages_async(fleet, q);
    CHECK(cancelled.wait_next_page().has_value(), "a first page");
    cancelled.cancel();
    std::size_t after = 0;
    while (cancelled.wait_next_page()) after++;
    e = expect_error([&] { cancelled.take_fleet(); });
    CHECK(cancelled.ended() && e.status() == st::Status::Cancelled, "cancelled after %zu more pages: %s", after,
          e.what());

    // Destroyed mid-listing: at once, and nothing more is asked for.
    const long listed = emu_requests(&emu);
    Clock::time_point t = Clock::now();
    {
        st::FleetPageCall dropped = client.describe_fleet_pages_async(fleet, q);
        CHECK(dropped.wait_next_page().has_value(), "a first page before dropping");
    }
    CHECK(Clock::now() - t < 2s * time_factor(), "destroying a running FleetPageCall took long");
    std::this_thread::sleep_for(300ms * time_factor());
    const long stopped = emu_requests(&emu);
    std::this_thread::sleep_for(300ms * time_factor());
    CHECK(emu_requests(&emu) == stopped && stopped - listed < static_cast<long>(n),
          "the dropped listing asked %ld pages, then %ld more", stopped - listed, emu_requests(&emu) - stopped);

    // A page owner moved and assigned over: the listing it replaces stops, the moved one goes on.
    st::FleetPageCall first = client.describe_fleet_pages_async(fleet, q);
    st::FleetPageCall second = std::move(first);
    first = client.describe_fleet_pages_async(fleet, q);
    first = st::FleetPageCall();
    CHECK(!first.get() && first.fd() == -1 && !first.finished(), "an empty FleetPageCall");
    std::size_t moved_tasks = 0;
    while (std::optional<st::TaskList> page = second.wait_next_page()) moved_tasks += page->size();
    CHECK(moved_tasks == want[0].tasks.size() + want[1].tasks.size(), "the moved listing gave %zu tasks", moved_tasks);
}

// A task of eu-west-3 that starts in 2300 (beyond a nanosecond system_clock): the fleet without
// blocking fails that place alone, as the blocking fleet does; page by page, its pages from that
// one on are not handed out, and the end fails the place with the tasks handed out before it, as
// describe_fleet_pages does. Run last: it changes eu-west-3's tasks.
static void test_fleet_refused_times() {
    static const char* const kFarAmi = "ami-0000000000000023a";
    const std::string far = std::string("{\"StoreImageTaskResults\":[{\"AmiId\":\"") + kFarAmi +
                            "\",\"TaskStartTime\":\"2300-01-01T00:00:00Z\",\"Bucket\":\"b\","
                            "\"ProgressPercentage\":100,\"StoreTaskState\":\"Completed\"}]}";
    CHECK(emu_http(&emu, "POST", "/_emulator/tasks?region=eu-west-3", far.c_str(), nullptr, 0) == 200,
          "the task of 2300 was added");
    st::Client client(emu_st_config(&emu));
    const st::Fleet fleet = three_regions();
    const st::Query q = page_of(7);
    const st::FleetResult want = client.describe_fleet(fleet, q);
    CHECK(want.size() == 3 && want[1].error && want[1].error->status() == st::Status::Response &&
              want[1].error->ami_id() == kFarAmi,
          "the blocking fleet fails eu-west-3: %s", want.size() == 3 && want[1].error ? want[1].error->what() : "no");
    same_places(client.describe_fleet_async(fleet, q).get(), want, "describe_fleet_async with a task of 2300");

    std::vector<std::size_t> streamed_counts;
    const st::FleetResult streamed = count_fleet_pages(client, fleet, q, want, streamed_counts);
    st::FleetPageCall pages = client.describe_fleet_pages_async(fleet, q);
    std::vector<std::size_t> counts(want.size());
    std::size_t far_seen = 0;
    while (std::optional<st::TaskList> page = pages.wait_next_page()) {
        count_page(counts, want, page->region(), *page);
        for (const st::Task& t : *page) far_seen += t.ami_id == kFarAmi;
    }
    CHECK(far_seen == 0 && counts == streamed_counts && counts[0] == want[0].tasks.size(),
          "pages: us-east-1 gave %zu tasks (%zu), eu-west-3 %zu (%zu), the task of 2300 %zu times", counts[0],
          streamed_counts[0], counts[1], streamed_counts[1], far_seen);
    std::optional<st::FleetResult> end = pages.take_fleet();
    CHECK(end && end->size() == 3 && end->failed() == 2 && end->failed() == streamed.failed(), "the end: %zu failed",
          end ? end->failed() : 0);
    if (end && end->size() == 3 && streamed.size() == 3)
        for (std::size_t i = 0; i < 3; i++) {
            const st::FleetPlace& got = (*end)[i];
            const st::FleetPlace& blocking = streamed[i];
            CHECK(got.task_count == counts[i] && got.task_count == blocking.task_count && got.ok() == blocking.ok() &&
                      (got.ok() || same_error(*got.error, *blocking.error)),
                  "place %zu: %zu counted, describe_fleet_pages %zu; %s", i, got.task_count, blocking.task_count,
                  got.error ? got.error->what() : "ok");
        }
}

int main() {
    with_generated_tasks(&emu, [] {
        test_names();
        test_many_futures();
        test_stopping();
        test_errors();
        test_pages();
        test_event_loop();
        test_callbacks();
    });
    const char* regions[] = {"--now", "2026-11-20T12:00:00Z", "--generate", "60", "--seed", "11",
                             "--regions", "us-east-1,eu-west-3", nullptr};
    with_emulator(&emu, regions, [] {
        add_wait_tasks();
        test_waits();
        test_wait_targets();
        test_fleet();
        test_fleet_pages();
        test_fleet_refused_times();
    }, " (two regions)");
    return h_finish();
}
