/*
 * storetasks.hpp: a header-only C++17 front end of libstoretasks (include/storetasks.h).
 *
 *   storetasks::Client client(storetasks::Config().region("us-east-1"));
 *   storetasks::TaskList tasks = client.describe_all(storetasks::Query().filter("task-state", {"InProgress"}));
 *   for (const storetasks::Task& t : tasks)
 *       std::cout << t.ami_id.value_or("-") << ' ' << t.progress_percentage.value_or(0) << "%\n";
 *   client.wait({"ami-0123456789abcdef0"}, storetasks::WaitOptions().deadline(std::chrono::hours(1)));
 *   client.wait_targets({{"eu-west-3", "", "ami-0123456789abcdef0"},
 *                        {"us-west-2", "arn:aws:iam::111111111111:role/Reader", "ami-0fedcba9876543210"}});
 *   storetasks::FleetResult fleet = client.describe_fleet(storetasks::Fleet().regions({"us-east-1", "eu-west-3"}));
 *   for (const storetasks::FleetPlace& place : fleet)
 *       std::cout << place.region << ": " << (place.error ? place.error->what() : std::to_string(place.tasks.size())) << '\n';
 *
 * Ownership: Config, Query, Fleet, Client, TaskList, FleetResult, Cancel and the owners of calls
 * that do not block (Call, PendingCall, PendingFleet, PageCall, FleetPageCall, AsyncList,
 * AsyncFleet) own one C object each, are move-only and free it in their destructor. A moved-from
 * object may only be assigned to or destroyed; a call on a moved-from Client throws
 * Error(Status::InvalidArgument).
 *
 * Lifetimes: a Task is a view. Its string_views point into the TaskList it came from and are
 * valid until that list is destroyed (moving the list keeps them valid). The TaskList handed to a
 * describe_pages callback, or to a wait's progress callback, is valid only during the callback:
 * copy what must outlive it. A FleetPlace's strings and TaskList are views into the FleetResult
 * that holds the place, valid until that result is destroyed (moving it keeps them valid); a
 * place's error is a copy.
 *
 * Errors: every failure throws storetasks::Error (a std::runtime_error) with the library's status,
 * the AWS error code, the HTTP status and the request id (and, for a wait, the AMI and EC2's
 * failure reason). A setter that refuses its value throws Error(Status::InvalidArgument) whose
 * message() is the library's reason. A dry run that would have succeeded
 * throws Error with status() == Status::DryRunOk and code "DryRunOperation", as EC2 answers it.
 * A task whose start time std::chrono::system_clock cannot represent (before about 1677 or
 * after about 2262 with a nanosecond clock) is a reply this front end cannot hold: a listing or
 * a wait throws Error(Status::Response) naming the task's AMI (ami_id() holds it) rather than
 * overflow; a fleet call fails the place that sent it with that error and keeps every other.
 *
 * Callbacks (the on_page of describe_pages and describe_fleet_pages, WaitOptions::progress) run
 * on the calling thread inside the C call. They may return or throw: an exception is caught
 * before it reaches the C frames, the call is stopped, and the exception is rethrown once the C
 * call has returned. They must not leave in any other way (longjmp, thread exit or
 * cancellation).
 *
 * Calls that do not block start at once and run on the client's threads, any number at a time:
 *
 *   storetasks::AsyncList all = client.describe_all_async(storetasks::Query());
 *   storetasks::TaskList tasks = all.get();  // waits; throws what describe_all() would throw
 *   storetasks::Call call = client.describe_async(query, [](storetasks::Result r) { ... });
 *   storetasks::PageCall pages = client.describe_pages_async(query);
 *   while (std::optional<storetasks::TaskList> page = pages.wait_next_page()) { ... }
 *   storetasks::AsyncList done = client.wait_async({"ami-0123456789abcdef0"});
 *   storetasks::AsyncFleet fleet = client.describe_fleet_async(storetasks::Fleet().region("eu-west-3"));
 *   storetasks::FleetPageCall places = client.describe_fleet_pages_async(storetasks::Fleet().all_regions());
 *   while (std::optional<storetasks::TaskList> page = places.wait_next_page())
 *       std::cout << page->region().value_or("") << ": " << page->size() << '\n';
 *   std::optional<storetasks::FleetResult> outcome = places.take_fleet();  // each place's outcome
 *
 * An AsyncList (describe_async, describe_all_async, wait_async, wait_targets_async) or an
 * AsyncFleet (describe_fleet_async) sets a std::future from a library thread. The callback forms
 * hand a Result (the list, or the Error) or a FleetOutcome (the FleetResult, or the Error) to a
 * function that runs on a library thread: it must return quickly, it may destroy its own call's
 * owner but no other call's, and an exception it throws is dropped. A PendingCall (describe_start,
 * describe_all_start, wait_start, wait_targets_start), a PendingFleet (describe_fleet_start), a
 * PageCall (describe_pages_async) and a FleetPageCall (describe_fleet_pages_async) leave the
 * taking to their owner, without waiting (take(), next_page(), take_fleet(): nullopt while nothing
 * is ready), from an event loop that waits on fd(), or after wait(). Each owner has cancel();
 * destroying it stops its call too, at once (waiting only for a callback of that call running at
 * that moment).
 *
 * Threads: a Client may be used by any number of threads at once, and a Cancel triggered from
 * any thread. A Config or Query must not be changed by two threads at once; once built, a Query
 * may be used by many calls at the same time. TaskLists are read-only and may be read by many
 * threads.
 */
#ifndef STORETASKS_HPP
#define STORETASKS_HPP

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <future>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <ratio>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "storetasks.h"

// The calls that do not block (describe_async and the rest) use std::mutex, std::condition_variable
// and std::future, which MinGW's libstdc++ has only with its POSIX thread model (GCC 12's win32
// model lacks them): they are left out where the standard library has no threads.
#if !defined(__GLIBCXX__) || defined(_GLIBCXX_HAS_GTHREADS)
#define STORETASKS_HPP_ASYNC 1
#endif

namespace storetasks {

/// The outcome of a C call; the same numbers as storetasks_status.
enum class Status : std::int32_t {
    Ok = STORETASKS_STATUS_OK,
    DryRunOk = STORETASKS_STATUS_DRY_RUN_OK,
    InvalidArgument = STORETASKS_STATUS_INVALID_ARGUMENT,
    Unauthorized = STORETASKS_STATUS_UNAUTHORIZED,
    Throttled = STORETASKS_STATUS_THROTTLED,
    Timeout = STORETASKS_STATUS_TIMEOUT,
    Network = STORETASKS_STATUS_NETWORK,
    Service = STORETASKS_STATUS_SERVICE,
    Response = STORETASKS_STATUS_RESPONSE,
    Cancelled = STORETASKS_STATUS_CANCELLED,
    Panic = STORETASKS_STATUS_PANIC,
    Config = STORETASKS_STATUS_CONFIG,
    Credentials = STORETASKS_STATUS_CREDENTIALS,
    TaskFailed = STORETASKS_STATUS_TASK_FAILED,
    WaitTimeout = STORETASKS_STATUS_WAIT_TIMEOUT,
    NotFound = STORETASKS_STATUS_NOT_FOUND,
    /// A call that does not block has nothing to take yet (PendingCall::take and PageCall::next_page
    /// answer it with nullopt; no Error carries it).
    Pending = STORETASKS_STATUS_PENDING,
};

/// A store task's state; Unknown for a state this library does not know or none at all.
enum class TaskState : int {
    Unknown = STORETASKS_TASK_STATE_UNKNOWN,
    InProgress = STORETASKS_TASK_STATE_IN_PROGRESS,
    Completed = STORETASKS_TASK_STATE_COMPLETED,
    Failed = STORETASKS_TASK_STATE_FAILED,
};

/// How failed attempts are retried.
enum class RetryMode : std::int32_t {
    Default = STORETASKS_RETRY_MODE_DEFAULT,
    Standard = STORETASKS_RETRY_MODE_STANDARD,
    Adaptive = STORETASKS_RETRY_MODE_ADAPTIVE,
};

/// The static name of a status, such as "STORETASKS_STATUS_THROTTLED".
inline std::string_view status_name(Status status) noexcept {
    return storetasks_status_name(static_cast<std::int32_t>(status));
}

/// The library's version, "MAJOR.MINOR.PATCH".
inline std::string_view version() noexcept { return storetasks_version(); }

/// A failed call: the status, a readable message and, when there was a reply, the AWS error
/// code, the HTTP status and the request id.
class Error : public std::runtime_error {
public:
    Error(Status status, std::string message, std::optional<std::string> code = std::nullopt,
          std::uint16_t http_status = 0, std::optional<std::string> request_id = std::nullopt,
          std::optional<std::string> ami_id = std::nullopt, std::optional<std::string> failure_reason = std::nullopt)
        : std::runtime_error(describe(status, message, code)),
          status_(status),
          message_(std::move(message)),
          code_(std::move(code)),
          http_status_(http_status),
          request_id_(std::move(request_id)),
          ami_id_(std::move(ami_id)),
          failure_reason_(std::move(failure_reason)) {}

    Status status() const noexcept { return status_; }
    std::string_view status_name() const noexcept { return storetasks::status_name(status_); }
    /// The message alone (what() adds the status name and the code).
    const std::string& message() const noexcept { return message_; }
    /// The AWS error code ("RequestLimitExceeded", "DryRunOperation"...), if the service sent one.
    const std::optional<std::string>& code() const noexcept { return code_; }
    /// The HTTP status of the reply that carried the error; 0 when there was no reply.
    std::uint16_t http_status() const noexcept { return http_status_; }
    /// The request id of that reply, if it had one.
    const std::optional<std::string>& request_id() const noexcept { return request_id_; }
    /// The AMI a wait ended on (Status::TaskFailed, Status::NotFound), if any.
    const std::optional<std::string>& ami_id() const noexcept { return ami_id_; }
    /// EC2's reason for the failed store task (Status::TaskFailed), if it gave one.
    const std::optional<std::string>& failure_reason() const noexcept { return failure_reason_; }

private:
    static std::string describe(Status status, const std::string& message, const std::optional<std::string>& code) {
        std::string out(storetasks::status_name(status));
        if (code) out += " (" + *code + ")";
        return out + ": " + message;
    }

    Status status_;
    std::string message_;
    std::optional<std::string> code_;
    std::uint16_t http_status_;
    std::optional<std::string> request_id_;
    std::optional<std::string> ami_id_;
    std::optional<std::string> failure_reason_;
};

namespace detail {

struct Free {
    void operator()(storetasks_config* p) const noexcept { storetasks_config_free(p); }
    void operator()(storetasks_query* p) const noexcept { storetasks_query_free(p); }
    void operator()(storetasks_client* p) const noexcept { storetasks_client_free(p); }
    void operator()(storetasks_task_list* p) const noexcept { storetasks_task_list_free(p); }
    void operator()(storetasks_cancel* p) const noexcept { storetasks_cancel_free(p); }
    void operator()(storetasks_error* p) const noexcept { storetasks_error_free(p); }
    void operator()(storetasks_wait_options* p) const noexcept { storetasks_wait_options_free(p); }
    void operator()(storetasks_fleet* p) const noexcept { storetasks_fleet_free(p); }
    void operator()(storetasks_fleet_result* p) const noexcept { storetasks_fleet_result_free(p); }
    void operator()(storetasks_call* p) const noexcept { storetasks_call_free(p); }
    void operator()(char* p) const noexcept { storetasks_string_free(p); }
};

template <class T>
using Owned = std::unique_ptr<T, Free>;

inline std::optional<std::string> copy(const char* s) {
    return s ? std::optional<std::string>(s) : std::nullopt;
}

inline std::optional<std::string_view> view(const char* s) noexcept {
    return s ? std::optional<std::string_view>(s) : std::nullopt;
}

/// The Error a C error object describes (copied: the C object may be freed afterwards).
inline Error to_error(const storetasks_error& err) {
    const char* message = storetasks_error_message(&err);
    return Error(static_cast<Status>(storetasks_error_status(&err)), message ? message : "",
                 copy(storetasks_error_code(&err)), storetasks_error_http_status(&err),
                 copy(storetasks_error_request_id(&err)), copy(storetasks_error_ami_id(&err)),
                 copy(storetasks_error_failure_reason(&err)));
}

/// Throws the Error for a failed call, freeing the C error object (which may be NULL).
[[noreturn]] inline void raise(storetasks_status status, storetasks_error* err) {
    Owned<storetasks_error> owned(err);
    if (!err) throw Error(static_cast<Status>(status), std::string(storetasks_status_name(status)));
    throw to_error(*err);
}

/// Throws for a failed call. Call it after the C call, never as `check(f(&err), err)`: argument
/// evaluation order would read `err` before `f` writes it.
inline void check(storetasks_status status, storetasks_error* err = nullptr) {
    if (status != STORETASKS_STATUS_OK) raise(status, err);
    storetasks_error_free(err);
}

/// Throws for a setter that refused its value, with the reason the object's `*_last_error`
/// accessor gives (read at once: the next setter call on the object replaces it).
inline void check_setter(storetasks_status status, const char* reason) {
    if (status == STORETASKS_STATUS_OK) return;
    throw Error(static_cast<Status>(status), reason ? std::string(reason) : std::string(storetasks_status_name(status)));
}

/// A start time in milliseconds since the epoch as a system_clock time point, checked against
/// the clock's range before converting (with libstdc++'s nanosecond clock, about 1677 to 2262).
/// Throws Error(Status::Response) naming the task's AMI (`ami_id`, which may be NULL) when the
/// clock cannot represent it, where the conversion would overflow.
inline std::chrono::system_clock::time_point to_time_point(std::int64_t ms, const char* ami_id) {
    using Duration = std::chrono::system_clock::duration;
    using Rep = Duration::rep;
    using Ticks = std::ratio_divide<std::milli, Duration::period>;  // clock ticks per millisecond
    if constexpr (Ticks::den == 1) {
        constexpr std::int64_t hi = static_cast<std::int64_t>(std::numeric_limits<Rep>::max() / Ticks::num);
        constexpr std::int64_t lo = static_cast<std::int64_t>(std::numeric_limits<Rep>::min() / Ticks::num);
        if (ms > hi || ms < lo) {
            const std::string task = ami_id ? "task " + std::string(ami_id) : std::string("a task without an AMI id");
            throw Error(Status::Response,
                        "the start time of " + task + " (" + std::to_string(ms) +
                            " ms since 1970) cannot be represented by std::chrono::system_clock",
                        std::nullopt, 0, std::nullopt, copy(ami_id));
        }
    }
    return std::chrono::system_clock::time_point(std::chrono::duration_cast<Duration>(std::chrono::milliseconds(ms)));
}

/// A string for C: refused if C would silently cut it at an embedded NUL.
inline const char* c_str(const std::string& s, const char* what) {
    if (s.find('\0') != std::string::npos)
        throw Error(Status::InvalidArgument, std::string(what) + " contains a NUL character");
    return s.c_str();
}

inline std::uint64_t to_ms(std::chrono::milliseconds d, const char* what) {
    if (d.count() < 0) throw Error(Status::InvalidArgument, std::string(what) + " is negative");
    return static_cast<std::uint64_t>(d.count());
}

template <class T>
T* allocated(T* p) {
    if (!p) throw std::bad_alloc();
    return p;
}

/// The reason the last refused setter call on a settings object gave (NULL when it gave none).
inline const char* last_error(const storetasks_config* p) noexcept { return storetasks_config_last_error(p); }
inline const char* last_error(const storetasks_query* p) noexcept { return storetasks_query_last_error(p); }
inline const char* last_error(const storetasks_fleet* p) noexcept { return storetasks_fleet_last_error(p); }

/// What Config, Query and Fleet (`Self`, each deriving from it privately) share: the C settings
/// object `C` each owns, get() for the C API, set(), which throws for a setter that refused its
/// value (with the object's last_error as the reason) and otherwise returns the object for
/// chaining, and add_each() for the setters that take a list.
template <class Self, class C>
class Settings {
public:
    const C* get() const noexcept { return p_.get(); }

protected:
    /// Takes `p`, a new C object (NULL when its allocation failed: throws std::bad_alloc).
    explicit Settings(C* p) : p_(allocated(p)) {}
    C* p() const noexcept { return p_.get(); }
    Self& set(storetasks_status status) {
        check_setter(status, last_error(p()));
        return static_cast<Self&>(*this);
    }
    /// Calls `add`, a setter of one value, with each of `values` in order.
    Self& add_each(const std::vector<std::string>& values, Self& (Self::*add)(const std::string&)) {
        Self& self = static_cast<Self&>(*this);
        for (const std::string& value : values) (self.*add)(value);
        return self;
    }

private:
    Owned<C> p_;
};

}  // namespace detail

/// A client configuration. Everything not set comes from the usual AWS sources (environment,
/// shared config and credentials files, SSO, instance role). Setters return *this for chaining
/// and throw Error(Status::InvalidArgument) for a bad value, with the library's reason as its
/// message(); the Config keeps its earlier settings.
class Config : private detail::Settings<Config, storetasks_config> {
    friend Settings;  // set() and add_each() return the Config

public:
    using Settings::get;
    Config() : Settings(storetasks_config_new()) {}

    Config& region(const std::string& region) { return set(storetasks_config_set_region(p(), detail::c_str(region, "region"))); }
    /// EC2's endpoint URL alone: the roles of fleet calls and waits go to sts_endpoint_url().
    Config& endpoint_url(const std::string& url) {
        return set(storetasks_config_set_endpoint_url(p(), detail::c_str(url, "endpoint url")));
    }
    /// Where the roles the library assumes (fleet calls, waits across targets) are asked for;
    /// without it, AWS_ENDPOINT_URL_STS, the profile's, else STS's regional endpoint.
    Config& sts_endpoint_url(const std::string& url) {
        return set(storetasks_config_set_sts_endpoint_url(p(), detail::c_str(url, "STS endpoint url")));
    }
    Config& profile(const std::string& profile) {
        return set(storetasks_config_set_profile(p(), detail::c_str(profile, "profile")));
    }
    Config& credentials(const std::string& access_key_id, const std::string& secret_access_key,
                        const std::optional<std::string>& session_token = std::nullopt) {
        return set(storetasks_config_set_credentials(
            p(), detail::c_str(access_key_id, "access key id"), detail::c_str(secret_access_key, "secret access key"),
            session_token ? detail::c_str(*session_token, "session token") : nullptr));
    }
    /// `max_attempts` counts the first attempt; 0 keeps the default, 1 disables retries.
    Config& retry(RetryMode mode, std::uint32_t max_attempts = 0) {
        return set(storetasks_config_set_retry(p(), static_cast<std::int32_t>(mode), max_attempts));
    }
    /// Zero keeps a timeout's default. `connect` bounds each connect, `attempt` each attempt,
    /// `operation` a whole call with its retries (for a listing: each page).
    Config& timeouts(std::chrono::milliseconds connect, std::chrono::milliseconds attempt = {},
                     std::chrono::milliseconds operation = {}) {
        return set(storetasks_config_set_timeouts(p(), detail::to_ms(connect, "connect timeout"),
                                                  detail::to_ms(attempt, "attempt timeout"),
                                                  detail::to_ms(operation, "operation timeout")));
    }
    Config& use_fips(bool on) { return set(storetasks_config_set_use_fips(p(), on)); }
    Config& use_dual_stack(bool on) { return set(storetasks_config_set_use_dual_stack(p(), on)); }
    Config& ca_bundle(const std::string& pem_path) {
        return set(storetasks_config_set_ca_bundle(p(), detail::c_str(pem_path, "CA bundle path")));
    }
    /// Sends every request (EC2, STS for roles, SSO) through the proxy `url`
    /// ("http://[user:password@]host:port", "https://..." for a proxy reached over TLS, or
    /// "host:port"), except to the hosts the environment's NO_PROXY names; "" sends every request
    /// directly, whatever the environment says. A URL the library cannot use (a scheme other than
    /// http or https, no host) throws Error(Status::InvalidArgument) whose message() never shows
    /// the password. The instance metadata service is never reached through a proxy.
    Config& proxy(const std::string& url) {
        return set(storetasks_config_set_proxy(p(), detail::c_str(url, "proxy URL"), nullptr));
    }
    /// As proxy(url), but the hosts reached directly are those of `no_proxy` (comma-separated:
    /// "*", a host, a domain suffix, an IP address or a CIDR block; "" for none), not NO_PROXY's.
    Config& proxy(const std::string& url, const std::string& no_proxy) {
        return set(storetasks_config_set_proxy(p(), detail::c_str(url, "proxy URL"),
                                               detail::c_str(no_proxy, "no-proxy rules")));
    }
    /// Goes back to the proxy settings of the environment (HTTPS_PROXY, HTTP_PROXY, NO_PROXY),
    /// which a Config follows until proxy() is called.
    Config& proxy_from_environment() { return set(storetasks_config_set_proxy(p(), nullptr, nullptr)); }
    Config& app_name(const std::string& name) { return set(storetasks_config_set_app_name(p(), detail::c_str(name, "app name"))); }
    /// How much runs at once (default 8): the requests of 20 image ids that a longer id list is
    /// split into (in each place), the places a fleet call lists, and the pages a fleet call
    /// queues for its caller. From 1 to STORETASKS_MAX_CONCURRENCY (1024).
    Config& max_concurrency(std::size_t n) { return set(storetasks_config_set_max_concurrency(p(), n)); }
};

/// The parameters of a DescribeStoreImageTasks call. An empty query asks for every task of the
/// last 31 days, newest first. Setters return *this and throw Error for a bad value, with the
/// library's reason as its message().
class Query : private detail::Settings<Query, storetasks_query> {
    friend Settings;  // set() and add_each() return the Query

public:
    using Settings::get;
    Query() : Settings(storetasks_query_new()) {}

    /// Any number of ids: more than 20 are sent as several requests and merged.
    Query& image_id(const std::string& id) { return set(storetasks_query_add_image_id(p(), detail::c_str(id, "image id"))); }
    Query& image_ids(const std::vector<std::string>& ids) { return add_each(ids, &Query::image_id); }
    /// A filter ("task-state", "bucket"); any of the values may match.
    Query& filter(const std::string& name, const std::vector<std::string>& values) {
        std::vector<const char*> ptrs;
        ptrs.reserve(values.size());
        for (const auto& v : values) ptrs.push_back(detail::c_str(v, "filter value"));
        return set(storetasks_query_add_filter(p(), detail::c_str(name, "filter name"), ptrs.data(), ptrs.size()));
    }
    /// The page size, 1 to 200 (checked when the call is made); 0 removes it.
    Query& max_results(std::int32_t n) { return set(storetasks_query_set_max_results(p(), n)); }
    /// The token to resume from; nullopt removes it. Accepts TaskList::next_token() directly.
    Query& next_token(std::optional<std::string_view> token) {
        if (!token) return set(storetasks_query_set_next_token(p(), nullptr));
        std::string copy(*token);
        return set(storetasks_query_set_next_token(p(), detail::c_str(copy, "next token")));
    }
    Query& dry_run(bool on = true) { return set(storetasks_query_set_dry_run(p(), on)); }
};

/// Where a fleet call runs: regions (named, or every region enabled for each account) and,
/// optionally, IAM roles to assume, one per account; without roles, the client's own credentials
/// list the client's own account. Setters return *this and throw Error(Status::InvalidArgument)
/// for a bad value, with the library's reason as its message(); the Fleet keeps its earlier
/// settings.
class Fleet : private detail::Settings<Fleet, storetasks_fleet> {
    friend Settings;  // set() and add_each() return the Fleet

public:
    using Settings::get;
    Fleet() : Settings(storetasks_fleet_new()) {}

    /// A region, such as "eu-west-3" (lower-case letters, digits and dashes). A region added
    /// twice is listed once.
    Fleet& region(const std::string& name) { return set(storetasks_fleet_add_region(p(), detail::c_str(name, "region"))); }
    Fleet& regions(const std::vector<std::string>& names) { return add_each(names, &Fleet::region); }
    /// Every region enabled for each account, as EC2 DescribeRegions (asked in the client's
    /// region) names them, sorted by name; regions not opted in are left out. A call refuses a
    /// Fleet that both names regions and asks for all.
    Fleet& all_regions(bool on = true) { return set(storetasks_fleet_set_all_regions(p(), on)); }
    /// An IAM role to assume, "arn:aws:iam::ACCOUNT:role/NAME": its account is listed with the
    /// role's temporary credentials, which STS gives for the client's own credentials.
    Fleet& role_arn(const std::string& arn) { return set(storetasks_fleet_add_role_arn(p(), detail::c_str(arn, "role ARN"))); }
    Fleet& role_arns(const std::vector<std::string>& arns) { return add_each(arns, &Fleet::role_arn); }
};

/// One store task, viewed in the TaskList that holds it. Members EC2 left out are nullopt.
struct Task {
    std::optional<std::string_view> ami_id;
    std::optional<std::chrono::system_clock::time_point> start_time;
    std::optional<std::string_view> bucket;
    std::optional<std::string_view> s3_object_key;
    std::optional<std::int32_t> progress_percentage;
    TaskState state = TaskState::Unknown;
    /// The state exactly as EC2 sent it ("InProgress"...), also for states this library does not know.
    std::optional<std::string_view> state_raw;
    std::optional<std::string_view> failure_reason;
    /// The C view, for code that mixes both APIs.
    const storetasks_task* raw = nullptr;

    /// The view of a C task. Throws Error(Status::Response), naming the task's AMI (ami_id()),
    /// when its start time is outside the range of std::chrono::system_clock.
    static Task from(const storetasks_task& t) {
        Task out;
        out.ami_id = detail::view(t.ami_id);
        if (t.has_task_start_time) out.start_time = detail::to_time_point(t.task_start_time_ms, t.ami_id);
        out.bucket = detail::view(t.bucket);
        out.s3_object_key = detail::view(t.s3_object_key);
        if (t.has_progress_percentage) out.progress_percentage = t.progress_percentage;
        out.state = static_cast<TaskState>(t.state);
        out.state_raw = detail::view(t.state_raw);
        out.failure_reason = detail::view(t.failure_reason);
        out.raw = &t;
        return out;
    }
};

/// A list of tasks, newest first, and the token of the next page. Owning (from describe and
/// describe_all) or a view of a page (in a describe_pages callback). Range-for yields Tasks.
class TaskList {
public:
    using value_type = Task;
    using const_iterator = std::vector<Task>::const_iterator;
    using iterator = const_iterator;

    /// A non-owning view of a C list, valid while that list is. Throws Error(Status::Response)
    /// for a task whose start time system_clock cannot represent.
    static TaskList view(const storetasks_task_list* list) { return TaskList(nullptr, list); }
    /// A non-owning view of a C list that holds its tasks up to the first whose start time
    /// system_clock cannot represent, and puts that task's Error(Status::Response) in `refused`
    /// (nullopt when every task converts). get() and to_json() still give the whole C list.
    static TaskList view_until_refused(const storetasks_task_list* list, std::optional<Error>& refused) {
        return TaskList(nullptr, list, refused);
    }
    /// Takes ownership of a C list (freed by the destructor, also when this throws
    /// Error(Status::Response) for a start time system_clock cannot represent).
    static TaskList adopt(storetasks_task_list* list) { return TaskList(list, list); }
#ifdef STORETASKS_HPP_ASYNC
    /// Takes ownership of a C list, as adopt(), holding its tasks up to the first whose start time
    /// system_clock cannot represent, as view_until_refused() does.
    static TaskList adopt_until_refused(storetasks_task_list* list, std::optional<Error>& refused) {
        return TaskList(list, list, refused);
    }
#endif  // STORETASKS_HPP_ASYNC

    TaskList(TaskList&& other) noexcept
        : owner_(std::move(other.owner_)), list_(std::exchange(other.list_, nullptr)), tasks_(std::move(other.tasks_)) {
        other.tasks_.clear();
    }
    TaskList& operator=(TaskList&& other) noexcept {
        if (this != &other) {
            owner_ = std::move(other.owner_);
            list_ = std::exchange(other.list_, nullptr);
            tasks_ = std::move(other.tasks_);
            other.tasks_.clear();
        }
        return *this;
    }
    TaskList(const TaskList&) = delete;
    TaskList& operator=(const TaskList&) = delete;
    ~TaskList() = default;

    std::size_t size() const noexcept { return tasks_.size(); }
    bool empty() const noexcept { return tasks_.empty(); }
    const Task& operator[](std::size_t i) const noexcept { return tasks_[i]; }
    const Task& at(std::size_t i) const { return tasks_.at(i); }
    const_iterator begin() const noexcept { return tasks_.begin(); }
    const_iterator end() const noexcept { return tasks_.end(); }

    /// The token that resumes the listing after this list, or nullopt at the end.
    std::optional<std::string_view> next_token() const noexcept {
        return detail::view(storetasks_task_list_next_token(list_));
    }

    /// True when describe_all's `max_tasks` cut tasks out that next_token() cannot bring back:
    /// the query named image ids (EC2 answers those in one reply, without a token), or the
    /// service sent more tasks than max_results asked for. Such a list has no next token. False
    /// for a list that holds everything asked for, or that a token resumes.
    bool truncated() const noexcept { return storetasks_task_list_truncated(list_); }

    /// The request id of the reply that produced this list (a listing's last page), or nullopt
    /// when there is none (the lists of a wait gather several replies and have none).
    std::optional<std::string_view> request_id() const noexcept {
        return detail::view(storetasks_task_list_request_id(list_));
    }

#ifdef STORETASKS_HPP_ASYNC
    /// The region a page of a FleetPageCall (Client::describe_fleet_pages_async) came from;
    /// nullopt for any other list.
    std::optional<std::string_view> region() const noexcept { return detail::view(storetasks_task_list_region(list_)); }
    /// The account a page of a FleetPageCall came from; nullopt for the client's own credentials
    /// and for any other list.
    std::optional<std::string_view> account() const noexcept {
        return detail::view(storetasks_task_list_account(list_));
    }
#endif  // STORETASKS_HPP_ASYNC

    /// The JSON `aws ec2 describe-store-image-tasks --output json` prints for these tasks.
    std::string to_json() const {
        char* json = nullptr;
        storetasks_error* err = nullptr;
        storetasks_status status = storetasks_task_list_to_json(list_, &json, &err);
        detail::check(status, err);
        detail::Owned<char> owned(json);
        return std::string(json);
    }

    const storetasks_task_list* get() const noexcept { return list_; }

private:
    TaskList(storetasks_task_list* owned, const storetasks_task_list* list) : owner_(owned), list_(list) {
        std::optional<Error> refused;
        convert(refused);
        if (refused) throw std::move(*refused);
    }
    TaskList(storetasks_task_list* owned, const storetasks_task_list* list, std::optional<Error>& refused)
        : owner_(owned), list_(list) {
        convert(refused);
    }

    /// Views the C tasks up to the first that Task::from refuses, whose error (with the request
    /// id of the reply, when the list has one) goes to `refused`.
    void convert(std::optional<Error>& refused) {
        const std::size_t n = storetasks_task_list_len(list_);
        const storetasks_task* tasks = storetasks_task_list_tasks(list_);
        tasks_.reserve(n);
        refused.reset();
        for (std::size_t i = 0; i < n; i++) {
            try {
                tasks_.push_back(Task::from(tasks[i]));
            } catch (const Error& e) {
                refused.emplace(e.status(), e.message(), e.code(), e.http_status(),
                                detail::copy(storetasks_task_list_request_id(list_)), e.ami_id(), e.failure_reason());
                return;
            }
        }
    }

    detail::Owned<storetasks_task_list> owner_;
    const storetasks_task_list* list_ = nullptr;
    std::vector<Task> tasks_;
};

/// A cancellation token: trigger it from any thread to end the calls given it with
/// Error(Status::Cancelled). It must outlive those calls.
class Cancel {
public:
    Cancel() : p_(detail::allocated(storetasks_cancel_new())) {}
    void trigger() const noexcept { storetasks_cancel_trigger(p_.get()); }
    bool triggered() const noexcept { return storetasks_cancel_is_triggered(p_.get()); }
    const storetasks_cancel* get() const noexcept { return p_.get(); }

private:
    detail::Owned<storetasks_cancel> p_;
};

namespace detail {

/// What a fleet listing's caller knows of one place: the tasks handed to it, and the error of a
/// page holding a task whose start time system_clock cannot represent.
struct FleetPageState {
    std::string region;
    std::optional<std::string> account;
    std::size_t delivered = 0;
    std::optional<Error> refused;
};

/// The places of a fleet listing whose pages reach their caller one by one (describe_fleet_pages,
/// FleetPageCall). A page holding a task whose start time system_clock cannot represent is not
/// handed on: its place is marked failed and its later pages are passed over, while the other
/// places go on; FleetResult::refuse then fails the place in the listing's result.
struct FleetPages {
    std::vector<FleetPageState> places;

    FleetPageState& place(const char* region, const char* account) {
        const std::string_view where = region ? std::string_view(region) : std::string_view();
        for (FleetPageState& p : places)
            if (p.region == where && (account ? p.account == std::string_view(account) : !p.account)) return p;
        places.push_back(FleetPageState{std::string(where), copy(account), 0, std::nullopt});
        return places.back();
    }

    /// The page of place (`region`, `account`) to hand on, made by `make(refused)` (a TaskList
    /// of the page that holds its tasks up to the first that system_clock cannot represent, whose
    /// error goes to `refused`), with its tasks counted; nullopt for a page of a failed place, or
    /// one that fails its place now.
    template <class Make>
    std::optional<TaskList> accept(const char* region, const char* account, Make&& make) {
        FleetPageState& state = place(region, account);
        if (state.refused) return std::nullopt;
        std::optional<Error> refused;
        TaskList list = make(refused);
        if (refused) {
            state.refused = std::move(refused);
            return std::nullopt;
        }
        state.delivered += list.size();
        return std::optional<TaskList>(std::move(list));
    }
};

}  // namespace detail

/// One (account, region) place of a fleet call, viewed in the FleetResult that holds it: its
/// strings and tasks are valid until that result is destroyed.
struct FleetPlace {
    /// The region; empty for an account whose regions could not be listed (`error` says why).
    std::string_view region;
    /// The account, from the role's ARN; nullopt for the client's own credentials.
    std::optional<std::string_view> account;
    /// The role assumed for this place; nullopt for the client's own credentials.
    std::optional<std::string_view> role_arn;
    /// Every task listed there, newest first; for a failed place, those read before it failed
    /// (for a place failed by a start time system_clock cannot represent, the tasks before that
    /// one; to_json() still holds them all). Empty after describe_fleet_pages, whose tasks went
    /// to the callback. It has no next token.
    TaskList tasks;
    /// How many tasks the place delivered, to `tasks` or to describe_fleet_pages' callback.
    std::size_t task_count = 0;
    /// Why the place failed (a copy, with status, code, HTTP status and request id); nullopt
    /// when it answered. A place that sent a task whose start time system_clock cannot
    /// represent fails with Error(Status::Response) naming that task's AMI (ami_id()).
    std::optional<Error> error;

    bool ok() const noexcept { return !error.has_value(); }
};

/// The outcome of a fleet call: its places, one FleetPlace per (account, region) place, in order
/// (accounts in the order their roles were added, then regions in the order added, or by name
/// for all regions): the list to_json() names "Places". Owns the C result; it is a range of its
/// places (range-for yields FleetPlaces), and places() is that list.
class FleetResult {
public:
    using value_type = FleetPlace;
    using const_iterator = std::vector<FleetPlace>::const_iterator;
    using iterator = const_iterator;

    /// Takes ownership of a C result (freed by the destructor). A place holding a task whose
    /// start time system_clock cannot represent fails alone, with Error(Status::Response).
    static FleetResult adopt(storetasks_fleet_result* result) { return FleetResult(result); }

    FleetResult(FleetResult&& other) noexcept
        : p_(std::move(other.p_)), places_(std::move(other.places_)), refused_(std::exchange(other.refused_, 0)) {
        other.places_.clear();
    }
    FleetResult& operator=(FleetResult&& other) noexcept {
        if (this != &other) {
            places_ = std::move(other.places_);  // the views go before the result they point into
            p_ = std::move(other.p_);
            refused_ = std::exchange(other.refused_, 0);
            other.places_.clear();
        }
        return *this;
    }
    FleetResult(const FleetResult&) = delete;
    FleetResult& operator=(const FleetResult&) = delete;
    ~FleetResult() = default;

    /// The places, in order: the list to_json() names "Places" (Go's FleetResult.Places).
    const std::vector<FleetPlace>& places() const noexcept { return places_; }
    /// The number of places.
    std::size_t size() const noexcept { return places_.size(); }
    bool empty() const noexcept { return places_.empty(); }
    /// Place `i` (unchecked; at() throws std::out_of_range past the last place).
    const FleetPlace& operator[](std::size_t i) const noexcept { return places_[i]; }
    const FleetPlace& at(std::size_t i) const { return places_.at(i); }
    const_iterator begin() const noexcept { return places_.begin(); }
    const_iterator end() const noexcept { return places_.end(); }

    /// The number of places that failed (with those failed by a start time system_clock cannot
    /// represent).
    std::size_t failed() const noexcept { return storetasks_fleet_result_failed(p_.get()) + refused_; }

    /// The result as JSON: {"Places": [{"Region", "Account", "RoleArn" (with a role),
    /// "StoreImageTaskResults" (the AWS CLI's shape), "Error" (for a failed place)}]}. It is the
    /// C result's: JSON holds any start time, so a place failed here only for one that
    /// system_clock cannot represent appears there with all its tasks and no "Error".
    std::string to_json() const {
        char* json = nullptr;
        storetasks_error* err = nullptr;
        storetasks_status status = storetasks_fleet_result_to_json(p_.get(), &json, &err);
        detail::check(status, err);
        detail::Owned<char> owned(json);
        return std::string(json);
    }

    const storetasks_fleet_result* get() const noexcept { return p_.get(); }

private:
    friend class Client;
    friend class FleetPageCall;

    explicit FleetResult(storetasks_fleet_result* result) : p_(result) {
        const std::size_t n = storetasks_fleet_result_len(result);
        places_.reserve(n);
        for (std::size_t i = 0; i < n; i++) {
            const char* region = storetasks_fleet_result_region(result, i);
            const storetasks_error* err = storetasks_fleet_result_error(result, i);
            std::optional<Error> refused;
            TaskList tasks = TaskList::view_until_refused(storetasks_fleet_result_tasks(result, i), refused);
            std::size_t count = storetasks_fleet_result_task_count(result, i);
            std::optional<Error> error = err ? std::optional<Error>(detail::to_error(*err)) : std::nullopt;
            if (refused) {
                // The place fails here (keeping the library's own error when it had one first).
                count = tasks.size();
                if (!error) {
                    error = std::move(refused);
                    refused_++;
                }
            }
            places_.push_back(FleetPlace{region ? std::string_view(region) : std::string_view(),
                                         detail::view(storetasks_fleet_result_account(result, i)),
                                         detail::view(storetasks_fleet_result_role_arn(result, i)), std::move(tasks),
                                         count, std::move(error)});
        }
    }

    /// The end of a listing page by page (describe_fleet_pages, FleetPageCall): a place whose
    /// page held a task system_clock cannot represent fails with that error, having handed on
    /// the tasks `pages` counted.
    void refuse(detail::FleetPages& pages) {
        for (detail::FleetPageState& state : pages.places) {
            if (!state.refused) continue;
            for (FleetPlace& place : places_) {
                if (place.region != state.region || place.account != state.account) continue;
                place.task_count = state.delivered;
                if (!place.error) {
                    place.error = std::move(state.refused);
                    refused_++;
                }
                break;
            }
        }
    }

    detail::Owned<storetasks_fleet_result> p_;
    std::vector<FleetPlace> places_;
    std::size_t refused_ = 0;  // places that failed here rather than in the library
};

namespace detail {

template <class F>
struct PageContext {
    F* callback;
    std::exception_ptr error;
};

/// The C callback of describe_pages: runs the C++ callable, and never lets an exception cross
/// the C frames (it is kept, the listing stopped, and the exception rethrown after the call).
template <class F>
bool on_page(const storetasks_task_list* page, void* user_data) noexcept {
    auto* ctx = static_cast<PageContext<F>*>(user_data);
    try {
        const TaskList list = TaskList::view(page);
        if constexpr (std::is_void_v<std::invoke_result_t<F&, const TaskList&>>) {
            (*ctx->callback)(list);
            return true;
        } else {
            return static_cast<bool>((*ctx->callback)(list));
        }
    } catch (...) {
        ctx->error = std::current_exception();
        return false;
    }
}

template <class F>
struct FleetPageContext {
    F* callback;
    std::exception_ptr error;
    FleetPages pages;
};

/// The C callback of describe_fleet_pages, with the same rules as on_page. A page holding a task
/// whose start time system_clock cannot represent is not handed on (see FleetPages).
template <class F>
bool on_fleet_page(const char* region, const char* account, const storetasks_task_list* page,
                   void* user_data) noexcept {
    auto* ctx = static_cast<FleetPageContext<F>*>(user_data);
    try {
        const std::optional<TaskList> list = ctx->pages.accept(region, account, [page](std::optional<Error>& refused) {
            return TaskList::view_until_refused(page, refused);
        });
        if (!list) return true;
        const std::string_view where = region ? std::string_view(region) : std::string_view();
        const std::optional<std::string_view> who = view(account);
        if constexpr (std::is_void_v<std::invoke_result_t<F&, std::string_view, std::optional<std::string_view>,
                                                          const TaskList&>>) {
            (*ctx->callback)(where, who, *list);
            return true;
        } else {
            return static_cast<bool>((*ctx->callback)(where, who, *list));
        }
    } catch (...) {
        ctx->error = std::current_exception();
        return false;
    }
}

}  // namespace detail

/// How Client::wait polls. The defaults are the library's: delays from 5 s doubling up to 120 s
/// (each pause drawn at random between min_delay and the current ceiling), a 2-hour deadline and
/// 60 s of grace for an image without a store task. Negative durations are refused (Error with
/// Status::InvalidArgument), as is min_delay zero or above max_delay (with the library's reason
/// as the message).
struct WaitOptions {
    std::chrono::milliseconds min_delay = std::chrono::seconds(5);
    std::chrono::milliseconds max_delay = std::chrono::seconds(120);
    /// The deadline of the whole wait; zero waits without one (until done or cancelled).
    std::chrono::milliseconds timeout = std::chrono::hours(2);
    /// How long an image may have no store task before the wait throws Status::NotFound.
    std::chrono::milliseconds not_found_grace = std::chrono::seconds(60);
    /// Called after each successful poll, on the waiting thread, with the latest task of each
    /// image that has one, in the order of the ids (the list is valid during the call only).
    /// Return false to stop (the wait throws Status::Cancelled); an exception it throws stops
    /// the wait and comes out of Client::wait. It must return or throw: never longjmp out of it
    /// or end the thread inside it. Empty: no callback.
    std::function<bool(const TaskList&)> progress;

    WaitOptions& delays(std::chrono::milliseconds min, std::chrono::milliseconds max) {
        min_delay = min;
        max_delay = max;
        return *this;
    }
    WaitOptions& deadline(std::chrono::milliseconds d) {
        timeout = d;
        return *this;
    }
    WaitOptions& grace(std::chrono::milliseconds g) {
        not_found_grace = g;
        return *this;
    }
    WaitOptions& on_progress(std::function<bool(const TaskList&)> f) {
        progress = std::move(f);
        return *this;
    }
};

/// One image for Client::wait_targets, and the place its store task runs in. Aggregate: list the
/// members in order, {region, role_arn, image_id}.
struct WaitTarget {
    /// The image's region, such as "eu-west-3"; empty for the client's region.
    std::string region;
    /// An IAM role of the image's account, "arn:aws:iam::ACCOUNT:role/NAME", assumed with the
    /// client's own credentials; empty for the client's own account.
    std::string role_arn;
    /// The AMI id.
    std::string image_id;
};

namespace detail {

struct WaitContext {
    const std::function<bool(const TaskList&)>* progress;
    std::exception_ptr error;
};

/// The C progress callback of Client::wait: runs the std::function and never lets an exception
/// cross the C frames (it is kept, the wait stopped, and the exception rethrown after the call).
inline bool on_progress(const storetasks_task_list* tasks, void* user_data) noexcept {
    auto* ctx = static_cast<WaitContext*>(user_data);
    try {
        const TaskList list = TaskList::view(tasks);
        return (*ctx->progress)(list);
    } catch (...) {
        ctx->error = std::current_exception();
        return false;
    }
}

/// Throws for a wait option the library refused, with its reason (read after the setter call).
inline void check_wait_option(storetasks_wait_options* options, storetasks_status status) {
    check_setter(status, storetasks_wait_options_last_error(options));
}

/// The C options of a wait, built from `options` without its progress callback.
inline Owned<storetasks_wait_options> wait_options(const WaitOptions& options) {
    Owned<storetasks_wait_options> out(allocated(storetasks_wait_options_new()));
    storetasks_wait_options* o = out.get();
    check_wait_option(o, storetasks_wait_options_set_delays(o, to_ms(options.min_delay, "min delay"),
                                                            to_ms(options.max_delay, "max delay")));
    check_wait_option(o, storetasks_wait_options_set_timeout(o, to_ms(options.timeout, "wait timeout")));
    check_wait_option(o, storetasks_wait_options_set_not_found_grace(
                             o, to_ms(options.not_found_grace, "not-found grace")));
    return out;
}

/// The image ids of a wait for C, valid while `ids` is.
inline std::vector<const char*> wait_ids(const std::vector<std::string>& ids) {
    std::vector<const char*> out;
    out.reserve(ids.size());
    for (const auto& id : ids) out.push_back(c_str(id, "image id"));
    return out;
}

/// The targets of a wait for C, valid while `targets` is (an empty region or role: NULL).
inline std::vector<storetasks_wait_target> wait_targets(const std::vector<WaitTarget>& targets) {
    std::vector<storetasks_wait_target> out;
    out.reserve(targets.size());
    for (std::size_t i = 0; i < targets.size(); i++) {
        const WaitTarget& t = targets[i];
        const std::string at = "targets[" + std::to_string(i) + "].";
        out.push_back(storetasks_wait_target{
            t.region.empty() ? nullptr : c_str(t.region, (at + "region").c_str()),
            t.role_arn.empty() ? nullptr : c_str(t.role_arn, (at + "role_arn").c_str()),
            c_str(t.image_id, (at + "image_id").c_str())});
    }
    return out;
}

}  // namespace detail

#ifdef STORETASKS_HPP_ASYNC
/// The outcome of a call that does not block, as its callback receives it: what the blocking call
/// would have returned (the callback's to keep: move it out of value()), or the exception it
/// would have thrown. Result is a list call's (a listing, a wait), FleetOutcome a fleet call's.
/// Move-only.
template <class T>
class Outcome {
public:
    explicit Outcome(T value) noexcept : value_(std::move(value)) {}
    /// A failure; throws std::invalid_argument for a null `failure`.
    explicit Outcome(std::exception_ptr failure) : failure_(std::move(failure)) {
        if (!failure_) throw std::invalid_argument("storetasks::Outcome: a failure needs an exception");
        try {
            std::rethrow_exception(failure_);
        } catch (const Error& e) {
            error_.emplace(e);
        } catch (...) {
        }
    }

    /// Whether the call succeeded: value() holds what it returned.
    bool ok() const noexcept { return value_.has_value(); }
    explicit operator bool() const noexcept { return ok(); }
    /// What the call returned; throws what the call threw when it failed.
    T& value() & {
        if (!value_) std::rethrow_exception(failure_);
        return *value_;
    }
    const T& value() const& {
        if (!value_) std::rethrow_exception(failure_);
        return *value_;
    }
    T&& value() && { return std::move(value()); }
    /// The Error the call failed with; nullptr when it succeeded, or when what it threw is not an
    /// Error (std::bad_alloc: see exception()).
    const Error* error() const noexcept { return error_ ? &*error_ : nullptr; }
    /// What the call threw; null when it succeeded.
    const std::exception_ptr& exception() const noexcept { return failure_; }

private:
    std::optional<T> value_;
    std::exception_ptr failure_;
    std::optional<Error> error_;
};

/// The outcome of a list call (describe_async, describe_all_async, wait_async,
/// wait_targets_async): its TaskList, or its exception.
using Result = Outcome<TaskList>;
/// The outcome of describe_fleet_async: its FleetResult, or its exception.
using FleetOutcome = Outcome<FleetResult>;

namespace detail {

/// What a call that does not block shares with its C callback, which runs on a library thread:
/// how many times the callback ran (the blocking waits of PendingCall and PageCall sleep until it
/// runs again), what the callback does with a call's outcome, if anything (AsyncList and the
/// callback forms take it there), and whether the owner has let the call go.
struct CallState : std::enable_shared_from_this<CallState> {
    std::mutex lock;
    std::condition_variable changed;
    std::uint64_t news = 0;
    /// Set before the C call is freed: freeing it stops it, and the end that stopping brings
    /// (Status::Cancelled) reaches no one.
    bool gone = false;
    std::function<void(storetasks_call*)> react;
};

/// The C callback of every call the wrapper starts: unless the owner has let the call go, counts
/// the news, wakes the waiters, then runs `react`. It holds the state while it runs, since `react`
/// may destroy the call's owner (the C call is then freed without waiting, and not touched
/// again). Nothing is thrown out of it.
inline void on_call(storetasks_call* call, void* user_data) noexcept {
    try {
        const std::shared_ptr<CallState> state = static_cast<CallState*>(user_data)->shared_from_this();
        {
            std::lock_guard<std::mutex> guard(state->lock);
            if (state->gone) return;
            state->news++;
        }
        state->changed.notify_all();
        if (state->react) state->react(call);
    } catch (...) {
        // Only a failure to allocate gets here: the react functions catch the caller's exceptions.
    }
}

/// How the outcome of a call that delivers one result is taken from C, by its type: the C object
/// it adopts, the C take function, and the name of the owner that delivers it as a future.
template <class T>
struct Taking;

template <>
struct Taking<TaskList> {
    using Raw = storetasks_task_list;
    static constexpr const char* owner = "AsyncList";
    static storetasks_status take(storetasks_call* call, Raw** out, storetasks_error** err) noexcept {
        return storetasks_call_take_list(call, out, err);
    }
};

template <>
struct Taking<FleetResult> {
    using Raw = storetasks_fleet_result;
    static constexpr const char* owner = "AsyncFleet";
    static storetasks_status take(storetasks_call* call, Raw** out, storetasks_error** err) noexcept {
        return storetasks_call_take_fleet(call, out, err);
    }
};

/// Takes the outcome of a call without waiting: nullopt while it runs; once it has ended, what the
/// blocking call would have returned, or it throws the Error that call would have thrown.
template <class T>
std::optional<T> take(storetasks_call* call) {
    typename Taking<T>::Raw* raw = nullptr;
    storetasks_error* err = nullptr;
    const storetasks_status status = Taking<T>::take(call, &raw, &err);
    if (status == STORETASKS_STATUS_PENDING) return std::nullopt;
    check(status, err);
    return T::adopt(raw);
}

/// Takes the outcome of a call that has ended: what the blocking call would have returned, or the
/// exception it would have thrown.
template <class T>
Outcome<T> take_outcome(storetasks_call* call) {
    try {
        std::optional<T> value = take<T>(call);
        if (!value) throw Error(Status::Pending, "the call has not ended");  // its callback runs at the end
        return Outcome<T>(std::move(*value));
    } catch (...) {
        return Outcome<T>(std::current_exception());
    }
}

/// The promise behind an AsyncCall, settled once: by the call's callback, or by the AsyncCall
/// when it is destroyed first.
template <class T>
struct Promised {
    std::promise<T> promise;
    std::atomic<bool> settled{false};

    void settle(Outcome<T> outcome) {
        if (settled.exchange(true)) return;
        if (outcome.ok())
            promise.set_value(std::move(outcome).value());
        else
            promise.set_exception(outcome.exception());
    }
};

/// The C start function of describe (`max_tasks` nullopt) or describe_all with its client, query
/// and cap, called with the callback, its user data and the out-parameters.
struct ListStart {
    const storetasks_client* client;
    const storetasks_query* query;
    std::optional<std::size_t> max_tasks;

    storetasks_status operator()(storetasks_call_callback callback, void* user_data, storetasks_call** call,
                                 storetasks_error** err) const {
        return max_tasks ? storetasks_client_describe_all_start(client, query, *max_tasks, callback, user_data, call, err)
                         : storetasks_client_describe_start(client, query, callback, user_data, call, err);
    }
};

/// The C start function of wait (`targets` nullopt) or wait_targets with its client, what it
/// waits for and its options (which the library copies at the start), called as ListStart is.
struct WaitStart {
    const storetasks_client* client;
    std::vector<const char*> ids;
    std::optional<std::vector<storetasks_wait_target>> targets;
    Owned<storetasks_wait_options> options;

    storetasks_status operator()(storetasks_call_callback callback, void* user_data, storetasks_call** call,
                                 storetasks_error** err) const {
        return targets ? storetasks_client_wait_targets_start(client, targets->data(), targets->size(), options.get(),
                                                              callback, user_data, call, err)
                       : storetasks_client_wait_start(client, ids.data(), ids.size(), options.get(), callback,
                                                      user_data, call, err);
    }
};

/// The C start function of describe_fleet (`pages` false) or of a fleet listing page by page,
/// with its client, fleet and query (which the library copies at the start), called as ListStart
/// is.
struct FleetStart {
    const storetasks_client* client;
    const storetasks_fleet* fleet;
    const storetasks_query* query;
    bool pages;

    storetasks_status operator()(storetasks_call_callback callback, void* user_data, storetasks_call** call,
                                 storetasks_error** err) const {
        return pages
                   ? storetasks_client_describe_fleet_pages_start(client, fleet, query, callback, user_data, call, err)
                   : storetasks_client_describe_fleet_start(client, fleet, query, callback, user_data, call, err);
    }
};

}  // namespace detail

/// A call that does not block, running on its client's threads: the owner of the C call (made by
/// a Client::*_async or *_start function). Move-only. The destructor stops the call if it still
/// runs and frees it, with whatever it produced that nobody took; it returns at once, unless the
/// call's callback is running on another thread at that moment: then it waits for that callback to
/// return. The Call handed back by the callback forms (describe_async, describe_all_async,
/// wait_async, wait_targets_async and describe_fleet_async with a function) is only this: keep it
/// for as long as the callback should run (a Call dropped at once stops its call at once, hence
/// [[nodiscard]]).
class [[nodiscard]] Call {
public:
    /// An owner of no call, for one to be assigned to it later.
    Call() noexcept = default;
    Call(Call&& other) noexcept = default;
    Call& operator=(Call&& other) noexcept {
        if (this != &other) {
            release();
            p_ = std::move(other.p_);
            state_ = std::move(other.state_);
        }
        return *this;
    }
    Call(const Call&) = delete;
    Call& operator=(const Call&) = delete;
    ~Call() { release(); }

    /// Stops the call: unless it has already ended, it ends with Error(Status::Cancelled) soon.
    /// Thread-safe, also inside the call's callback.
    void cancel() const noexcept { storetasks_call_cancel(p_.get()); }
    /// Whether the call has ended with nothing left before its end: a call's outcome is ready (or
    /// was taken); every page of a page-by-page call was taken and its end is ready (or was
    /// taken). Thread-safe.
    bool finished() const noexcept { return storetasks_call_finished(p_.get()); }
    /// A descriptor that is readable while the call has something to take, for an event loop
    /// (poll, epoll, asio's posix::stream_descriptor, libuv's uv_poll); owned by the call: never
    /// read, write or close it, and stop watching it before the owner is destroyed (asio: release()
    /// the stream_descriptor first, or it closes the descriptor). -1 on Windows (wait() and
    /// wait_for() work everywhere).
    int fd() const noexcept { return storetasks_call_fd(p_.get()); }
    const storetasks_call* get() const noexcept { return p_.get(); }

protected:
    Call(std::shared_ptr<detail::CallState> state, storetasks_call* call) noexcept
        : state_(std::move(state)), p_(call) {}

    storetasks_call* p() const noexcept { return p_.get(); }

    /// How many times the callback has run so far.
    std::uint64_t news() const {
        if (!state_) return 0;
        std::lock_guard<std::mutex> guard(state_->lock);
        return state_->news;
    }

    /// Blocks until `ready()` holds, checked now and after each run of the call's callback, and at
    /// most `timeout` when there is one; returns its last answer (true for a moved-from call).
    template <class Ready, class Rep = std::int64_t, class Period = std::milli>
    bool wait_news(Ready ready, const std::optional<std::chrono::duration<Rep, Period>>& timeout = std::nullopt) const {
        if (!state_) return true;
        std::unique_lock<std::mutex> guard(state_->lock);
        const auto check = [&] { return ready(state_->news); };
        if (!timeout) {
            state_->changed.wait(guard, check);
            return true;
        }
        return state_->changed.wait_for(guard, *timeout, check);
    }

private:
    friend class Client;

    /// Lets the call go: no callback starts after this (one running on another thread is waited
    /// for), then the call is freed before its state, which its callback uses.
    void release() noexcept {
        if (state_) {
            std::lock_guard<std::mutex> guard(state_->lock);
            state_->gone = true;
        }
        p_.reset();
        state_.reset();
    }

    std::shared_ptr<detail::CallState> state_;
    detail::Owned<storetasks_call> p_;
};

/// A call whose outcome its owner takes itself, from an event loop or a thread of its own: take()
/// gives nothing while it runs, then what the blocking call returns, or its exception. A
/// PendingCall takes a list (Client::describe_start, describe_all_start, wait_start,
/// wait_targets_start), a PendingFleet a fleet's outcome (Client::describe_fleet_start). Used by
/// one thread at a time (cancel() from any).
template <class T>
class [[nodiscard]] PendingResult : public Call {
public:
    /// An owner of no call, for one to be assigned to it later.
    PendingResult() noexcept = default;

    /// The outcome, taken without waiting: nullopt while the call runs. Once it has ended, what
    /// the blocking call would have returned, or it throws the Error that call would have thrown.
    /// Only once: afterwards it throws Error(Status::InvalidArgument).
    std::optional<T> take() { return detail::take<T>(p()); }
    /// Blocks until the call has ended (take() then gives its outcome).
    void wait() const {
        wait_news([this](std::uint64_t) { return finished(); });
    }
    /// As wait(), for at most `timeout`; true when the call has ended.
    template <class Rep, class Period>
    bool wait_for(const std::chrono::duration<Rep, Period>& timeout) const {
        return wait_news([this](std::uint64_t) { return finished(); }, std::optional(timeout));
    }

private:
    friend class Client;
    explicit PendingResult(Call call) noexcept : Call(std::move(call)) {}
};

/// A list call whose list its owner takes (see PendingResult).
using PendingCall = PendingResult<TaskList>;
/// A fleet call whose FleetResult its owner takes (see PendingResult).
using PendingFleet = PendingResult<FleetResult>;

namespace detail {

/// What PageCall does with the pages it takes: hands each one out, and ends the listing with the
/// Error(Status::Response) of a page holding a task whose start time system_clock cannot
/// represent.
struct ListPages {
    std::optional<TaskList> accept(storetasks_task_list* page) { return TaskList::adopt(page); }
};

/// What FleetPageCall does with the pages it takes: as describe_fleet_pages, a page holding a task
/// whose start time system_clock cannot represent fails its place alone (see FleetPages).
struct FleetListPages : FleetPages {
    std::optional<TaskList> accept(storetasks_task_list* page) {
        Owned<storetasks_task_list> owned(page);
        return FleetPages::accept(storetasks_task_list_region(page), storetasks_task_list_account(page),
                                  [&owned](std::optional<Error>& refused) {
                                      return TaskList::adopt_until_refused(owned.release(), refused);
                                  });
    }
};

}  // namespace detail

/// A listing delivered page by page: at most two pages wait for the caller, and the listing waits
/// for room, so memory stays bounded however slowly pages are taken. A PageCall lists one place
/// (Client::describe_pages_async); a FleetPageCall, which adds the fleet's outcome, every place of
/// a fleet. `Pages` says what is done with each page taken (detail::ListPages,
/// detail::FleetListPages). Used by one thread at a time (cancel() from any).
template <class Pages>
class [[nodiscard]] BasicPageCall : public Call {
public:
    /// An owner of no call, for one to be assigned to it later.
    BasicPageCall() noexcept = default;

    /// The next page, taken without waiting; nullopt when none is ready yet or when the listing
    /// has ended: ended() says which. Throws the Error that ended the listing early, once (the
    /// pages before it stay delivered; ended() is then true). A PageCall's page holding a task
    /// whose start time system_clock cannot represent throws Error(Status::Response) and stops
    /// the listing as it stops describe_pages; a FleetPageCall's fails its place as it fails it
    /// in describe_fleet_pages.
    std::optional<TaskList> next_page() {
        while (!ended_) {
            const std::uint64_t seen = news();
            storetasks_task_list* page = nullptr;
            storetasks_error* err = nullptr;
            const storetasks_status status = storetasks_call_next_page(p(), &page, &err);
            idle_since_.reset();
            if (status == STORETASKS_STATUS_PENDING) {
                idle_since_ = seen;
                return std::nullopt;
            }
            if (status != STORETASKS_STATUS_OK || !page) {
                ended_ = true;
                detail::check(status, err);
                return std::nullopt;
            }
            try {
                if (std::optional<TaskList> list = pages_.accept(page)) return list;
            } catch (...) {
                ended_ = true;
                cancel();
                throw;
            }
        }
        return std::nullopt;
    }
    /// Whether next_page() has reached the end of the listing (or thrown what ended it).
    bool ended() const noexcept { return ended_; }
    /// The next page, waiting for it: nullopt only at the end of the listing. Throws as
    /// next_page() does.
    std::optional<TaskList> wait_next_page() {
        for (;;) {
            if (std::optional<TaskList> page = next_page()) return page;
            if (ended_) return std::nullopt;
            wait();
        }
    }
    /// Blocks until next_page() may have something new: a page or the end that came after it
    /// last gave nothing.
    void wait() const {
        wait_news([this](std::uint64_t news) { return ready(news); });
    }
    /// As wait(), for at most `timeout`; true when next_page() may have something new.
    template <class Rep, class Period>
    bool wait_for(const std::chrono::duration<Rep, Period>& timeout) const {
        return wait_news([this](std::uint64_t news) { return ready(news); }, std::optional(timeout));
    }

protected:
    explicit BasicPageCall(Call call) noexcept : Call(std::move(call)) {}

    Pages& pages() noexcept { return pages_; }

private:
    friend class Client;

    bool ready(std::uint64_t news) const noexcept { return ended_ || !idle_since_ || news != *idle_since_; }

    Pages pages_;
    bool ended_ = false;
    /// The callback's count when next_page() last found nothing (nullopt: it found something;
    /// 0 before the first next_page(), which waits for the first news).
    std::optional<std::uint64_t> idle_since_ = 0;
};

/// A listing of one place page by page (Client::describe_pages_async); see BasicPageCall.
using PageCall = BasicPageCall<detail::ListPages>;

/// A fleet listed page by page (Client::describe_fleet_pages_async): the pages of every place, as
/// they come, each naming its place (TaskList::region(), TaskList::account()); at most two wait in
/// the call and Config::max_concurrency in the listings, which then wait for room. Once
/// next_page() has reached the end, take_fleet() gives the outcome of every place. Stopping early
/// is cancel() or destroying the owner. Used by one thread at a time (cancel() from any).
class [[nodiscard]] FleetPageCall : public BasicPageCall<detail::FleetListPages> {
public:
    /// An owner of no call, for one to be assigned to it later.
    FleetPageCall() noexcept = default;

    /// The outcome of every place, taken without waiting once the listing has ended (when
    /// next_page() has reached the end; the pages not taken by then are dropped): nullopt while
    /// it runs. It is what describe_fleet_pages returns: each place's error or none, and its
    /// task_count, with empty task lists; a place failed by a page holding a task whose start
    /// time system_clock cannot represent has that Error(Status::Response) and counts the tasks
    /// handed out before it. Throws Error(Status::Cancelled) for a listing stopped by cancel(),
    /// as describe_fleet_pages throws for its Cancel. Only once: afterwards it throws
    /// Error(Status::InvalidArgument).
    std::optional<FleetResult> take_fleet() {
        std::optional<FleetResult> out = detail::take<FleetResult>(p());
        if (out) out->refuse(pages());
        return out;
    }

private:
    friend class Client;
    explicit FleetPageCall(Call call) noexcept : BasicPageCall(std::move(call)) {}
};

/// A call running on its client's threads whose outcome comes as a std::future: get() waits for
/// it, or throws the Error the blocking call would have thrown. An AsyncList delivers a list
/// (Client::describe_async, describe_all_async, wait_async, wait_targets_async), an AsyncFleet a
/// FleetResult (Client::describe_fleet_async). The future is set from the call's callback, on a
/// library thread. Move-only; destroying it before the call has ended stops the call (see Call)
/// and sets the future to Error(Status::Cancelled), so a future moved out with future() never
/// waits for nothing.
template <class T>
class [[nodiscard]] AsyncCall {
public:
    /// An owner of no call (valid() is false), for one to be assigned to it later.
    AsyncCall() noexcept = default;
    AsyncCall(AsyncCall&&) noexcept = default;
    AsyncCall& operator=(AsyncCall&& other) noexcept {
        if (this != &other) {
            finish();
            call_ = std::move(other.call_);
            promised_ = std::move(other.promised_);
            future_ = std::move(other.future_);
        }
        return *this;
    }
    AsyncCall(const AsyncCall&) = delete;
    AsyncCall& operator=(const AsyncCall&) = delete;
    ~AsyncCall() { finish(); }

    /// Waits for the outcome: what the call returned, or it throws the call's Error. Once, as
    /// std::future::get.
    T get() { return future_.get(); }
    void wait() const { future_.wait(); }
    template <class Rep, class Period>
    std::future_status wait_for(const std::chrono::duration<Rep, Period>& timeout) const {
        return future_.wait_for(timeout);
    }
    template <class Clock, class Duration>
    std::future_status wait_until(const std::chrono::time_point<Clock, Duration>& deadline) const {
        return future_.wait_until(deadline);
    }
    /// Whether the future is still here (not taken by get() or moved out of future()).
    bool valid() const noexcept { return future_.valid(); }
    /// The future itself, to move out or to wait on with others.
    std::future<T>& future() noexcept { return future_; }
    /// Stops the call: unless it has already ended, the future gets Error(Status::Cancelled) soon.
    void cancel() const noexcept { call_.cancel(); }

private:
    friend class Client;
    AsyncCall(Call call, std::shared_ptr<detail::Promised<T>> promised, std::future<T> future)
        : call_(std::move(call)), promised_(std::move(promised)), future_(std::move(future)) {}

    /// Frees the call (waiting for its callback if it is running on another thread), then settles
    /// the future if the callback did not.
    void finish() noexcept {
        if (!promised_) return;
        { Call gone = std::move(call_); }
        if (!promised_->settled.load()) {
            try {
                promised_->settle(Outcome<T>(std::make_exception_ptr(
                    Error(Status::Cancelled, std::string("the call was stopped: its ") + detail::Taking<T>::owner +
                                                 " was destroyed before it ended"))));
            } catch (...) {
                // Out of memory: the future then reports a broken promise.
            }
        }
        promised_.reset();
    }

    Call call_;
    std::shared_ptr<detail::Promised<T>> promised_;
    std::future<T> future_;
};

/// A list call whose list comes as a std::future<TaskList> (see AsyncCall).
using AsyncList = AsyncCall<TaskList>;
/// A fleet call whose FleetResult comes as a std::future<FleetResult> (see AsyncCall).
using AsyncFleet = AsyncCall<FleetResult>;

#endif  // STORETASKS_HPP_ASYNC

/// An EC2 client for DescribeStoreImageTasks: its own runtime, connections and credentials.
class Client {
public:
    /// A client with the standard AWS defaults for everything.
    Client() : Client(nullptr) {}
    /// A client from a configuration (copied: the Config may be changed or destroyed after).
    explicit Client(const Config& config) : Client(config.get()) {}

    /// One page: the tasks of one request (or of every request for more than 20 image ids).
    TaskList describe(const Query& query, const Cancel* cancel = nullptr) const {
        return describe(query.get(), cancel);
    }
    /// One page of every task, with EC2's page size.
    TaskList describe() const { return describe(nullptr, nullptr); }

    /// Every page from the query's token on, in one list. `max_tasks` caps the tasks (0: no
    /// cap); when it cuts the listing, the list's next_token() resumes it after the last task,
    /// or, when no token can (a query by image ids), the list's truncated() is true.
    TaskList describe_all(const Query& query, std::size_t max_tasks = 0, const Cancel* cancel = nullptr) const {
        storetasks_task_list* list = nullptr;
        storetasks_error* err = nullptr;
        storetasks_status status = storetasks_client_describe_all(p_.get(), query.get(), max_tasks,
                                                                  cancel ? cancel->get() : nullptr, &list, &err);
        detail::check(status, err);
        return TaskList::adopt(list);
    }

    /// Lists page by page: `on_page(const TaskList&)` receives each page (valid during the call
    /// only) on this thread and returns false to stop (or returns nothing to go on); the next page
    /// is fetched while it runs (and dropped when it stops). An exception it throws stops the
    /// listing and is rethrown here once the C call has returned. It must
    /// return or throw: never longjmp out of it or end the thread inside it.
    template <class F>
    void describe_pages(const Query& query, F&& on_page, std::size_t max_tasks = 0,
                        const Cancel* cancel = nullptr) const {
        using Fn = std::remove_reference_t<F>;
        static_assert(std::is_invocable_v<Fn&, const TaskList&>, "on_page must be callable with a const TaskList&");
        detail::PageContext<Fn> ctx{std::addressof(on_page), nullptr};
        storetasks_error* err = nullptr;
        storetasks_status status = storetasks_client_describe_pages(
            p_.get(), query.get(), max_tasks, cancel ? cancel->get() : nullptr, &detail::on_page<Fn>,
            const_cast<void*>(static_cast<const void*>(&ctx)), &err);
        if (ctx.error) {
            storetasks_error_free(err);
            std::rethrow_exception(ctx.error);
        }
        detail::check(status, err);
    }

#ifdef STORETASKS_HPP_ASYNC
    /// describe() without blocking: starts fetching one page and returns at once. The AsyncList
    /// owns the call; its get() waits for the page, or throws the Error describe() would have
    /// thrown. Arguments are checked here, as describe() checks them (a bad query throws at once
    /// and nothing is sent). The query is copied: it may be changed or destroyed once this
    /// returns. Any number of calls may run at once on one client; a call still running when its
    /// Client is destroyed ends with Error(Status::Cancelled).
    AsyncList describe_async(const Query& query) const { return async_call<TaskList>(begin_list(query, std::nullopt)); }
    /// describe_all() without blocking, as describe_async (`max_tasks` 0: no cap).
    AsyncList describe_all_async(const Query& query, std::size_t max_tasks = 0) const {
        return async_call<TaskList>(begin_list(query, max_tasks));
    }
    /// describe_async with a callback instead of a future: `on_result(Result)` receives the outcome
    /// once, on one of the library's threads. It must return quickly (the thread serves other
    /// calls); it may start other calls and destroy the Call that runs it (assigning a new call to
    /// it, for instance), but must not destroy the owner of any other call (that waits for the
    /// other call's callback, which may be waiting for this one). An exception it throws is caught
    /// and dropped: there is no caller to hand it to. Destroying the Call before the outcome came
    /// stops the call, and `on_result` is then not called (one that has already started is waited
    /// for). Throws as describe_async does, and Error(Status::InvalidArgument) for an empty
    /// function.
    Call describe_async(const Query& query, std::function<void(Result)> on_result) const {
        return start(begin_list(query, std::nullopt), deliver(std::move(on_result)));
    }
    /// describe_all_async with a callback, as describe_async(query, on_result).
    Call describe_all_async(const Query& query, std::size_t max_tasks, std::function<void(Result)> on_result) const {
        return start(begin_list(query, max_tasks), deliver(std::move(on_result)));
    }
    /// describe_async for an event loop: the PendingCall's fd() is readable once the outcome is
    /// ready, and take() takes it (wait() and wait_for() block for it instead).
    PendingCall describe_start(const Query& query) const { return PendingCall(start(begin_list(query, std::nullopt))); }
    /// describe_all_async for an event loop, as describe_start (`max_tasks` 0: no cap).
    PendingCall describe_all_start(const Query& query, std::size_t max_tasks = 0) const {
        return PendingCall(start(begin_list(query, max_tasks)));
    }
    /// describe_pages() without blocking: the PageCall hands the pages out one by one with
    /// next_page() (without waiting; fd() is readable while it has one, or the end) or
    /// wait_next_page(). `max_tasks` caps the tasks (0: no cap), as for describe_pages. Throws at
    /// once for bad arguments, as describe_async does.
    PageCall describe_pages_async(const Query& query, std::size_t max_tasks = 0) const {
        return PageCall(start([client = p_.get(), q = query.get(), max_tasks](storetasks_call_callback callback,
                                                                               void* user_data, storetasks_call** call,
                                                                               storetasks_error** err) {
            return storetasks_client_describe_pages_start(client, q, max_tasks, callback, user_data, call, err);
        }));
    }
#endif  // STORETASKS_HPP_ASYNC

    /// Runs the query in every (account, region) place of `fleet` at once, at most
    /// Config::max_concurrency places at a time, each listed to its end. Returns the outcome of
    /// every place, also when some or all of them failed: a failed place carries its error (and
    /// the tasks read before it failed). Throws only when the call itself fails:
    /// Status::InvalidArgument for a fleet without regions, with both regions and all_regions(),
    /// or a query with a next token (a token belongs to one region), before anything is sent;
    /// Status::Cancelled when `cancel` fires. Blocks the calling thread.
    FleetResult describe_fleet(const Fleet& fleet, const Query& query, const Cancel* cancel = nullptr) const {
        return describe_fleet(fleet, query.get(), cancel);
    }
    /// Every task of every place of `fleet`, with EC2's page size.
    FleetResult describe_fleet(const Fleet& fleet) const { return describe_fleet(fleet, nullptr, nullptr); }

    /// The streaming form of describe_fleet: `on_page(std::string_view region,
    /// std::optional<std::string_view> account, const TaskList& page)` receives each page as it
    /// arrives from any place (account nullopt for the client's own credentials), on this thread;
    /// the strings and the page are valid during the call only. It returns false to stop every
    /// listing (or returns nothing to go on). Memory stays bounded whatever the fleet's size.
    /// Returns the outcome of every place so far, with empty task lists and each place's
    /// task_count. A page holding a task whose start time system_clock cannot represent is not
    /// handed to the callback: its place fails with Error(Status::Response) naming that task,
    /// its later pages are passed over, and its task_count is what the callback received.
    /// Throws as describe_fleet does; an exception the callback throws stops every
    /// listing and is rethrown here once the C call has returned. The callback must return or
    /// throw: never longjmp out of it or end the thread inside it.
    template <class F>
    FleetResult describe_fleet_pages(const Fleet& fleet, const Query& query, F&& on_page,
                                     const Cancel* cancel = nullptr) const {
        using Fn = std::remove_reference_t<F>;
        static_assert(std::is_invocable_v<Fn&, std::string_view, std::optional<std::string_view>, const TaskList&>,
                      "on_page must be callable with (std::string_view, std::optional<std::string_view>, const TaskList&)");
        detail::FleetPageContext<Fn> ctx{std::addressof(on_page), nullptr, {}};
        storetasks_fleet_result* result = nullptr;
        storetasks_error* err = nullptr;
        storetasks_status status = storetasks_client_describe_fleet_pages(
            p_.get(), fleet.get(), query.get(), cancel ? cancel->get() : nullptr, &detail::on_fleet_page<Fn>,
            const_cast<void*>(static_cast<const void*>(&ctx)), &result, &err);
        detail::Owned<storetasks_fleet_result> owned(result);
        if (ctx.error) {
            storetasks_error_free(err);
            std::rethrow_exception(ctx.error);
        }
        detail::check(status, err);
        FleetResult out = FleetResult::adopt(owned.release());
        out.refuse(ctx.pages);
        return out;
    }

#ifdef STORETASKS_HPP_ASYNC
    /// describe_fleet() without blocking: starts listing every place of `fleet` and returns at
    /// once. The AsyncFleet owns the call; its get() waits for the FleetResult describe_fleet()
    /// would have returned (each place's tasks or error), or throws the Error it would have
    /// thrown (Status::Cancelled for a call stopped by cancel()). Arguments are checked here, as
    /// describe_fleet() checks them (a fleet without regions, with both regions and all_regions(),
    /// or a query with a next token throws Error(Status::InvalidArgument) at once and nothing is
    /// sent). The fleet and the query are copied: they may be changed or destroyed once this
    /// returns. Calls run on one client as describe_async's do.
    AsyncFleet describe_fleet_async(const Fleet& fleet, const Query& query = Query()) const {
        return async_call<FleetResult>(begin_fleet(fleet, query, false));
    }
    /// describe_fleet_async with a callback instead of a future: `on_result(FleetOutcome)`
    /// receives the outcome once, on one of the library's threads, with the rules of
    /// describe_async(query, on_result).
    Call describe_fleet_async(const Fleet& fleet, const Query& query,
                              std::function<void(FleetOutcome)> on_result) const {
        return start(begin_fleet(fleet, query, false), deliver(std::move(on_result)));
    }
    /// describe_fleet_async for an event loop: the PendingFleet's fd() is readable once the
    /// outcome is ready, and take() takes it (wait() and wait_for() block for it instead).
    PendingFleet describe_fleet_start(const Fleet& fleet, const Query& query = Query()) const {
        return PendingFleet(start(begin_fleet(fleet, query, false)));
    }
    /// describe_fleet_pages() without blocking: the FleetPageCall hands the pages of every place
    /// out one by one, as they come, with next_page() (without waiting; fd() is readable while it
    /// has one, or the end) or wait_next_page(); each page names its place (TaskList::region(),
    /// TaskList::account(): nullopt for the client's own credentials). Once the end is reached,
    /// take_fleet() gives every place's outcome and task_count, with empty task lists. At most two
    /// pages wait for the caller and Config::max_concurrency in the listings, so memory stays
    /// bounded however slowly pages are taken. Throws at once for bad arguments, as
    /// describe_fleet_async does; the fleet and the query are copied.
    FleetPageCall describe_fleet_pages_async(const Fleet& fleet, const Query& query = Query()) const {
        return FleetPageCall(start(begin_fleet(fleet, query, true)));
    }
#endif  // STORETASKS_HPP_ASYNC

    /// Waits until the latest store task of every image in `ids` (more than 20 are polled in
    /// batches) is Completed, and returns their final state, in the order of the ids.
    /// Throws Error with Status::TaskFailed as soon as one fails (ami_id() and failure_reason()
    /// say which and why), Status::WaitTimeout when the deadline passes (the message gives each
    /// AMI's last state), Status::NotFound when an image has no task after the grace period
    /// (ami_id() names it), Status::Cancelled when `cancel` fires or the progress callback returns
    /// false, or the status of an error that is not retried. Throttling, network errors, timeouts
    /// and 5xx replies are retried at the next poll. Blocks the calling thread.
    TaskList wait(const std::vector<std::string>& ids, const WaitOptions& options = WaitOptions(),
                  const Cancel* cancel = nullptr) const {
        const std::vector<const char*> ptrs = detail::wait_ids(ids);
        return run_wait(options, cancel, [&](const storetasks_wait_options* o, const storetasks_cancel* k,
                                             storetasks_task_list** list, storetasks_error** err) {
            return storetasks_client_wait(p_.get(), ptrs.data(), ptrs.size(), o, k, list, err);
        });
    }

    /// wait() for images in several regions and accounts: each poll asks every (account, region)
    /// place of `targets` for its images at once, and each role is assumed once per call. Returns
    /// the final tasks in the order of `targets` (a target given twice, once); the progress
    /// callback sees them in that order too. Ends as wait() does; when the targets span more than
    /// one place, messages name an image "REGION/ami-..." ("ACCOUNT/REGION/ami-..." in a role's
    /// account) and ami_id() holds the bare id. A place's throttling or network error means
    /// another poll; any other error of a place (denied, for instance) ends the wait with its
    /// status and a message that starts with the place ("REGION: "). Throws
    /// Status::InvalidArgument, before anything is sent, for no targets, an empty or blank
    /// image id, a region name or role ARN the library refuses (with its reason), or a string
    /// holding a NUL character. Blocks the calling thread.
    TaskList wait_targets(const std::vector<WaitTarget>& targets, const WaitOptions& options = WaitOptions(),
                          const Cancel* cancel = nullptr) const {
        const std::vector<storetasks_wait_target> c = detail::wait_targets(targets);
        return run_wait(options, cancel, [&](const storetasks_wait_options* o, const storetasks_cancel* k,
                                             storetasks_task_list** list, storetasks_error** err) {
            return storetasks_client_wait_targets(p_.get(), c.data(), c.size(), o, k, list, err);
        });
    }

#ifdef STORETASKS_HPP_ASYNC
    /// wait() without blocking: starts the wait and returns at once. The AsyncList owns the call;
    /// its get() waits for the final tasks wait() would have returned, in the order of the ids,
    /// or throws the Error it would have thrown (Status::TaskFailed, WaitTimeout, NotFound, the
    /// status of an error that is not retried; Status::Cancelled for a call stopped by cancel()).
    /// The ids and `options` are copied at the start, but `options.progress` is not called: a
    /// wait that does not block reports only its end. Bad arguments (no ids, an empty id, bad
    /// delays) throw Error(Status::InvalidArgument) here, as wait() throws them, and nothing is
    /// sent. Any number of waits may run at once on one client, without a thread each.
    AsyncList wait_async(const std::vector<std::string>& ids, const WaitOptions& options = WaitOptions()) const {
        return async_call<TaskList>(begin_wait(ids, options));
    }
    /// wait_async with a callback instead of a future: `on_result(Result)` receives the outcome
    /// once, on one of the library's threads, with the rules of describe_async(query, on_result).
    Call wait_async(const std::vector<std::string>& ids, const WaitOptions& options,
                    std::function<void(Result)> on_result) const {
        return start(begin_wait(ids, options), deliver(std::move(on_result)));
    }
    /// wait_async for an event loop: the PendingCall's fd() is readable once the wait has ended,
    /// and take() takes its outcome (wait() and wait_for() block for it instead).
    PendingCall wait_start(const std::vector<std::string>& ids, const WaitOptions& options = WaitOptions()) const {
        return PendingCall(start(begin_wait(ids, options)));
    }
    /// wait_targets() without blocking, as wait_async: get() gives the final tasks in the order
    /// of `targets`, or throws what wait_targets() would have thrown. The targets are copied at
    /// the start; bad ones throw here, as wait_targets() throws them.
    AsyncList wait_targets_async(const std::vector<WaitTarget>& targets,
                                 const WaitOptions& options = WaitOptions()) const {
        return async_call<TaskList>(begin_wait(targets, options));
    }
    /// wait_targets_async with a callback, as wait_async(ids, options, on_result).
    Call wait_targets_async(const std::vector<WaitTarget>& targets, const WaitOptions& options,
                            std::function<void(Result)> on_result) const {
        return start(begin_wait(targets, options), deliver(std::move(on_result)));
    }
    /// wait_targets_async for an event loop, as wait_start.
    PendingCall wait_targets_start(const std::vector<WaitTarget>& targets,
                                   const WaitOptions& options = WaitOptions()) const {
        return PendingCall(start(begin_wait(targets, options)));
    }
#endif  // STORETASKS_HPP_ASYNC

    const storetasks_client* get() const noexcept { return p_.get(); }

private:
    explicit Client(const storetasks_config* config) {
        storetasks_client* client = nullptr;
        storetasks_error* err = nullptr;
        storetasks_status status = storetasks_client_new(config, &client, &err);
        detail::check(status, err);
        p_.reset(client);
    }

    /// Runs one of the library's waits for wait() and wait_targets(): builds the C options from
    /// `options` (the progress callback for the duration of the call), calls `call(options,
    /// cancel, &list, &err)`, rethrows an exception of the progress callback once the C call has
    /// returned, and throws for a failed wait.
    template <class Call>
    TaskList run_wait(const WaitOptions& options, const Cancel* cancel, Call&& call) const {
        detail::Owned<storetasks_wait_options> opts = detail::wait_options(options);
        detail::WaitContext ctx{&options.progress, nullptr};
        if (options.progress)
            detail::check_wait_option(opts.get(),
                                      storetasks_wait_options_set_progress(opts.get(), &detail::on_progress, &ctx));
        storetasks_task_list* list = nullptr;
        storetasks_error* err = nullptr;
        storetasks_status status = call(opts.get(), cancel ? cancel->get() : nullptr, &list, &err);
        if (ctx.error) {
            storetasks_task_list_free(list);
            storetasks_error_free(err);
            std::rethrow_exception(ctx.error);
        }
        detail::check(status, err);
        return TaskList::adopt(list);
    }

#ifdef STORETASKS_HPP_ASYNC
    detail::ListStart begin_list(const Query& query, std::optional<std::size_t> max_tasks) const {
        return detail::ListStart{p_.get(), query.get(), max_tasks};
    }

    /// The start of a wait: the ids, then the options, are checked as wait() checks them.
    detail::WaitStart begin_wait(const std::vector<std::string>& ids, const WaitOptions& options) const {
        return detail::WaitStart{p_.get(), detail::wait_ids(ids), std::nullopt, detail::wait_options(options)};
    }
    /// The start of a wait across places: the targets, then the options, are checked as
    /// wait_targets() checks them.
    detail::WaitStart begin_wait(const std::vector<WaitTarget>& targets, const WaitOptions& options) const {
        return detail::WaitStart{p_.get(), {}, detail::wait_targets(targets), detail::wait_options(options)};
    }

    detail::FleetStart begin_fleet(const Fleet& fleet, const Query& query, bool pages) const {
        return detail::FleetStart{p_.get(), fleet.get(), query.get(), pages};
    }

    /// Starts a call through `begin` (a detail::ListStart, or the like) with the wrapper's callback, which runs
    /// `react` (when not empty) each time the call has news; throws when the call cannot start.
    template <class Begin>
    static Call start(Begin&& begin, std::function<void(storetasks_call*)> react = {}) {
        auto state = std::make_shared<detail::CallState>();
        state->react = std::move(react);
        storetasks_call* call = nullptr;
        storetasks_error* err = nullptr;
        const storetasks_status status = begin(&detail::on_call, static_cast<void*>(state.get()), &call, &err);
        detail::check(status, err);
        return Call(std::move(state), call);
    }

    /// Starts a call whose outcome (a T: TaskList or FleetResult) the callback sets on an
    /// AsyncCall's promise.
    template <class T, class Begin>
    static AsyncCall<T> async_call(Begin&& begin) {
        auto promised = std::make_shared<detail::Promised<T>>();
        // Taken before the start: once started, the callback may set the promise on another thread.
        std::future<T> future = promised->promise.get_future();
        Call call = start(std::forward<Begin>(begin),
                          [promised](storetasks_call* c) { promised->settle(detail::take_outcome<T>(c)); });
        return AsyncCall<T>(std::move(call), std::move(promised), std::move(future));
    }

    /// The callback of the callback forms: takes the outcome and hands it to `on_result`, keeping
    /// its exceptions from the library's thread.
    template <class T>
    static std::function<void(storetasks_call*)> deliver(std::function<void(Outcome<T>)> on_result) {
        if (!on_result)
            throw Error(Status::InvalidArgument, "the result callback given to an _async call is an empty std::function");
        return [on_result = std::move(on_result)](storetasks_call* c) {
            Outcome<T> result = detail::take_outcome<T>(c);
            try {
                on_result(std::move(result));
            } catch (...) {
                // Nobody to hand it to: the call has no caller waiting.
            }
        };
    }
#endif  // STORETASKS_HPP_ASYNC

    TaskList describe(const storetasks_query* query, const Cancel* cancel) const {
        storetasks_task_list* list = nullptr;
        storetasks_error* err = nullptr;
        storetasks_status status = storetasks_client_describe(p_.get(), query, cancel ? cancel->get() : nullptr, &list, &err);
        detail::check(status, err);
        return TaskList::adopt(list);
    }

    FleetResult describe_fleet(const Fleet& fleet, const storetasks_query* query, const Cancel* cancel) const {
        storetasks_fleet_result* result = nullptr;
        storetasks_error* err = nullptr;
        storetasks_status status = storetasks_client_describe_fleet(p_.get(), fleet.get(), query,
                                                                    cancel ? cancel->get() : nullptr, &result, &err);
        detail::check(status, err);
        return FleetResult::adopt(result);
    }

    detail::Owned<storetasks_client> p_;
};

}  // namespace storetasks

#endif  // STORETASKS_HPP
