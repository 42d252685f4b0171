// Client::wait_targets of storetasks.hpp against one emulator that serves three regions and an
// assumable role: completed tasks of two regions, the client's own place and the role's account
// in the order of the targets; an image looked for in the wrong place; a failed task and a denied
// region; bad input refused before anything is sent; the progress callback (stopping, throwing)
// and a Cancel. The AMI ids come from each place's own listing (a fleet call). Run plain, under
// valgrind and with ASan/UBSan by tests/cpp/run.sh.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

// The tests' helpers: CHECK, the emulator process, expect_error, emu_stat, run_and_cancel.
#include "harness.hpp"

static emulator emu;
static const char* const kRole = "arn:aws:iam::111111111111:role/StoreTasksReader";

static st::Config config() { return emu_role_config(&emu, "us-east-1", 2); }

static st::WaitOptions fast() { return st::WaitOptions().delays(100ms, 300ms).deadline(30s); }

// A task copied out of its list.
struct Seen {
    std::string ami_id;
    st::TaskState state = st::TaskState::Unknown;
    std::string failure_reason;
    bool operator==(const Seen& o) const {
        return ami_id == o.ami_id && state == o.state && failure_reason == o.failure_reason;
    }
};

static std::vector<Seen> copy(const st::TaskList& list) {
    std::vector<Seen> out;
    for (const st::Task& t : list)
        out.push_back(Seen{std::string(t.ami_id.value_or("-")), t.state, std::string(t.failure_reason.value_or(""))});
    return out;
}

static std::string names(const std::vector<Seen>& tasks) {
    std::string out;
    for (const Seen& t : tasks) out += (out.empty() ? "" : " ") + t.ami_id;
    return out;
}

// Every task of one place, newest first, through a fleet call.
static std::vector<Seen> listing(const st::Client& client, const std::string& region, const char* role = nullptr) {
    st::Fleet fleet;
    fleet.region(region);
    if (role) fleet.role_arn(role);
    st::FleetResult result = client.describe_fleet(fleet);
    if (result.size() != 1 || !result[0].ok() || result[0].tasks.empty())
        throw std::runtime_error("no listing of " + region);
    return copy(result[0].tasks);
}

// The first task of a listing (newest first) in `state` that is the latest of its image, so that
// a wait on its image sees that very task.
static Seen latest_in(const std::vector<Seen>& tasks, st::TaskState state) {
    std::vector<std::string> seen;
    for (const Seen& t : tasks) {
        bool earlier = false;
        for (const std::string& id : seen) earlier = earlier || id == t.ami_id;
        if (!earlier && t.state == state) return t;
        seen.push_back(t.ami_id);
    }
    throw std::runtime_error("no image in the wanted state");
}

static bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

static void test_completed_in_order() {
    st::Client client(config());
    Seen home = latest_in(listing(client, "us-east-1"), st::TaskState::Completed);
    Seen eu = latest_in(listing(client, "eu-west-3"), st::TaskState::Completed);
    Seen west = latest_in(listing(client, "us-west-2"), st::TaskState::Completed);
    Seen role = latest_in(listing(client, "eu-west-3", kRole), st::TaskState::Completed);
    std::vector<st::WaitTarget> targets = {
        {"us-west-2", "", west.ami_id},
        {"eu-west-3", kRole, role.ami_id},
        {"", "", home.ami_id},  // the client's region and account
        {"eu-west-3", "", eu.ami_id},
        {"us-west-2", "", west.ami_id},  // given twice, comes once
    };
    const std::vector<Seen> want = {west, role, home, eu};
    std::vector<std::vector<Seen>> polls;
    long assumed = emu_stat(&emu, "assume_role_requests");
    long described = emu_stat(&emu, "describe");
    st::TaskList final = client.wait_targets(targets, fast().on_progress([&](const st::TaskList& tasks) {
        polls.push_back(copy(tasks));
        return true;
    }));
    CHECK(copy(final) == want, "tasks %s, want %s", names(copy(final)).c_str(), names(want).c_str());
    CHECK(polls.size() == 1 && polls[0] == want, "%zu polls; one that saw every task in order", polls.size());
    CHECK(emu_stat(&emu, "assume_role_requests") - assumed == 1, "one AssumeRole for one role");
    CHECK(emu_stat(&emu, "describe") - described == 4, "one request per place: %ld", emu_stat(&emu, "describe") - described);

    // One place only: the same as wait().
    CHECK(copy(client.wait_targets({{"", "", home.ami_id}}, fast())) == copy(client.wait({home.ami_id}, fast())),
          "a target in the client's place waits as wait() does");
}

static void test_not_found() {
    st::Client client(config());
    const std::string eu = latest_in(listing(client, "eu-west-3"), st::TaskState::Completed).ami_id;
    struct Case {
        std::vector<st::WaitTarget> targets;
        std::string name;
    };
    const std::vector<Case> cases = {
        // An image of eu-west-3 looked for in us-west-2 as well.
        {{{"eu-west-3", "", eu}, {"us-west-2", "", eu}}, "us-west-2/" + eu},
        // An image of the client's account looked for in the role's account.
        {{{"eu-west-3", kRole, eu}}, "111111111111/eu-west-3/" + eu},
    };
    for (const Case& c : cases) {
        auto started = std::chrono::steady_clock::now();
        st::Error e = expect_error([&] { client.wait_targets(c.targets, fast().grace(300ms)); });
        auto took = std::chrono::steady_clock::now() - started;
        CHECK(e.status() == st::Status::NotFound && e.ami_id() == eu, "not found: %s", e.what());
        CHECK(e.message().find(c.name + " has had no store task") != std::string::npos, "named %s: %s",
              c.name.c_str(), e.message().c_str());
        // The upper bound is stretched under valgrind (time_factor).
        CHECK(took >= 300ms && took < time_factor() * 3s, "a grace of 300 ms");
    }
}

static void test_failed_and_denied() {
    st::Client client(config());
    const Seen eu = latest_in(listing(client, "eu-west-3"), st::TaskState::Completed);
    const std::vector<Seen> west = listing(client, "us-west-2");
    const Seen failed = latest_in(west, st::TaskState::Failed);
    CHECK(!failed.failure_reason.empty(), "the failed task has a reason");
    st::Error e = expect_error([&] { client.wait_targets({{"eu-west-3", "", eu.ami_id}, {"us-west-2", "", failed.ami_id}}, fast()); });
    CHECK(e.status() == st::Status::TaskFailed && e.ami_id() == failed.ami_id && e.failure_reason() == failed.failure_reason,
          "task failed: %s", e.what());
    CHECK(starts_with(e.message(), "us-west-2/" + failed.ami_id + " failed: "), "named with its region: %s",
          e.message().c_str());

    // A denied region ends the wait with its own status, whatever the other places hold.
    emu_fault(&emu, "deny,region=eu-west-3,count=1000");
    const Seen ok = latest_in(west, st::TaskState::Completed);
    e = expect_error([&] { client.wait_targets({{"us-west-2", "", ok.ami_id}, {"eu-west-3", "", eu.ami_id}}, fast()); });
    emu_clear_faults(&emu);
    CHECK(e.status() == st::Status::Unauthorized && e.code() == "UnauthorizedOperation" && e.http_status() == 403,
          "denied: %s", e.what());
    CHECK(starts_with(e.message(), "eu-west-3: "), "the message starts with the region: %s", e.message().c_str());
}

static void test_bad_input() {
    st::Client client(config());
    const std::string ami = "ami-00000000000000014";
    struct Case {
        std::vector<st::WaitTarget> targets;
        st::WaitOptions options;
        std::string message;
    };
    const std::vector<Case> cases = {
        {{}, fast(), "no image ids"},
        {{{"eu-west-3", "", ami}, {"us-west-2", "", ""}}, fast(), "an image id is empty"},
        {{{"", "", "  "}}, fast(), "an image id is empty"},
        {{{"EU WEST", "", ami}}, fast(), "\"EU WEST\" is not a region name"},
        {{{"eu-west-3", "", ami}, {"eu_west_3", "", ami}}, fast(), "\"eu_west_3\" is not a region name"},
        {{{"", "arn:nope", ami}}, fast(), "\"arn:nope\" is not an IAM role ARN"},
        {{{std::string("eu-west-3\0x", 11), "", ami}}, fast(), "targets[0].region contains a NUL character"},
        {{{"", "", ami}, {"", std::string(kRole) + '\0', ami}}, fast(), "targets[1].role_arn contains a NUL character"},
        {{{"", "", ami + '\0'}}, fast(), "targets[0].image_id contains a NUL character"},
        {{{"eu-west-3", "", ami}}, fast().delays(2s, 1s), "min_delay"},
        {{{"eu-west-3", "", ami}}, fast().grace(-1ms), "not-found grace is negative"},
    };
    long before = emu_stat(&emu, "requests");
    for (const Case& c : cases) {
        bool called = false;
        st::WaitOptions options = c.options;
        options.on_progress([&](const st::TaskList&) {
            called = true;
            return true;
        });
        st::Error e = expect_error([&] { client.wait_targets(c.targets, options); });
        CHECK(e.status() == st::Status::InvalidArgument && e.message().find(c.message) != std::string::npos && !called,
              "want a refusal with \"%s\": %s", c.message.c_str(), e.what());
    }
    CHECK(emu_stat(&emu, "requests") == before, "bad input sent %ld requests", emu_stat(&emu, "requests") - before);
}

static void test_progress_and_cancel() {
    st::Client client(config());
    // Without --progress-rate, these stay InProgress.
    const std::string eu = latest_in(listing(client, "eu-west-3"), st::TaskState::InProgress).ami_id;
    const std::string west = latest_in(listing(client, "us-west-2"), st::TaskState::InProgress).ami_id;
    const std::vector<st::WaitTarget> targets = {{"us-west-2", "", west}, {"eu-west-3", "", eu}};
    const std::string order = west + " " + eu;

    int calls = 0;
    st::Error e = expect_error([&] {
        client.wait_targets(targets, fast().on_progress([&](const st::TaskList& tasks) {
            CHECK(names(copy(tasks)) == order, "progress in the order of the targets: %s", names(copy(tasks)).c_str());
            return ++calls < 2;
        }));
    });
    CHECK(e.status() == st::Status::Cancelled && calls == 2, "false stops the wait after %d calls: %s", calls, e.what());

    // An exception thrown by the callback stops the wait and comes out with its type.
    bool caught = false;
    try {
        client.wait_targets(targets, fast().on_progress([](const st::TaskList& tasks) -> bool {
            throw Stop(std::string(tasks[0].ami_id.value_or("-")));
        }));
    } catch (const Stop& stop) {
        caught = stop.what() == west;
    }
    CHECK(caught, "the callback's exception was rethrown");

    // A Cancel from another thread ends a wait that sleeps between polls.
    st::Cancel cancel;
    CancelledCall call = run_and_cancel(cancel, [&] { client.wait_targets(targets, fast().delays(5s, 10s), &cancel); });
    CHECK(call.error.status() == st::Status::Cancelled && call.took < time_factor() * 2500ms, "cancelled: %s",
          call.error.what());
    CHECK(client.wait_targets({{"us-west-2", "", latest_in(listing(client, "us-west-2"), st::TaskState::Completed).ami_id}},
                              fast()).size() == 1,
          "usable after the stops");
}

int main() {
    const char* args[] = {"--now",     "2026-11-20T12:00:00Z", "--generate", "40", "--seed", "9",
                          "--regions", "us-east-1,eu-west-3,us-west-2", "--role", kRole, nullptr};
    with_emulator(&emu, args, [] {
        test_completed_in_order();
        test_not_found();
        test_failed_and_denied();
        test_bad_input();
        test_progress_and_cancel();
    });
    return h_finish();
}
