// describe_tasks: list the progress of AMI store-to-S3 tasks with libstoretasks' C++ header.
//
//   describe_tasks [--region R] [--endpoint-url URL] [--profile P] [--ca-bundle PEM]
//                  [--proxy URL] [--no-proxy RULES]
//                  [--image-id ami-...]... [--filter Name=task-state,Values=InProgress,Failed]...
//                  [--max-results N] [--all] [--dry-run] [--json]
//
// The same program as examples/c/describe_tasks.c, with the same output. Credentials come from
// the usual places (environment, shared files, SSO, instance role). Without --json it prints a
// table; with --json --all it prints what `aws ec2 describe-store-image-tasks --output json` prints.
// An image id is "ami-" and 8 or 17 lowercase hex digits. Exits 0 on success (and for --help), 1
// when the call fails, 2 for a bad command line (nothing is sent then).
#include <cstdio>
#include <ctime>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "../c/console.h"
#include "storetasks.hpp"

namespace {

void usage(std::FILE* to) {
    std::fputs("usage: describe_tasks [--region R] [--endpoint-url URL] [--profile P] [--ca-bundle PEM]\n"
               "                      [--proxy URL] [--no-proxy RULES]\n"
               "                      [--image-id ID]... [--filter Name=N,Values=V1,V2]...\n"
               "                      [--max-results N] [--all] [--dry-run] [--json]\n",
               to);
}

// An AMI id as EC2 writes it: "ami-" and 8 (older images) or 17 lowercase hex digits.
bool is_ami_id(const std::string& s) {
    if (s.rfind("ami-", 0) != 0) return false;
    const std::size_t digits = s.size() - 4;
    return (digits == 8 || digits == 17) &&
           s.find_first_not_of("0123456789abcdef", 4) == std::string::npos;
}

// "Name=task-state,Values=InProgress,Failed" into the query; false if it does not parse (a
// value the query refuses throws storetasks::Error).
bool add_filter(storetasks::Query& query, const std::string& spec) {
    const std::string values_key = ",Values=";
    std::size_t at = spec.find(values_key);
    if (spec.rfind("Name=", 0) != 0 || at == std::string::npos) return false;
    std::string name = spec.substr(5, at - 5);
    std::vector<std::string> values;
    std::size_t start = at + values_key.size();
    while (start <= spec.size()) {
        std::size_t comma = spec.find(',', start);
        std::string v = spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (!v.empty()) values.push_back(v);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    if (values.empty()) return false;
    query.filter(name, values);
    return true;
}

// The second a time falls in (rounded down, before 1970 too), as the C examples print it, or
// "(invalid time)" when the C library cannot convert it.
std::string utc(std::chrono::system_clock::time_point t) {
    auto secs_since = std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
    std::time_t secs = static_cast<std::time_t>(secs_since);
    std::tm tm{};
#ifdef _WIN32
    bool converted = gmtime_s(&tm, &secs) == 0;
#else
    bool converted = gmtime_r(&secs, &tm) != nullptr;
#endif
    char buf[32];
    if (!converted || std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm) == 0) {
        return "(invalid time)";
    }
    return buf;
}

void print_table(const storetasks::TaskList& list) {
    std::printf("%-21s  %-10s  %8s  %-19s  %-24s  %s\n", "AMI", "STATE", "PROGRESS", "STARTED (UTC)", "BUCKET",
                "OBJECT KEY / FAILURE");
    for (const storetasks::Task& t : list) {
        std::string started = t.start_time ? utc(*t.start_time) : "-";
        std::string progress = t.progress_percentage ? std::to_string(*t.progress_percentage) + "%" : "-";
        std::string_view detail = t.state == storetasks::TaskState::Failed && t.failure_reason
                                      ? *t.failure_reason
                                      : t.s3_object_key.value_or("-");
        std::printf("%-21s  %-10s  %8s  %-19s  %-24s  %.*s\n", std::string(t.ami_id.value_or("-")).c_str(),
                    std::string(t.state_raw.value_or("-")).c_str(), progress.c_str(), started.c_str(),
                    std::string(t.bucket.value_or("-")).c_str(), static_cast<int>(detail.size()), detail.data());
    }
    std::printf("%zu task%s\n", list.size(), list.size() == 1 ? "" : "s");
}

}  // namespace

int main(int argc, char** argv) {
    console_setup();
    console_utf8_args(&argc, &argv);
    storetasks::Config config;
    storetasks::Query query;
    std::optional<std::string> proxy, no_proxy;  // set together once every option is read
    bool all = false, json = false;
    for (int i = 1; i < argc; i++) {
        const std::string arg = argv[i];
        if (arg == "--all") { all = true; continue; }
        if (arg == "--json") { json = true; continue; }
        if (arg == "--dry-run") { query.dry_run(); continue; }
        if (arg == "--help" || arg == "-h") { usage(stdout); return 0; }
        if (i + 1 >= argc) {
            std::fprintf(stderr, "error: %s needs a value\n", arg.c_str());
            usage(stderr);
            return 2;
        }
        const std::string val = argv[++i];
        try {
            if (arg == "--region") config.region(val);
            else if (arg == "--endpoint-url") config.endpoint_url(val);
            else if (arg == "--profile") config.profile(val);
            else if (arg == "--ca-bundle") config.ca_bundle(val);
            else if (arg == "--proxy") proxy = val;
            else if (arg == "--no-proxy") no_proxy = val;
            else if (arg == "--image-id") {
                if (!is_ami_id(val)) {
                    std::fprintf(stderr, "error: --image-id takes an AMI id (ami- and 8 or 17 lowercase hex digits), not \"%s\"\n",
                                 val.c_str());
                    return 2;
                }
                query.image_id(val);
            }
            else if (arg == "--max-results") {
                std::size_t used = 0;
                long n = 0;
                try {
                    n = std::stol(val, &used);
                } catch (const std::exception&) {
                    used = 0;
                }
                if (val.empty() || used != val.size() || n < -2147483647L || n > 2147483647L) {
                    std::fprintf(stderr, "error: --max-results takes a number, not %s\n", val.c_str());
                    return 2;
                }
                query.max_results(static_cast<std::int32_t>(n));
            } else if (arg == "--filter") {
                if (!add_filter(query, val)) {
                    std::fprintf(stderr, "error: --filter takes Name=NAME,Values=V1[,V2...], not %s\n", val.c_str());
                    return 2;
                }
            } else {
                std::fprintf(stderr, "error: unknown option %s\n", arg.c_str());
                usage(stderr);
                return 2;
            }
        } catch (const storetasks::Error& e) {
            // A setter refused the value: its message is the library's reason.
            std::fprintf(stderr, "error: %s: %s\n", arg.c_str(), e.message().c_str());
            return 2;
        }
    }
    if (no_proxy && !proxy) {
        std::fputs("error: --no-proxy needs --proxy (without it, the environment's NO_PROXY applies)\n", stderr);
        return 2;
    }
    try {
        if (proxy && no_proxy) config.proxy(*proxy, *no_proxy);
        else if (proxy) config.proxy(*proxy);
    } catch (const storetasks::Error& e) {
        std::fprintf(stderr, "error: --proxy: %s\n", e.message().c_str());
        return 2;
    }

    try {
        storetasks::Client client(config);
        storetasks::TaskList list = all ? client.describe_all(query) : client.describe(query);
        if (json) {
            std::fputs(list.to_json().c_str(), stdout);
        } else {
            print_table(list);
            if (auto next = list.next_token()) std::printf("NextToken: %.*s\n", static_cast<int>(next->size()), next->data());
        }
        return 0;
    } catch (const storetasks::Error& e) {
        if (e.status() == storetasks::Status::DryRunOk) {
            std::printf("Dry run: the request would have succeeded.\n");
            return 0;
        }
        std::fprintf(stderr, "error: %s%s%s%s: %s\n", std::string(e.status_name()).c_str(), e.code() ? " (" : "",
                     e.code() ? e.code()->c_str() : "", e.code() ? ")" : "", e.message().c_str());
        return 1;
    }
}
