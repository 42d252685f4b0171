// storetasks.hpp against the emulator: listings, batching, errors as exceptions, the page
// callback (including one that throws), cancellation, threads, move semantics, and the waiter
// against a second emulator whose tasks progress. Run plain, under valgrind and with ASan/UBSan
// by tests/cpp/run.sh.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

// The tests' helpers: CHECK, the emulator process, expect_error, run_and_cancel.
#include "harness.hpp"

static emulator emu;
static const std::size_t kTasks = kGeneratedTasks;

// Move-only owners.
static_assert(!std::is_copy_constructible_v<st::Client> && !std::is_copy_assignable_v<st::Client>);
static_assert(!std::is_copy_constructible_v<st::TaskList> && !std::is_copy_assignable_v<st::TaskList>);
static_assert(!std::is_copy_constructible_v<st::Query> && !std::is_copy_constructible_v<st::Config>);
static_assert(!std::is_copy_constructible_v<st::Cancel>);
static_assert(std::is_nothrow_move_constructible_v<st::Client> && std::is_nothrow_move_assignable_v<st::Client>);
static_assert(std::is_nothrow_move_constructible_v<st::TaskList> && std::is_nothrow_move_assignable_v<st::TaskList>);
static_assert(std::is_nothrow_move_constructible_v<st::Query> && std::is_nothrow_move_constructible_v<st::Config>);
static_assert(std::is_base_of_v<std::runtime_error, st::Error>);

static st::Config config(const char* access_key = EMU_ACCESS_KEY, std::uint32_t attempts = 3,
                         std::chrono::milliseconds attempt_timeout = 0ms) {
    st::Config cfg = emu_st_config(&emu, "us-east-1", access_key);
    cfg.retry(st::RetryMode::Standard, attempts).timeouts(0ms, attempt_timeout);
    return cfg;
}

// Writes `text` into a new file named after the mkstemp template `path` (completed in place);
// false, after counting a failure, when it cannot.
static bool write_tasks_file(char* path, const char* text) {
    int fd = mkstemp(path);
    bool written = fd >= 0 && write(fd, text, std::strlen(text)) == static_cast<ssize_t>(std::strlen(text));
    if (fd >= 0) close(fd);
    if (!written) CHECK(false, "could not write the tasks file");
    return written;
}

static bool newest_first_and_unique(const st::TaskList& list) {
    std::set<std::string> seen;
    std::optional<std::chrono::system_clock::time_point> previous;
    for (const st::Task& t : list) {
        if (!t.ami_id || !t.start_time) return false;
        if (!seen.insert(std::string(*t.ami_id)).second) return false;
        if (previous && *t.start_time > *previous) return false;
        previous = t.start_time;
    }
    return true;
}

static void test_version_and_names() {
    std::string want = std::to_string(STORETASKS_VERSION_MAJOR) + "." + std::to_string(STORETASKS_VERSION_MINOR) + "." +
                       std::to_string(STORETASKS_VERSION_PATCH);
    CHECK(st::version() == want, "version %s", std::string(st::version()).c_str());
    CHECK(st::status_name(st::Status::Throttled) == "STORETASKS_STATUS_THROTTLED", "status name");
    st::Error e(st::Status::Service, "boom", std::string("InternalError"), 500, std::string("req-1"));
    CHECK(std::string(e.what()) == "STORETASKS_STATUS_SERVICE (InternalError): boom", "what(): %s", e.what());
    CHECK(e.message() == "boom" && e.http_status() == 500 && e.request_id() == "req-1", "accessors");
}

// True when an Error's message is the library's reason (a sentence), not only the status name.
static bool has_reason(const st::Error& e) {
    return e.message() != e.status_name() && e.message().size() >= 10 && e.message().find(' ') != std::string::npos;
}

// Start times are converted to system_clock without overflow: the edges of its range convert,
// anything beyond is refused as a reply this front end cannot hold.
static void test_task_times() {
    storetasks_task t{};
    t.has_task_start_time = true;
    t.task_start_time_ms = 1795176000123;  // 2026-11-20T12:00:00.123Z
    st::Task task = st::Task::from(t);
    CHECK(task.start_time && std::chrono::duration_cast<std::chrono::milliseconds>(task.start_time->time_since_epoch())
                                     .count() == 1795176000123,
          "an ordinary time converts exactly");
    CHECK(task.raw == &t, "the view keeps the C task");
    t.has_task_start_time = false;
    t.task_start_time_ms = std::numeric_limits<std::int64_t>::max();
    CHECK(!st::Task::from(t).start_time, "no start time: the value is not read");

    using Duration = std::chrono::system_clock::duration;
    const std::int64_t hi = std::chrono::duration_cast<std::chrono::milliseconds>(Duration::max()).count();
    const std::int64_t lo = std::chrono::duration_cast<std::chrono::milliseconds>(Duration::min()).count();
    t.has_task_start_time = true;
    for (std::int64_t ms : {hi, lo, std::int64_t{0}, std::int64_t{-1}}) {
        t.task_start_time_ms = ms;
        std::int64_t back = 0;
        try {
            back = std::chrono::duration_cast<std::chrono::milliseconds>(st::Task::from(t).start_time->time_since_epoch())
                       .count();
        } catch (const st::Error& e) {
            CHECK(false, "%lld ms refused: %s", static_cast<long long>(ms), e.what());
            continue;
        }
        CHECK(back == ms, "%lld ms came back as %lld", static_cast<long long>(ms), static_cast<long long>(back));
    }
    const std::int64_t beyond[] = {hi == std::numeric_limits<std::int64_t>::max() ? hi : hi + 1,
                                   lo == std::numeric_limits<std::int64_t>::min() ? lo : lo - 1,
                                   std::numeric_limits<std::int64_t>::max(),
                                   std::numeric_limits<std::int64_t>::min(), 253402300800000 /* year 10000 */};
    for (std::int64_t ms : beyond) {
        if (ms >= lo && ms <= hi) continue;  // a clock wider than libstdc++'s nanoseconds holds it
        t.task_start_time_ms = ms;
        st::Error e = expect_error([&] { (void)st::Task::from(t); });
        CHECK(e.status() == st::Status::Response && e.message().find(std::to_string(ms)) != std::string::npos,
              "%lld ms: %s", static_cast<long long>(ms), e.what());
    }
}

// A reply with a start time past 2262 (the emulator's clock set to 2300): every call that would
// hand it to C++ throws Error(Status::Response), and the C list is freed (valgrind checks).
static void test_task_times_from_a_reply() {
    static const char* const kFuture =
        "{\"StoreImageTaskResults\":[{\"AmiId\":\"ami-0000000000000000f\","
        "\"TaskStartTime\":\"2299-12-31T00:00:00.000Z\",\"Bucket\":\"b\",\"ProgressPercentage\":100,"
        "\"StoreTaskState\":\"Completed\"}]}";
    char path[] = "/tmp/storetasks-cpp-future-XXXXXX";
    if (!write_tasks_file(path, kFuture)) return;
    emulator future;
    const char* args[] = {"--tasks-file", path, "--now", "2300-01-01T00:00:00Z", nullptr};
    with_emulator(&future, args, [&] {
        st::Client client(emu_st_config(&future));
        st::Error e = expect_error([&] { client.describe(); });
        CHECK(e.status() == st::Status::Response, "describe: %s", e.what());
        e = expect_error([&] { client.describe_all(st::Query()); });
        CHECK(e.status() == st::Status::Response, "describe_all: %s", e.what());
        bool called = false;
        e = expect_error([&] { client.describe_pages(st::Query(), [&](const st::TaskList&) { called = true; }); });
        CHECK(e.status() == st::Status::Response && !called, "describe_pages: %s", e.what());
        e = expect_error([&] { client.wait({"ami-0000000000000000f"}, st::WaitOptions().delays(100ms, 200ms)); });
        CHECK(e.status() == st::Status::Response, "wait: %s", e.what());
        // The C view of the same reply is fine: only the conversion is refused.
        storetasks_task_list* list = nullptr;
        CHECK_STATUS(storetasks_client_describe(client.get(), nullptr, nullptr, &list, nullptr), STORETASKS_STATUS_OK);
        CHECK(storetasks_task_list_len(list) == 1 && storetasks_task_list_get(list, 0)->task_start_time_ms == 10413705600000,
              "the C list holds the task");
        storetasks_task_list_free(list);
    });
    unlink(path);
}

// A task of eu-west-3 that starts in 2300 (beyond a nanosecond system_clock), added through the
// emulator's control endpoint: a fleet call keeps every other place and fails that place alone
// with Error(Status::Response) naming the AMI; its streaming form does the same; a listing of
// that region throws that error too. The C results are freed (valgrind checks).
static void test_task_times_in_a_fleet() {
    static const char* const kFarAmi = "ami-0000000000000023a";
    static const std::string kFuture = std::string("{\"StoreImageTaskResults\":[{\"AmiId\":\"") + kFarAmi +
                                       "\",\"TaskStartTime\":\"2300-01-01T00:00:00Z\",\"Bucket\":\"b\","
                                       "\"ProgressPercentage\":100,\"StoreTaskState\":\"Completed\"}]}";
    emulator fleet_emu;
    const char* args[] = {"--now", "2026-11-20T12:00:00Z", "--generate", "5", "--seed", "3",
                          "--regions", "eu-west-3", nullptr};
    with_emulator(&fleet_emu, args, [&] {
        CHECK(emu_http(&fleet_emu, "POST", "/_emulator/tasks?region=eu-west-3", kFuture.c_str(), nullptr, 0) == 200,
              "the task of 2300 was added");
        st::Config cfg = emu_st_config(&fleet_emu);
        st::Client client(cfg);
        const auto refused = [&](const st::Error& e) {
            return e.status() == st::Status::Response && e.ami_id() == kFarAmi &&
                   e.message().find(kFarAmi) != std::string::npos &&
                   e.message().find("start time") != std::string::npos;
        };

        st::FleetResult result = client.describe_fleet(st::Fleet().region("us-east-1").region("eu-west-3"));
        CHECK(result.size() == 2 && result.failed() == 1, "two places, one failed (of %zu, %zu failed)", result.size(),
              result.failed());
        if (result.size() == 2) {
            const st::FleetPlace& home = result[0];
            const st::FleetPlace& far = result[1];
            CHECK(home.region == "us-east-1" && home.ok() && home.tasks.size() == 5 && home.task_count == 5,
                  "us-east-1 keeps its 5 tasks (%zu)", home.tasks.size());
            CHECK(far.region == "eu-west-3" && far.error && refused(*far.error), "eu-west-3 failed: %s",
                  far.error ? far.error->what() : "no error");
            CHECK(far.tasks.size() == far.task_count, "the place's count is that of its tasks (%zu, %zu)",
                  far.tasks.size(), far.task_count);
            for (const st::Task& t : far.tasks) CHECK(t.ami_id != kFarAmi, "the refused task is not in the list");
        }

        std::map<std::string, std::size_t> seen;
        result = client.describe_fleet_pages(st::Fleet().region("us-east-1").region("eu-west-3"), st::Query(),
                                             [&](std::string_view region, std::optional<std::string_view>,
                                                 const st::TaskList& page) { seen[std::string(region)] += page.size(); });
        CHECK(result.size() == 2 && result.failed() == 1, "pages: two places, one failed (%zu failed)", result.failed());
        CHECK(seen["us-east-1"] == 5, "pages: us-east-1 delivered its 5 tasks (%zu)", seen["us-east-1"]);
        if (result.size() == 2) {
            CHECK(result[0].ok() && result[0].task_count == 5, "pages: us-east-1 answered");
            CHECK(result[1].error && refused(*result[1].error) && result[1].task_count == seen["eu-west-3"],
                  "pages: eu-west-3 failed (%zu delivered): %s", result[1].task_count,
                  result[1].error ? result[1].error->what() : "no error");
        }

        cfg.region("eu-west-3");
        st::Error e = expect_error([&] { st::Client(cfg).describe(); });
        CHECK(refused(e) && e.request_id() && !e.request_id()->empty(), "a listing of eu-west-3, with the reply's "
              "request id: %s", e.what());
        e = expect_error([&] { st::Client(cfg).describe_all(st::Query()); });
        CHECK(refused(e), "describe_all of eu-west-3: %s", e.what());
    });
}

// Setters that refuse a value throw the library's reason, not only a status.
static void test_setter_reasons() {
    st::Error e = expect_error([] { st::Config().retry(static_cast<st::RetryMode>(99), 1); });
    CHECK(e.status() == st::Status::InvalidArgument && has_reason(e), "retry mode: %s", e.what());
    // What the C types hold but the library does not take (a concurrency this large once made
    // every fleet call return PANIC).
    e = expect_error([] { st::Config().max_concurrency(std::size_t(1) << 62); });
    CHECK(e.status() == st::Status::InvalidArgument && std::strstr(e.what(), "max concurrency must be from 1 to 1024"),
          "huge concurrency: %s", e.what());
    e = expect_error([] { st::Config().retry(st::RetryMode::Standard, 4294967295u); });
    CHECK(e.status() == st::Status::InvalidArgument && std::strstr(e.what(), "max attempts must be from 1 to 100"),
          "billions of attempts: %s", e.what());
    e = expect_error([] { st::Query().image_id(""); });
    CHECK(e.status() == st::Status::InvalidArgument && has_reason(e), "empty image id: %s", e.what());
    e = expect_error([] { st::Query().filter("bucket", {std::string("\xff\xfe")}); });
    CHECK(e.status() == st::Status::InvalidArgument && has_reason(e), "invalid UTF-8: %s", e.what());
    // A Config that refused a value keeps working with the values it took.
    st::Config cfg = config();
    e = expect_error([&] { cfg.retry(static_cast<st::RetryMode>(99), 1); });
    CHECK(has_reason(e), "refused: %s", e.what());
    CHECK(st::Client(cfg).describe(st::Query().max_results(3)).size() == 3, "usable after a refused setter");
}

static void test_bad_input() {
    st::Error e = expect_error([] { st::Config().retry(static_cast<st::RetryMode>(99), 1); });
    CHECK(e.status() == st::Status::InvalidArgument, "bad retry mode: %s", e.what());
    e = expect_error([] { st::Config().region(std::string("us-east-1\0x", 11)); });
    CHECK(e.status() == st::Status::InvalidArgument && std::strstr(e.what(), "NUL"), "NUL in a string: %s", e.what());
    e = expect_error([] { st::Config().timeouts(-1ms); });
    CHECK(e.status() == st::Status::InvalidArgument, "negative timeout");
    e = expect_error([] { st::Query().image_id(""); });
    CHECK(e.status() == st::Status::InvalidArgument, "empty image id");
    e = expect_error([] { st::Client(st::Config().region("us-east-1").app_name("no spaces")); });
    CHECK(e.status() == st::Status::InvalidArgument, "bad app name: %s", e.what());

    // Out-of-range page size: refused before anything is sent.
    st::Client client(config());
    long before = emu_requests(&emu);
    e = expect_error([&] { client.describe(st::Query().max_results(500)); });
    CHECK(e.status() == st::Status::InvalidArgument && !e.code() && e.http_status() == 0, "max results: %s", e.what());
    e = expect_error([&] { client.describe(st::Query().image_id("ami-1").max_results(5)); });
    CHECK(e.status() == st::Status::InvalidArgument, "ids with max results: %s", e.what());
    CHECK(emu_requests(&emu) == before, "nothing was sent");
}

// Proxy settings: a URL the library cannot use is refused with its reason, never with the
// password; a proxy is used unless the endpoint is bypassed or the Config connects directly.
static void test_proxy() {
    for (const char* url : {"socks5://u:secret@h:1", "http://u:secret@:8080"}) {
        st::Error e = expect_error([&] { st::Config().proxy(url); });
        CHECK(e.status() == st::Status::InvalidArgument && has_reason(e) && !std::strstr(e.what(), "secret"),
              "proxy %s: %s", url, e.what());
        e = expect_error([&] { st::Config().proxy(url, "localhost"); });
        CHECK(e.status() == st::Status::InvalidArgument && has_reason(e) && !std::strstr(e.what(), "secret"),
              "proxy %s with no-proxy rules: %s", url, e.what());
    }
    st::Error e = expect_error([] { st::Config().proxy(std::string("http://h:1\0x", 12)); });
    CHECK(e.status() == st::Status::InvalidArgument && std::strstr(e.what(), "NUL"), "NUL in a proxy URL: %s", e.what());
    // No overload takes no-proxy rules alone; the C function refuses them without a proxy URL.
    storetasks_config* raw = storetasks_config_new();
    CHECK_STATUS(storetasks_config_set_proxy(raw, nullptr, "localhost"), STORETASKS_STATUS_INVALID_ARGUMENT);
    const char* why = storetasks_config_last_error(raw);
    CHECK(why && std::strstr(why, "no-proxy"), "no-proxy rules alone: %s", why ? why : "(no reason)");
    storetasks_config_free(raw);

    // A proxy nothing listens on, named by the environment (no client runs while it changes).
    const char* dead = "http://u:secret@127.0.0.1:1";
    for (const char* name : {"HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"}) unsetenv(name);
    setenv("HTTP_PROXY", dead, 1);
    setenv("http_proxy", dead, 1);
    struct {
        const char* name;
        st::Config cfg;
        bool through;
    } cases[] = {
        {"the environment's proxy", config(EMU_ACCESS_KEY, 1), true},
        {"proxy(\"\")", std::move(config(EMU_ACCESS_KEY, 1).proxy("")), false},
        {"proxy(url)", std::move(config(EMU_ACCESS_KEY, 1).proxy(dead)), true},
        {"proxy(url, rules for another host)", std::move(config(EMU_ACCESS_KEY, 1).proxy(dead, "example.com")), true},
        {"proxy(url, rules for the endpoint)", std::move(config(EMU_ACCESS_KEY, 1).proxy(dead, "example.com,127.0.0.1")),
         false},
        {"proxy(\"\") then proxy_from_environment()",
         std::move(config(EMU_ACCESS_KEY, 1).proxy("").proxy_from_environment()), true},
    };
    for (auto& c : cases) {
        e = expect_error([&] { st::Client(c.cfg).describe(st::Query().max_results(3)); });
        if (c.through)
            CHECK(e.status() == st::Status::Network && !std::strstr(e.what(), "secret"), "%s: %s", c.name, e.what());
        else
            CHECK(e.status() == st::Status::Ok, "%s: %s", c.name, e.what());
    }
    unsetenv("HTTP_PROXY");
    unsetenv("http_proxy");
}

static void test_listing() {
    st::Client client(config());
    long before = emu_requests(&emu);
    st::TaskList all = client.describe_all(st::Query().max_results(25));
    CHECK(all.size() == kTasks, "all %zu tasks, got %zu", kTasks, all.size());
    CHECK(emu_requests(&emu) - before == 3, "three pages of 25");
    CHECK(newest_first_and_unique(all), "newest first, each once");
    CHECK(!all.next_token(), "no token after the last page");
    CHECK(all.at(0).raw == storetasks_task_list_get(all.get(), 0), "the view is the C task");

    std::size_t count = 0, failed = 0, no_progress = 0;
    for (const st::Task& t : all) {
        count++;
        CHECK(t.state_raw.has_value(), "state text kept");
        if (t.state == st::TaskState::Failed) {
            failed++;
            CHECK(t.failure_reason.has_value() && *t.state_raw == "Failed", "failed tasks carry a reason");
        }
        if (t.state == st::TaskState::Completed) CHECK(*t.state_raw == "Completed", "state text");
        if (!t.progress_percentage) no_progress++;
        if (t.progress_percentage) CHECK(*t.progress_percentage >= 0 && *t.progress_percentage <= 100, "progress");
    }
    CHECK(count == kTasks && failed > 0 && no_progress > 0, "%zu tasks, %zu failed, %zu without progress", count,
          failed, no_progress);
    bool threw = false;
    try {
        (void)all.at(kTasks);
    } catch (const std::out_of_range&) {
        threw = true;
    }
    CHECK(threw, "at() checks the index");

    std::string json = all.to_json();
    CHECK(json.rfind("{\n    \"StoreImageTaskResults\": [", 0) == 0 && json.back() == '\n', "CLI-shaped JSON");
    CHECK(json.find(std::string(*all[0].ami_id)) != std::string::npos, "the JSON names the tasks");

    // One page, then the next from its token.
    st::Query q;
    q.max_results(7);
    st::TaskList first = client.describe(q);
    CHECK(first.size() == 7 && first.next_token(), "a page of 7 with a token");
    q.next_token(first.next_token());
    st::TaskList second = client.describe(q);
    CHECK(second.size() == 7 && *second[0].ami_id == *all[7].ami_id, "the next page follows");
    q.next_token(std::nullopt);
    CHECK(*client.describe(q)[0].ami_id == *all[0].ami_id, "clearing the token starts over");

    // A cap, and resuming exactly after it.
    st::TaskList capped = client.describe_all(st::Query().max_results(8), 20);
    CHECK(capped.size() == 20 && capped.next_token(), "capped at 20 with a token");
    CHECK(!capped.truncated() && !all.truncated(), "a token resumes a capped listing: nothing is truncated");
    st::TaskList rest = client.describe_all(st::Query().next_token(capped.next_token()));
    CHECK(rest.size() == kTasks - 20 && *rest[0].ami_id == *all[20].ami_id, "resumed after the cap: %zu", rest.size());

    // Filters.
    st::TaskList failed_only = client.describe_all(st::Query().filter("task-state", {"Failed"}));
    CHECK(failed_only.size() == failed, "the filter keeps the %zu failed tasks, got %zu", failed, failed_only.size());
    st::TaskList none = client.describe(st::Query().filter("bucket", {"no-such-bucket"}));
    CHECK(none.empty() && none.begin() == none.end() && !none.next_token(), "an empty page");

    // Ids beyond 20 are batched: 45 ids come back in 3 requests, merged newest first.
    std::vector<std::string> ids;
    for (std::size_t i = 0; i < 45; i++) ids.emplace_back(*all[kTasks - 1 - i].ami_id);
    before = emu_requests(&emu);
    st::TaskList by_id = client.describe(st::Query().image_ids(ids));
    CHECK(by_id.size() == 45, "45 tasks by id, got %zu", by_id.size());
    CHECK(emu_requests(&emu) - before == 3, "20 + 20 + 5");
    CHECK(newest_first_and_unique(by_id), "merged newest first");
    CHECK(*by_id[0].ami_id == *all[kTasks - 45].ami_id, "newest of the ids first");
    CHECK(!by_id.truncated(), "no cap, nothing truncated");

    // A cap on a listing by ids cuts what no token can bring back: the list says so.
    std::vector<std::string> thirty(ids.begin(), ids.begin() + 30);
    st::TaskList cut = client.describe_all(st::Query().image_ids(thirty), 10);
    CHECK(cut.size() == 10 && cut.truncated() && !cut.next_token(), "%zu tasks, truncated %d, token %d", cut.size(),
          cut.truncated(), cut.next_token().has_value());
    std::size_t paged = 0;
    client.describe_pages(
        st::Query().image_ids(thirty),
        [&](const st::TaskList& page) {
            paged += page.size();
            return true;
        },
        10);
    CHECK(paged == 10, "the page callback saw %zu tasks under a cap of 10", paged);
}

static void test_pages() {
    st::Client client(config());
    st::Query q;
    q.max_results(25);

    std::size_t pages = 0, tasks = 0;
    client.describe_pages(q, [&](const st::TaskList& page) {
        pages++;
        tasks += page.size();
        return true;
    });
    CHECK(pages == 3 && tasks == kTasks, "%zu pages, %zu tasks", pages, tasks);

    pages = 0;
    client.describe_pages(q, [&](const st::TaskList&) { return ++pages < 2; });
    CHECK(pages == 2, "stopped after two pages, got %zu", pages);

    // A callback returning nothing goes on; the cap applies.
    std::vector<std::string> seen;
    client.describe_pages(
        q, [&](const st::TaskList& page) {
            for (const st::Task& t : page) seen.emplace_back(*t.ami_id);  // copied: the page dies after the call
        },
        30);
    CHECK(seen.size() == 30, "30 tasks under the cap, got %zu", seen.size());

    // A callable object passed by lvalue, const.
    struct Counter {
        std::size_t* n;
        bool operator()(const st::TaskList& page) const {
            *n += page.size();
            return true;
        }
    };
    std::size_t counted = 0;
    const Counter counter{&counted};
    client.describe_pages(q, counter);
    CHECK(counted == kTasks, "a const callable object: %zu", counted);

    // An exception thrown by the callback stops the listing (of six pages here) and comes out of
    // describe_pages.
    pages = 0;
    long before = emu_requests(&emu);
    bool caught = false;
    try {
        client.describe_pages(st::Query().max_results(10), [&](const st::TaskList& page) -> bool {
            if (++pages == 2) throw Stop("stop at page " + std::to_string(pages) + " of " + std::to_string(page.size()));
            return true;
        });
    } catch (const Stop& e) {
        caught = std::string(e.what()) == "stop at page 2 of 10";
    }
    CHECK(caught && pages == 2, "the lambda's exception was rethrown after page %zu", pages);
    // The listing runs a page ahead of the callback: the third page may be on its way, no later one.
    std::this_thread::sleep_for(200ms);
    const long asked = emu_requests(&emu) - before;
    CHECK(asked == 2 || asked == 3, "no page was asked for after the throw but the one on its way: %ld", asked);
    // A library error thrown from inside the callback keeps its type.
    st::Error e = expect_error([&] {
        client.describe_pages(q, [&](const st::TaskList&) -> bool { throw st::Error(st::Status::Service, "inner"); });
    });
    CHECK(e.message() == "inner", "an Error from the callback: %s", e.what());
    // The client is still fine.
    CHECK(client.describe_all(q).size() == kTasks, "usable after a throwing callback");
}

static void test_errors() {
    st::Client client(config());
    st::Client once(config(EMU_ACCESS_KEY, 1, 400ms));
    st::Client denied(config(EMU_DENIED_KEY, 1));

    st::Error e = expect_error([&] { client.describe(st::Query().dry_run()); });
    CHECK(e.status() == st::Status::DryRunOk && e.code() == "DryRunOperation" && e.http_status() == 412,
          "dry run: %s", e.what());
    CHECK(e.request_id() && !e.request_id()->empty(), "a request id");
    e = expect_error([&] { denied.describe(); });
    CHECK(e.status() == st::Status::Unauthorized && e.code() == "UnauthorizedOperation" && e.http_status() == 403,
          "denied: %s", e.what());
    CHECK(std::strstr(e.what(), EMU_SECRET_KEY) == nullptr, "no secret in the message");
    e = expect_error([&] { client.describe(st::Query().filter("no-such-filter", {"x"})); });
    CHECK(e.status() == st::Status::Service && e.code() == "InvalidParameterValue" && e.http_status() == 400,
          "unknown filter: %s", e.what());
    e = expect_error([&] { client.describe(st::Query().image_id("ami-1").next_token("abc")); });
    CHECK(e.code() == "InvalidParameterCombination", "ids with a token: %s", e.what());

    emu_fault(&emu, "throttle,count=2");
    CHECK(client.describe(st::Query().max_results(5)).size() == 5, "throttling retried");
    emu_fault(&emu, "throttle,count=3");
    e = expect_error([&] { client.describe(); });
    CHECK(e.status() == st::Status::Throttled && e.code() == "RequestLimitExceeded" && e.http_status() == 503,
          "throttled: %s", e.what());
    emu_fault(&emu, "internal");
    e = expect_error([&] { once.describe(); });
    CHECK(e.status() == st::Status::Service && e.code() == "InternalError" && e.http_status() == 500, "internal");
    emu_fault(&emu, "drop");
    e = expect_error([&] { once.describe(); });
    CHECK(e.status() == st::Status::Network && !e.code() && e.http_status() == 0, "drop: %s", e.what());
    emu_fault(&emu, "delay,ms=1500");
    e = expect_error([&] { once.describe(); });
    CHECK(e.status() == st::Status::Timeout, "timeout: %s", e.what());
    emu_fault(&emu, "malformed");
    e = expect_error([&] { once.describe(); });
    CHECK(e.status() == st::Status::Response && e.http_status() == 200, "malformed: %s", e.what());
    emu_fault(&emu, "repeat-token,count=3");
    e = expect_error([&] { client.describe_all(st::Query().max_results(5)); });
    CHECK(e.status() == st::Status::Response, "a repeated token ends the listing: %s", e.what());
    emu_clear_faults(&emu);
}

static void test_cancel() {
    st::Client client(config(EMU_ACCESS_KEY, 1));
    st::Cancel cancel;
    CHECK(!cancel.triggered(), "new token");
    emu_fault(&emu, "delay,ms=20000,at=2");
    CancelledCall call = run_and_cancel(cancel, [&] { client.describe_all(st::Query().max_results(10), 0, &cancel); });
    CHECK(call.error.status() == st::Status::Cancelled, "cancelled: %s", call.error.what());
    CHECK(call.took < 5s, "cancelled promptly");
    CHECK(cancel.triggered(), "stays triggered");
    st::Error e = expect_error([&] { client.describe(st::Query(), &cancel); });
    CHECK(e.status() == st::Status::Cancelled, "a triggered token ends later calls at once");
    emu_clear_faults(&emu);
}

static void test_threads() {
    const st::Client client(config());
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; i++)
        threads.emplace_back([&, i] {
            try {
                if (client.describe_all(st::Query().max_results(7 + 13 * i)).size() == kTasks) ok++;
            } catch (const st::Error& e) {
                std::fprintf(stderr, "thread %d: %s\n", i, e.what());
            }
        });
    for (auto& t : threads) t.join();
    CHECK(ok == 4, "four threads listed everything (%d)", ok.load());
}

static void test_moves() {
    st::Client a(config());
    st::TaskList list = a.describe_all(st::Query().max_results(200));
    const char* first_id = list[0].ami_id->data();
    st::TaskList moved = std::move(list);
    CHECK(moved.size() == kTasks && moved[0].ami_id->data() == first_id, "views survive a move");
    CHECK(list.size() == 0 && list.get() == nullptr, "the moved-from list is empty");  // NOLINT(bugprone-use-after-move)
    std::string_view id = *moved[3].ami_id;
    st::TaskList other = a.describe(st::Query().max_results(1));
    other = std::move(moved);  // frees the one-task list, takes the big one
    CHECK(other.size() == kTasks && *other[3].ami_id == id, "move assignment keeps the views");
    other = std::move(other);  // self-move is harmless  // NOLINT
    CHECK(other.size() == kTasks, "self-move");

    st::Client b = std::move(a);
    CHECK(b.describe(st::Query().max_results(2)).size() == 2, "the moved-to client works");
    st::Error e = expect_error([&] { a.describe(); });  // NOLINT(bugprone-use-after-move)
    CHECK(e.status() == st::Status::InvalidArgument, "a moved-from client throws: %s", e.what());
    st::Client c(config());
    c = std::move(b);  // frees c's own client
    CHECK(c.describe(st::Query().max_results(1)).size() == 1, "move-assigned client works");

    st::Query q1;
    q1.max_results(3);
    st::Query q2 = std::move(q1);
    CHECK(c.describe(q2).size() == 3, "a moved query keeps its parameters");
    std::vector<st::TaskList> lists;
    for (int i = 0; i < 5; i++) lists.push_back(c.describe(st::Query().max_results(i + 1)));
    CHECK(lists[4].size() == 5 && lists[0].size() == 1, "lists in a vector (moved as it grows)");
}

// -- the waiter, against an emulator whose tasks progress at 20 points per second -------------

static emulator wemu;

static const char* const kWaitTasks =
    "{\"StoreImageTaskResults\":["
    "{\"AmiId\":\"ami-00000000000000007\",\"TaskStartTime\":\"2026-11-20T11:59:07.000Z\",\"Bucket\":\"b\","
    "\"ProgressPercentage\":100,\"StoreTaskState\":\"Completed\"}]}";
static const std::string kCompleted = "ami-00000000000000007", kUnknown = "ami-0ffffffffffffffff";

static st::Client wait_client() { return st::Client(emu_st_config(&wemu)); }

// Adds a task whose progress counts from now (so that timings do not depend on how long the
// earlier cases took, under valgrind too); returns its new AMI id.
static std::string add_task(int progress, int fail_at = 0, const char* reason = nullptr) {
    static int next = 0x100;
    char id[32], body[512];
    std::snprintf(id, sizeof id, "ami-%017x", next++);
    std::string extra;
    if (fail_at) extra += ",\"EmulatorFailAt\":" + std::to_string(fail_at);
    if (reason) extra += std::string(",\"StoreTaskFailureReason\":\"") + reason + "\"";
    std::snprintf(body, sizeof body,
                  "{\"StoreImageTaskResults\":[{\"AmiId\":\"%s\",\"TaskStartTime\":\"2026-11-20T12:00:00.000Z\","
                  "\"Bucket\":\"b\",\"ProgressPercentage\":%d,\"StoreTaskState\":\"InProgress\"%s}]}",
                  id, progress, extra.c_str());
    int status = emu_http(&wemu, "POST", "/_emulator/tasks", body, nullptr, 0);
    CHECK(status == 200, "adding task %s: HTTP %d", id, status);
    return id;
}

static st::WaitOptions fast() {
    return st::WaitOptions().delays(100ms, 200ms).deadline(60s).grace(300ms);
}

static void test_wait_completes() {
    st::Client client = wait_client();
    const std::string kDone2 = add_task(60), kDone1 = add_task(70);  // done in 2 s and 1.5 s
    std::vector<std::int32_t> progress;
    std::size_t polls = 0, misordered = 0;
    st::WaitOptions options = fast();
    options.progress = [&](const st::TaskList& tasks) {
        polls++;
        if (tasks.size() != 3 || *tasks[0].ami_id != kDone2 || *tasks[1].ami_id != kDone1 ||
            *tasks[2].ami_id != kCompleted)
            misordered++;
        else
            progress.push_back(tasks[0].progress_percentage.value_or(-1));
        return true;
    };
    long before = emu_requests(&wemu);
    st::TaskList final = client.wait({kDone2, kDone1, kCompleted}, options);
    CHECK(final.size() == 3, "three final tasks, got %zu", final.size());
    bool all_done = final.size() == 3;
    for (const st::Task& t : final)
        all_done = all_done && t.state == st::TaskState::Completed && t.progress_percentage == 100;
    CHECK(all_done, "all completed at 100%%");
    CHECK(final.size() == 3 && *final[0].ami_id == kDone2 && *final[2].ami_id == kCompleted, "in the order of the ids");
    CHECK(polls >= 3 && misordered == 0, "%zu polls, %zu misordered", polls, misordered);
    CHECK(static_cast<long>(polls) == emu_requests(&wemu) - before, "one callback per poll");
    CHECK(!progress.empty() && std::is_sorted(progress.begin(), progress.end()) && progress.front() < 100 &&
              progress.back() == 100,
          "progress seen rising to 100 (%d -> %d)", progress.empty() ? -1 : progress.front(),
          progress.empty() ? -1 : progress.back());
    // No callback, defaults otherwise: an already completed task needs one poll.
    CHECK(client.wait({kCompleted}).size() == 1, "a completed task");
    // A successful call carries its request id.
    st::TaskList listed = client.describe(st::Query().image_id(kCompleted));
    CHECK(listed.request_id() && !listed.request_id()->empty(), "a request id on success");
}

static void test_wait_failures() {
    st::Client client = wait_client();
    const std::string kFails = add_task(20, 30, "the KMS key is disabled");  // fails in 0.5 s
    st::Error e = expect_error([&] { client.wait({kCompleted, kFails}, fast()); });
    CHECK(e.status() == st::Status::TaskFailed, "failed: %s", e.what());
    CHECK(e.ami_id() == kFails && e.failure_reason() == "the KMS key is disabled", "the AMI and the reason: %s",
          e.what());
    CHECK(std::strstr(e.what(), kFails.c_str()) && std::strstr(e.what(), "STORETASKS_STATUS_TASK_FAILED"),
          "what(): %s", e.what());

    auto started = std::chrono::steady_clock::now();
    const std::string kSlow = add_task(0);  // InProgress for 5 s
    e = expect_error([&] { client.wait({kSlow}, fast().deadline(600ms)); });
    CHECK(e.status() == st::Status::WaitTimeout && !e.ami_id(), "timeout: %s", e.what());
    CHECK(e.message().find(kSlow + ": InProgress") != std::string::npos, "the last state: %s", e.message().c_str());
    CHECK(std::chrono::steady_clock::now() - started < 10s, "the deadline held");

    e = expect_error([&] { client.wait({kCompleted, kUnknown}, fast()); });
    CHECK(e.status() == st::Status::NotFound && e.ami_id() == kUnknown && !e.failure_reason(), "not found: %s",
          e.what());

    e = expect_error([&] { client.wait({}, fast()); });
    CHECK(e.status() == st::Status::InvalidArgument, "no ids: %s", e.what());
    e = expect_error([&] { client.wait({std::string("ami-1\0x", 7)}, fast()); });
    CHECK(e.status() == st::Status::InvalidArgument, "NUL in an id: %s", e.what());
    long before = emu_requests(&wemu);
    e = expect_error([&] { client.wait({kCompleted}, fast().delays(-1ms, 1s)); });
    CHECK(e.status() == st::Status::InvalidArgument, "negative delay: %s", e.what());
    e = expect_error([&] { client.wait({kCompleted}, fast().delays(0ms, 1s)); });
    CHECK(e.status() == st::Status::InvalidArgument && has_reason(e), "zero delay: %s", e.what());
    e = expect_error([&] { client.wait({kCompleted}, fast().delays(2s, 1s)); });
    CHECK(e.status() == st::Status::InvalidArgument && has_reason(e), "min above max: %s", e.what());
    e = expect_error([&] { client.wait({kCompleted}, fast().grace(-1ms)); });
    CHECK(e.status() == st::Status::InvalidArgument, "negative grace: %s", e.what());
    CHECK(emu_requests(&wemu) == before, "nothing was sent");
}

static void test_wait_progress_stops() {
    st::Client client = wait_client();
    std::string kSlow = add_task(0);  // InProgress for 5 s; a fresh one for each case
    int calls = 0;
    long before = emu_requests(&wemu);
    st::Error e = expect_error([&] {
        client.wait({kSlow}, fast().on_progress([&](const st::TaskList&) { return ++calls < 3; }));
    });
    CHECK(e.status() == st::Status::Cancelled && calls == 3, "stopped by the callback after %d: %s", calls, e.what());
    CHECK(emu_requests(&wemu) - before == 3, "three polls");

    // An exception thrown by the callback stops the wait and comes out of wait() with its type.
    calls = 0;
    kSlow = add_task(0);
    before = emu_requests(&wemu);
    bool caught = false;
    try {
        client.wait({kSlow}, fast().on_progress([&](const st::TaskList& tasks) -> bool {
            if (++calls == 2) throw Stop("stop at " + std::string(*tasks[0].ami_id));
            return true;
        }));
    } catch (const Stop& stop) {
        caught = std::string(stop.what()) == "stop at " + kSlow;
    }
    CHECK(caught && calls == 2, "the callback's exception was rethrown after %d polls", calls);
    CHECK(emu_requests(&wemu) - before == 2, "no poll after the throw");
    kSlow = add_task(0);
    e = expect_error([&] {
        client.wait({kSlow}, fast().on_progress([](const st::TaskList&) -> bool {
            throw st::Error(st::Status::Service, "inner", std::string("Inner"));
        }));
    });
    CHECK(e.message() == "inner" && e.code() == "Inner", "an Error from the callback: %s", e.what());

    // A Cancel from another thread ends a wait that sleeps between polls.
    kSlow = add_task(0);
    st::Cancel cancel;
    CancelledCall call = run_and_cancel(cancel, [&] { client.wait({kSlow}, fast().delays(5s, 10s), &cancel); });
    CHECK(call.error.status() == st::Status::Cancelled && call.took < 3s, "cancelled: %s", call.error.what());
    // The client is still fine.
    CHECK(client.wait({kCompleted}, fast()).size() == 1, "usable after the stops");
}

static void test_wait() {
    char path[] = "/tmp/storetasks-cpp-wait-XXXXXX";
    if (!write_tasks_file(path, kWaitTasks)) return;
    const char* args[] = {"--tasks-file", path, "--now", "2026-11-20T12:00:00Z", "--progress-rate", "20", nullptr};
    with_emulator(
        &wemu, args,
        [] {
            test_wait_failures();
            test_wait_progress_stops();
            test_wait_completes();
        },
        " in the waiter tests");
    unlink(path);
}

int main() {
    with_generated_tasks(&emu, [] {
        test_version_and_names();
        test_task_times();
        test_task_times_from_a_reply();
        test_task_times_in_a_fleet();
        test_setter_reasons();
        test_bad_input();
        test_proxy();
        test_listing();
        test_pages();
        test_errors();
        test_cancel();
        test_threads();
        test_moves();
        test_wait();
    });
    return h_finish();
}
