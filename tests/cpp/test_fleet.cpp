// The fleet calls of storetasks.hpp against one emulator that serves five regions and two
// assumable roles: the builder's refusals, every place's tasks equal to the ordinary listing of
// its region, failed places next to healthy ones, roles (each place listed in several pages and
// equal to the emulator's own list of its pair, streamed too), every enabled region, the streaming
// form (stopping it, and a callback that throws), cancellation and moves. Run plain, under
// valgrind and with ASan/UBSan by tests/cpp/run.sh.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

// The tests' helpers: CHECK, the emulator process, expect_error, emu_stat, run_and_cancel.
#include "harness.hpp"

static emulator emu;
static const std::size_t kTasks = 40;  // --generate: tasks of every (account, region) pair
static const char* const kNow = "2026-11-20T12:00:00Z";
static const char* const kCutoff = "2026-10-20T12:00:00.000Z";  // 31 days before kNow
static const std::uint32_t kRolePage = 9;                     // page size of the role listings
static const char* const kRoleA = "arn:aws:iam::111111111111:role/StoreTasksReader";
static const char* const kRoleB = "arn:aws:iam::222222222222:role/StoreTasksReader";
static const std::vector<std::string> kServed = {"us-east-1", "eu-west-3", "ap-south-1", "us-west-2", "ca-central-1"};

static_assert(!std::is_copy_constructible_v<st::Fleet> && std::is_nothrow_move_constructible_v<st::Fleet>);
static_assert(!std::is_copy_constructible_v<st::FleetResult> && !std::is_copy_assignable_v<st::FleetResult>);
static_assert(std::is_nothrow_move_constructible_v<st::FleetResult> && std::is_nothrow_move_assignable_v<st::FleetResult>);

static st::Config config(const std::string& region = "us-east-1", std::uint32_t attempts = 3) {
    return emu_role_config(&emu, region, attempts);
}

static std::vector<std::string> ids(const st::TaskList& list) {
    std::vector<std::string> out;
    for (const st::Task& t : list) out.emplace_back(t.ami_id.value_or("-"));
    return out;
}

// The AMIs DescribeStoreImageTasks reports in one (account, region) pair, newest first, read from
// the emulator's own store.
static std::vector<std::string> held(std::string_view region, std::string_view account) {
    char** list = nullptr;
    long n = emu_pair_ids(&emu, std::string(region).c_str(), std::string(account).c_str(), kCutoff, &list);
    CHECK(n >= 0, "the emulator's tasks of %s/%s could not be read", std::string(account).c_str(),
          std::string(region).c_str());
    std::vector<std::string> out(list, list + (n > 0 ? n : 0));
    emu_free_ids(list, n);
    return out;
}

// Checks that a place reached through a role holds, in order, the tasks the emulator holds for its
// pair, and more than two pages of them.
static void check_held(std::string_view region, std::string_view account, const std::vector<std::string>& got) {
    std::vector<std::string> want = held(region, account);
    std::size_t i = 0;
    while (i < got.size() && i < want.size() && got[i] == want[i]) i++;
    CHECK(got.size() > 2 * kRolePage && got == want,
          "%s/%s through a role differs from the emulator's list at task %zu: %zu tasks, the emulator holds %zu",
          std::string(account).c_str(), std::string(region).c_str(), i, got.size(), want.size());
}

// Every task of a region for the client's own account, listed the ordinary way.
static std::vector<std::string> baseline(const std::string& region) {
    return ids(st::Client(config(region)).describe_all(st::Query().max_results(200)));
}

static void test_builder() {
    st::Error e = expect_error([] { st::Fleet().region("EU WEST"); });
    CHECK(e.status() == st::Status::InvalidArgument && e.message().find("region") != std::string::npos,
          "a bad region name: %s", e.what());
    e = expect_error([] { st::Fleet().region(std::string("eu-west-3\0x", 11)); });
    CHECK(e.status() == st::Status::InvalidArgument && std::strstr(e.what(), "NUL"), "NUL in a region: %s", e.what());
    e = expect_error([] { st::Fleet().role_arn("arn:aws:iam::1:role/x"); });
    CHECK(e.status() == st::Status::InvalidArgument && e.message().find("role") != std::string::npos,
          "a bad role ARN: %s", e.what());

    // A Fleet that refused a value keeps what it took; nothing is sent for refused calls.
    st::Client client(config());
    st::Fleet fleet;
    fleet.region("eu-west-3");
    (void)expect_error([&] { fleet.region("Not A Region"); });
    long before = emu_stat(&emu, "requests");
    e = expect_error([&] { client.describe_fleet(st::Fleet()); });
    CHECK(e.status() == st::Status::InvalidArgument && e.message().find("no region") != std::string::npos,
          "a fleet without regions: %s", e.what());
    e = expect_error([&] { client.describe_fleet(st::Fleet().region("eu-west-3").all_regions()); });
    CHECK(e.status() == st::Status::InvalidArgument, "regions and all regions: %s", e.what());
    e = expect_error([&] { client.describe_fleet(fleet, st::Query().next_token("abc")); });
    CHECK(e.status() == st::Status::InvalidArgument && e.message().find("NextToken") != std::string::npos,
          "a query with a token: %s", e.what());
    e = expect_error([&] { client.describe_fleet(fleet, st::Query().max_results(500)); });
    CHECK(e.status() == st::Status::InvalidArgument, "max results out of range: %s", e.what());
    bool called = false;
    e = expect_error([&] {
        client.describe_fleet_pages(st::Fleet(), st::Query(), [&](std::string_view, std::optional<std::string_view>,
                                                                  const st::TaskList&) { called = true; });
    });
    CHECK(e.status() == st::Status::InvalidArgument && !called, "pages of a fleet without regions: %s", e.what());
    CHECK(emu_stat(&emu, "requests") == before, "nothing was sent for a refused call");
    st::FleetResult one = client.describe_fleet(fleet);
    CHECK(one.size() == 1 && one[0].region == "eu-west-3" && one[0].ok(), "the fleet kept its region");
}

static void test_regions() {
    st::Client client(config());
    st::Fleet fleet;
    fleet.regions({"us-east-1", "eu-west-3", "ap-south-1"}).region("eu-west-3");  // added twice, listed once
    st::FleetResult result = client.describe_fleet(fleet, st::Query().max_results(15));
    CHECK(result.size() == 3 && result.failed() == 0, "%zu places, %zu failed", result.size(), result.failed());
    CHECK(result.places().size() == 3 && &result.places()[1] == &result[1] && &*result.begin() == result.places().data(),
          "places() is the list the result ranges over");
    std::vector<std::string> order;
    std::set<std::string> seen;
    for (const st::FleetPlace& p : result) {
        order.emplace_back(p.region);
        CHECK(p.ok() && !p.account && !p.role_arn, "%s: own credentials, answered", std::string(p.region).c_str());
        std::vector<std::string> expected = baseline(std::string(p.region));
        CHECK(expected.size() >= kTasks && ids(p.tasks) == expected, "%s: %zu tasks, the region's listing has %zu",
              std::string(p.region).c_str(), p.tasks.size(), expected.size());
        CHECK(p.task_count == p.tasks.size() && !p.tasks.next_token(), "%s: count and no token",
              std::string(p.region).c_str());
        for (const std::string& id : ids(p.tasks)) CHECK(seen.insert(id).second, "%s came back twice", id.c_str());
    }
    CHECK((order == std::vector<std::string>{"us-east-1", "eu-west-3", "ap-south-1"}), "places in the order added");
    bool threw = false;
    try {
        (void)result.at(3);
    } catch (const std::out_of_range&) {
        threw = true;
    }
    CHECK(threw, "at() checks the index");

    std::string json = result.to_json();
    CHECK(json.rfind("{\n    \"Places\": [", 0) == 0 && json.back() == '\n', "JSON: %.40s", json.c_str());
    CHECK(json.find("\"Error\"") == std::string::npos && json.find(*result[2].tasks[0].ami_id) != std::string::npos,
          "the JSON holds the tasks and no error");

    // Moving the result keeps every view valid.
    const char* region_data = result[1].region.data();
    const char* id_data = result[1].tasks[0].ami_id->data();
    st::FleetResult moved = std::move(result);
    CHECK(moved.size() == 3 && moved[1].region.data() == region_data && moved[1].tasks[0].ami_id->data() == id_data,
          "views survive a move");
    CHECK(result.empty() && result.get() == nullptr, "the moved-from result is empty");  // NOLINT(bugprone-use-after-move)
    st::FleetResult other = client.describe_fleet(st::Fleet().region("us-west-2"), st::Query().filter("task-state", {"Failed"}));
    CHECK(other.size() == 1 && !other[0].tasks.empty(), "the Failed tasks of us-west-2");
    for (const st::Task& t : other[0].tasks) CHECK(t.state == st::TaskState::Failed, "the filter reached the region");
    other = std::move(moved);
    CHECK(other.size() == 3 && other[1].region == "eu-west-3" && other[1].tasks[0].ami_id->data() == id_data,
          "move assignment keeps the views");
}

static void test_failed_places() {
    emu_fault(&emu, "throttle,region=eu-west-3,count=1000000");
    emu_fault(&emu, "deny,region=ap-south-1,count=1000000");
    emu_fault(&emu, "drop,region=ca-central-1,count=1000000");
    st::Client client(config("us-east-1", 2));
    st::FleetResult result =
        client.describe_fleet(st::Fleet().regions({"us-east-1", "eu-west-3", "ap-south-1", "ca-central-1", "us-west-2"}),
                              st::Query().max_results(20));
    emu_clear_faults(&emu);
    CHECK(result.size() == 5 && result.failed() == 3, "%zu places, %zu failed", result.size(), result.failed());
    std::map<std::string, const st::FleetPlace*> by_region;
    for (const st::FleetPlace& p : result) by_region[std::string(p.region)] = &p;
    for (const char* healthy : {"us-east-1", "us-west-2"}) {
        const st::FleetPlace* p = by_region[healthy];
        CHECK(p && p->ok() && ids(p->tasks) == baseline(healthy), "%s answered with all its tasks", healthy);
    }
    const st::FleetPlace* throttled = by_region["eu-west-3"];
    CHECK(throttled && throttled->error && throttled->error->status() == st::Status::Throttled &&
              throttled->error->code() == "RequestLimitExceeded" && throttled->error->http_status() == 503 &&
              throttled->error->request_id() && throttled->tasks.empty(),
          "eu-west-3 throttled: %s", throttled && throttled->error ? throttled->error->what() : "no error");
    const st::FleetPlace* denied = by_region["ap-south-1"];
    CHECK(denied && denied->error && denied->error->status() == st::Status::Unauthorized &&
              denied->error->code() == "UnauthorizedOperation" && denied->error->http_status() == 403,
          "ap-south-1 denied: %s", denied && denied->error ? denied->error->what() : "no error");
    const st::FleetPlace* dropped = by_region["ca-central-1"];
    CHECK(dropped && dropped->error && dropped->error->status() == st::Status::Network && !dropped->error->code(),
          "ca-central-1 dropped: %s", dropped && dropped->error ? dropped->error->what() : "no error");
    std::string json = result.to_json();
    CHECK(json.find("STORETASKS_STATUS_THROTTLED") != std::string::npos &&
              json.find("STORETASKS_STATUS_UNAUTHORIZED") != std::string::npos &&
              json.find("STORETASKS_STATUS_NETWORK") != std::string::npos,
          "the JSON names each failure");

    // A dry run answers in every place with DryRunOperation, as an error document.
    st::FleetResult dry = client.describe_fleet(st::Fleet().regions({"us-east-1", "eu-west-3"}), st::Query().dry_run());
    CHECK(dry.size() == 2 && dry.failed() == 2, "dry run: %zu failed", dry.failed());
    for (const st::FleetPlace& p : dry)
        CHECK(p.error && p.error->status() == st::Status::DryRunOk && p.error->code() == "DryRunOperation",
              "%s: dry run answer", std::string(p.region).c_str());
}

static void test_roles_and_all_regions() {
    st::Client client(config());
    long assumed = emu_stat(&emu, "assume_role_requests");
    // Pages of kRolePage: every place takes several requests, and must keep all their tasks.
    st::FleetResult result = client.describe_fleet(st::Fleet().regions({"eu-west-3", "us-west-2"}).role_arns({kRoleA, kRoleB}),
                                                   st::Query().max_results(kRolePage));
    CHECK(emu_stat(&emu, "assume_role_requests") - assumed == 2, "one AssumeRole per role");
    std::vector<std::string> places;
    std::set<std::string> seen;
    for (const st::FleetPlace& p : result) {
        places.push_back(std::string(p.account.value_or("-")) + "/" + std::string(p.region));
        CHECK(p.ok() && p.tasks.size() >= kTasks, "%s: %s", std::string(p.region).c_str(),
              p.error ? p.error->what() : "too few tasks");
        CHECK(p.role_arn && p.account && p.role_arn->find(*p.account) != std::string_view::npos, "the role's account");
        if (p.account) check_held(p.region, *p.account, ids(p.tasks));
        for (const std::string& id : ids(p.tasks)) CHECK(seen.insert(id).second, "%s in two places", id.c_str());
    }
    CHECK((places == std::vector<std::string>{"111111111111/eu-west-3", "111111111111/us-west-2",
                                              "222222222222/eu-west-3", "222222222222/us-west-2"}),
          "accounts in the order added, then regions");
    for (const std::string& id : baseline("eu-west-3")) CHECK(!seen.count(id), "the own account's %s", id.c_str());

    // A role that cannot be assumed fails its own places only.
    st::FleetResult mixed = client.describe_fleet(
        st::Fleet().region("eu-west-3").role_arn("arn:aws:iam::333333333333:role/Nobody").role_arn(kRoleA),
        st::Query().max_results(kRolePage));
    CHECK(mixed.size() == 2 && mixed.failed() == 1 && mixed[0].error && mixed[1].ok(), "the unknown role fails alone");
    if (mixed.size() == 2 && mixed[1].account) check_held(mixed[1].region, *mixed[1].account, ids(mixed[1].tasks));

    // Every enabled region, sorted; the opt-in region is left out.
    st::FleetResult all = client.describe_fleet(st::Fleet().all_regions(), st::Query().filter("task-state", {"InProgress"}));
    std::vector<std::string> regions;
    for (const st::FleetPlace& p : all) {
        regions.emplace_back(p.region);
        CHECK(p.ok() && !p.tasks.empty(), "%s answered", std::string(p.region).c_str());
        for (const st::Task& t : p.tasks) CHECK(t.state == st::TaskState::InProgress, "filtered");
    }
    CHECK((regions == std::vector<std::string>{"ap-south-1", "ca-central-1", "eu-west-3", "us-east-1", "us-west-2"}),
          "every enabled region, by name");
}

static void test_pages() {
    st::Client client(config());
    st::Fleet fleet;
    fleet.regions(kServed);
    st::Query q;
    q.max_results(15);
    std::map<std::string, std::size_t> streamed;
    std::size_t pages = 0, oversized = 0, with_account = 0;
    st::FleetResult result = client.describe_fleet_pages(
        fleet, q, [&](std::string_view region, std::optional<std::string_view> account, const st::TaskList& page) {
            pages++;
            streamed[std::string(region)] += page.size();  // copied: the strings die after the call
            if (page.size() > 15) oversized++;
            if (account) with_account++;
            return true;
        });
    CHECK(result.size() == kServed.size() && result.failed() == 0, "%zu places", result.size());
    CHECK(oversized == 0 && with_account == 0 && pages >= kServed.size() * 3, "%zu pages", pages);
    for (const st::FleetPlace& p : result) {
        std::size_t expected = baseline(std::string(p.region)).size();
        CHECK(p.tasks.empty() && p.task_count == streamed[std::string(p.region)] && p.task_count == expected,
              "%s: %zu streamed, count %zu, listing %zu", std::string(p.region).c_str(), streamed[std::string(p.region)],
              p.task_count, expected);
    }

    // Returning false stops every listing; a callback returning nothing goes on.
    pages = 0;
    (void)client.describe_fleet_pages(fleet, q, [&](std::string_view, std::optional<std::string_view>, const st::TaskList&) {
        return ++pages < 3;
    });
    CHECK(pages == 3, "no page after false: %zu", pages);
    std::size_t tasks = 0;
    std::vector<std::string> streamed_ids;
    st::FleetResult roles = client.describe_fleet_pages(
        st::Fleet().region("eu-west-3").role_arn(kRoleB), st::Query().max_results(kRolePage),
        [&](std::string_view region, std::optional<std::string_view> account, const st::TaskList& page) {
            CHECK(region == "eu-west-3" && account == "222222222222", "the page's place");
            tasks += page.size();
            for (const std::string& id : ids(page)) streamed_ids.push_back(id);
        });
    CHECK(roles.size() == 1 && roles[0].task_count == tasks && tasks >= kTasks, "%zu tasks through a role", tasks);
    check_held("eu-west-3", "222222222222", streamed_ids);

    // An exception thrown by the callback stops every listing and comes out with its type; the
    // C result is freed (valgrind checks).
    pages = 0;
    bool caught = false;
    try {
        (void)client.describe_fleet_pages(fleet, q,
                                          [&](std::string_view region, std::optional<std::string_view>,
                                              const st::TaskList&) -> bool {
                                              if (++pages == 2) throw Stop("stop in " + std::string(region));
                                              return true;
                                          });
    } catch (const Stop& e) {
        caught = std::strncmp(e.what(), "stop in ", 8) == 0;
    }
    CHECK(caught && pages == 2, "the callback's exception was rethrown after %zu pages", pages);
    st::Error e = expect_error([&] {
        (void)client.describe_fleet_pages(fleet, q, [](std::string_view, std::optional<std::string_view>, const st::TaskList&) -> bool {
            throw st::Error(st::Status::Service, "inner", std::string("Inner"));
        });
    });
    CHECK(e.message() == "inner" && e.code() == "Inner", "an Error from the callback: %s", e.what());
    CHECK(client.describe_fleet(fleet).failed() == 0, "usable after a throwing callback");
}

static void test_cancel() {
    st::Client client(config("us-east-1", 1));
    emu_fault(&emu, "delay,ms=3000,count=1000");
    st::Cancel cancel;
    CancelledCall call =
        run_and_cancel(cancel, [&] { client.describe_fleet(st::Fleet().regions(kServed), st::Query(), &cancel); });
    emu_clear_faults(&emu);
    // The status proves the cancel under valgrind too, where the bound is stretched.
    CHECK(call.error.status() == st::Status::Cancelled && call.took < time_factor() * 2500ms, "cancelled: %s",
          call.error.what());
    st::Error e = expect_error([&] {
        client.describe_fleet_pages(st::Fleet().region("eu-west-3"), st::Query(),
                                    [](std::string_view, std::optional<std::string_view>, const st::TaskList&) {}, &cancel);
    });
    CHECK(e.status() == st::Status::Cancelled, "a triggered token ends the streaming form too: %s", e.what());
}

int main() {
    const char* args[] = {"--now",   kNow, "--generate",     "40",    "--seed",  "9",
                          "--regions", "us-east-1,eu-west-3,ap-south-1,us-west-2,ca-central-1",
                          "--opt-in-region", "me-south-1", "--role", kRoleA, "--role", kRoleB, nullptr};
    with_emulator(&emu, args, [] {
        test_builder();
        test_regions();
        test_failed_places();
        test_roles_and_all_regions();
        test_pages();
        test_cancel();
    });
    return h_finish();
}
