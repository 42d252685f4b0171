/*
 * storetasks.h: the C API of libstoretasks, the progress of Amazon EC2 AMI store-to-S3 tasks
 * (DescribeStoreImageTasks).
 *
 * Generated from the library's source by cbindgen; do not edit by hand.
 *
 * Conventions:
 *  - Fallible functions return a storetasks_status. Out-parameters are written only on success.
 *    When a call fails and its `err` argument is not NULL, *err receives an error object to free
 *    with storetasks_error_free.
 *  - Every object the library allocates is freed by its own storetasks_*_free function, each of
 *    which accepts NULL.
 *  - Strings passed in are NUL-terminated UTF-8 and copied when kept. Strings returned are
 *    NUL-terminated UTF-8 borrowed from their owner until it is freed, unless a function says
 *    otherwise.
 */

#ifndef STORETASKS_H
#define STORETASKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
/*
 * STORETASKS_API marks every function. On Windows it imports them from storetasks.dll, unless
 * STORETASKS_STATIC is defined to link the static library (storetasks.lib) instead.
 */
#ifndef STORETASKS_API
#  if defined(_WIN32) && !defined(STORETASKS_STATIC)
#    define STORETASKS_API __declspec(dllimport)
#  else
#    define STORETASKS_API
#  endif
#endif


/**
 * The library's major version; the SONAME changes when it does.
 */
#define STORETASKS_VERSION_MAJOR 0

/**
 * The library's minor version.
 */
#define STORETASKS_VERSION_MINOR 1

/**
 * The library's patch version.
 */
#define STORETASKS_VERSION_PATCH 0

/**
 * The largest value `storetasks_config_set_max_concurrency` takes.
 */
#define STORETASKS_MAX_CONCURRENCY 1024

/**
 * The largest number of attempts `storetasks_config_set_retry` takes.
 */
#define STORETASKS_MAX_ATTEMPTS 100

/**
 * The outcome of a call. The numbers are fixed and never reused.
 */
typedef enum storetasks_status {
    /**
     * Success.
     */
    STORETASKS_STATUS_OK = 0,
    /**
     * The dry run would have succeeded (EC2's `DryRunOperation`).
     */
    STORETASKS_STATUS_DRY_RUN_OK = 1,
    /**
     * A bad argument: NULL where a value is needed, invalid UTF-8, a value out of range.
     */
    STORETASKS_STATUS_INVALID_ARGUMENT = 2,
    /**
     * The credentials were refused or lack permission (`UnauthorizedOperation`, `AuthFailure`...).
     */
    STORETASKS_STATUS_UNAUTHORIZED = 3,
    /**
     * Still throttled after every retry (`RequestLimitExceeded`...).
     */
    STORETASKS_STATUS_THROTTLED = 4,
    /**
     * A connect, attempt or operation timeout expired.
     */
    STORETASKS_STATUS_TIMEOUT = 5,
    /**
     * The connection failed or was dropped, a proxy refused it (the message names the proxy), or
     * a gateway on the way answered 502, 503 or 504 with a reply that is not EC2's (the error
     * object has the HTTP status and no AWS code).
     */
    STORETASKS_STATUS_NETWORK = 6,
    /**
     * Any other error code from the service (see the error object's code), or an error status
     * with a reply that is not EC2's, such as a load balancer's HTML page: then the error object
     * has the HTTP status and no AWS code, and the message quotes the start of the reply's text.
     */
    STORETASKS_STATUS_SERVICE = 7,
    /**
     * A reply that could not be understood (malformed, truncated, looping pagination).
     */
    STORETASKS_STATUS_RESPONSE = 8,
    /**
     * Cancelled through a cancellation token.
     */
    STORETASKS_STATUS_CANCELLED = 9,
    /**
     * A panic inside the library was caught; the library is still usable.
     */
    STORETASKS_STATUS_PANIC = 10,
    /**
     * The client could not be configured (no region, unreadable CA bundle...).
     */
    STORETASKS_STATUS_CONFIG = 11,
    /**
     * No usable credentials were found.
     */
    STORETASKS_STATUS_CREDENTIALS = 12,
    /**
     * A waited-for store task failed; the error object names the AMI and the reason.
     */
    STORETASKS_STATUS_TASK_FAILED = 13,
    /**
     * A wait's deadline passed; the message gives the last seen state of each AMI.
     */
    STORETASKS_STATUS_WAIT_TIMEOUT = 14,
    /**
     * A waited-for image had no store task for longer than the grace period; the error object
     * names the AMI.
     */
    STORETASKS_STATUS_NOT_FOUND = 15,
    /**
     * A call started with a `_start` function has nothing to take yet; no error object is made.
     */
    STORETASKS_STATUS_PENDING = 16,
} storetasks_status;

/**
 * A store task's state.
 */
typedef enum storetasks_task_state {
    /**
     * A state this library does not know (see `state_raw`), or none was sent (`state_raw` NULL).
     */
    STORETASKS_TASK_STATE_UNKNOWN = 0,
    /**
     * The copy to S3 is running.
     */
    STORETASKS_TASK_STATE_IN_PROGRESS = 1,
    /**
     * The copy finished.
     */
    STORETASKS_TASK_STATE_COMPLETED = 2,
    /**
     * The copy failed; see `failure_reason`.
     */
    STORETASKS_TASK_STATE_FAILED = 3,
} storetasks_task_state;

/**
 * How failed attempts are retried.
 */
typedef enum storetasks_retry_mode {
    /**
     * What the environment or profile says, else the SDK's standard mode.
     */
    STORETASKS_RETRY_MODE_DEFAULT = 0,
    /**
     * Exponential backoff with jitter and a retry quota.
     */
    STORETASKS_RETRY_MODE_STANDARD = 1,
    /**
     * Standard, plus client-side rate limiting when throttled.
     */
    STORETASKS_RETRY_MODE_ADAPTIVE = 2,
} storetasks_retry_mode;

/**
 * Log levels, from the least to the most verbose.
 */
typedef enum storetasks_log_level {
    /**
     * Failures.
     */
    STORETASKS_LOG_LEVEL_ERROR = 1,
    /**
     * Problems the library worked around (a retried request, a slow reply).
     */
    STORETASKS_LOG_LEVEL_WARN = 2,
    /**
     * Notable events.
     */
    STORETASKS_LOG_LEVEL_INFO = 3,
    /**
     * What the library does: clients made, pages received, polls.
     */
    STORETASKS_LOG_LEVEL_DEBUG = 4,
    /**
     * Everything, the AWS SDK's own events included.
     */
    STORETASKS_LOG_LEVEL_TRACE = 5,
} storetasks_log_level;

/**
 * A call running on a client's threads. Opaque; made by a `storetasks_client_*_start` function,
 * freed once with `storetasks_call_free`. Its other functions may be called from any thread, its
 * callback's included.
 */
typedef struct storetasks_call storetasks_call;

/**
 * A cancellation token: pass it to a call, trigger it from any thread to end that call with
 * `STORETASKS_STATUS_CANCELLED`. Once triggered it stays triggered. Thread-safe.
 */
typedef struct storetasks_cancel storetasks_cancel;

/**
 * A client: its own runtime, connection pool and credentials. Opaque; create with
 * `storetasks_client_new`, free with `storetasks_client_free`. Safe to share between threads:
 * any number of calls may run on one client at the same time.
 */
typedef struct storetasks_client storetasks_client;

/**
 * A client configuration being built. Opaque; create with `storetasks_config_new`, free with
 * `storetasks_config_free`. Not safe to change from two threads at once.
 */
typedef struct storetasks_config storetasks_config;

/**
 * The details of a failed call. Created by the library, freed with `storetasks_error_free`.
 */
typedef struct storetasks_error storetasks_error;

/**
 * Where a fleet call runs: regions (a list, or every region enabled for the account) and,
 * optionally, IAM roles to assume, one per account. Opaque; create with `storetasks_fleet_new`,
 * free with `storetasks_fleet_free`. Not safe to change from two threads at once; once built it
 * may be used by many calls at the same time, but it must not be changed or freed while a call
 * that was given it is running (the call reads it at its start and may read it again).
 */
typedef struct storetasks_fleet storetasks_fleet;

/**
 * The outcome of a fleet call: one entry per (account, region) place, in order (accounts in
 * the order their roles were added, then regions in the order added, or by name for all
 * regions). Each entry has its tasks, or the error that ended its listing. Opaque; freed with
 * `storetasks_fleet_result_free`. Read-only, so any number of threads may read it at once,
 * including the task lists and error objects it lends (the one-thread-at-a-time rule of error
 * objects is for those a call hands over, which the caller may free).
 */
typedef struct storetasks_fleet_result storetasks_fleet_result;

/**
 * The parameters of a DescribeStoreImageTasks call. Opaque; create with `storetasks_query_new`,
 * free with `storetasks_query_free`. Not safe to change from two threads at once; once built it
 * may be used by many calls on many threads at the same time.
 */
typedef struct storetasks_query storetasks_query;

/**
 * An owned list of tasks and the token of the next page. Opaque; freed with
 * `storetasks_task_list_free`. Read-only, so any number of threads may read it at once.
 */
typedef struct storetasks_task_list storetasks_task_list;

/**
 * How to wait. Opaque; create with `storetasks_wait_options_new`, free with
 * `storetasks_wait_options_free`. Not safe to change from two threads at once.
 */
typedef struct storetasks_wait_options storetasks_wait_options;

/**
 * Run on one of the library's threads each time `call` has something new for its caller: its
 * result (once), or a page or the end of a page-by-page call; never before the start function has
 * returned the call. It may take what is ready, start other calls, and free `call` itself (its
 * caller then no longer uses that pointer). It must return quickly (the thread serves other
 * calls) and normally (no C++ exception or `longjmp` may leave it), must not free any other call,
 * and makes no blocking call: those are refused with INVALID_ARGUMENT on the library's threads.
 */
typedef void (*storetasks_call_callback)(struct storetasks_call *call, void *user_data);

/**
 * One image to wait for in `storetasks_client_wait_targets`, and where its store task runs.
 */
typedef struct storetasks_wait_target {
    /**
     * The region, such as "eu-west-3"; NULL for the client's region.
     */
    const char *region;
    /**
     * The IAM role to assume for the image's account (`arn:aws:iam::ACCOUNT:role/NAME`); NULL for
     * the client's own credentials.
     */
    const char *role_arn;
    /**
     * The AMI id.
     */
    const char *image_id;
} storetasks_wait_target;

/**
 * Called once per page by `storetasks_client_describe_pages`, on the calling thread. `page` is
 * borrowed for the duration of the call only. Return true to go on, false to stop.
 * It must return normally: a C++ exception or a `longjmp` must not leave it (the C++ wrapper
 * catches exceptions inside its callbacks and rethrows them after the call returns). It must
 * not free the client, the query or the cancel token of the call it runs under.
 */
typedef bool (*storetasks_page_callback)(const struct storetasks_task_list *page, void *user_data);

/**
 * Called once per page by `storetasks_client_describe_fleet_pages`, on the calling thread, with
 * the page's region and account (NULL for the client's own credentials). The strings and `page`
 * are borrowed for the duration of the call only. Return true to go on, false to stop every
 * listing. It must return normally (no C++ exception or `longjmp` may leave it), and must not
 * free the client, the fleet, the query or the cancel token of the call it runs under (it may
 * trigger the token: no page reaches it after that, and the call returns CANCELLED).
 */
typedef bool (*storetasks_fleet_page_callback)(const char *region,
                                               const char *account,
                                               const struct storetasks_task_list *page,
                                               void *user_data);

/**
 * Receives one log event: its level (a `storetasks_log_level`), its target (the Rust module
 * that logged it, such as "storetasks::describe_store_image_tasks::paginate" or "aws_smithy_runtime::client::orchestrator")
 * and its message, both borrowed for the duration of the call. Secrets of live clients are
 * masked. Called from any thread, including the library's worker threads, possibly from
 * several at once: it must be thread-safe, must not call back into the library, and must return
 * normally (no C++ exception, no `longjmp` out of it).
 */
typedef void (*storetasks_log_callback)(int32_t level,
                                        const char *target,
                                        const char *message,
                                        void *user_data);

/**
 * One store task, read-only. Its strings are NUL-terminated UTF-8, NULL when EC2 left the member
 * out, and live as long as the list that holds the task.
 */
typedef struct storetasks_task {
    /**
     * The AMI id ("ami-..."), or NULL.
     */
    const char *ami_id;
    /**
     * The S3 bucket, or NULL.
     */
    const char *bucket;
    /**
     * The S3 object key, or NULL.
     */
    const char *s3_object_key;
    /**
     * Why the task failed, or NULL.
     */
    const char *failure_reason;
    /**
     * The state exactly as EC2 sent it, or NULL.
     */
    const char *state_raw;
    /**
     * When the task started, in milliseconds since the Unix epoch; valid if `has_task_start_time`.
     */
    int64_t task_start_time_ms;
    /**
     * Progress in percent as EC2 sent it (0 to 100 from EC2; passed through unchanged, so a value
     * outside that range is the service's, and a progress bar should clamp it); valid if
     * `has_progress_percentage`.
     */
    int32_t progress_percentage;
    /**
     * The state.
     */
    enum storetasks_task_state state;
    /**
     * Whether `task_start_time_ms` holds a value.
     */
    bool has_task_start_time;
    /**
     * Whether `progress_percentage` holds a value.
     */
    bool has_progress_percentage;
} storetasks_task;

/**
 * Called after each successful poll of `storetasks_client_wait`, on the calling thread, with the
 * latest task of each waited-for image that has one, in the order the ids were given. `tasks`
 * is borrowed for the duration of the call. Return true to keep waiting, false to stop (the
 * wait then ends with `STORETASKS_STATUS_CANCELLED`). It must return normally: a C++ exception
 * or a `longjmp` must not leave it.
 */
typedef bool (*storetasks_progress_callback)(const struct storetasks_task_list *tasks,
                                             void *user_data);

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

/**
 * The library's version as "MAJOR.MINOR.PATCH".
 *
 * Returns a static NUL-terminated string: never NULL, never to be freed. Thread-safe.
 */
STORETASKS_API const char *storetasks_version(void);

/**
 * Frees a string the library returned (such as JSON). NULL is ignored.
 *
 * Only for strings whose documentation says to free them with this function. Thread-safe.
 */
STORETASKS_API void storetasks_string_free(char *s);

/**
 * Starts fetching one page, as `storetasks_client_describe` does, and returns at once.
 *
 * `query` may be NULL (every task, EC2's page size). `callback` may be NULL (then wait on
 * `storetasks_call_fd`); `user_data` is passed to it untouched. Arguments are checked before
 * anything starts: a bad one fails here, as in the blocking call, and nothing runs. On success
 * `*call_out` is a new call that the caller frees with `storetasks_call_free` (the callback may
 * already be running by the time this returns); take its list with `storetasks_call_take_list`.
 * Thread-safe: any number of calls may be started and run on one client at once.
 */
STORETASKS_API
enum storetasks_status storetasks_client_describe_start(const struct storetasks_client *client,
                                                        const struct storetasks_query *query,
                                                        storetasks_call_callback callback,
                                                        void *user_data,
                                                        struct storetasks_call **call_out,
                                                        struct storetasks_error **err);

/**
 * Starts fetching every page, as `storetasks_client_describe_all` does (`max_tasks` 0: no cap),
 * and returns at once. Arguments, callback and ownership as for
 * `storetasks_client_describe_start`.
 */
STORETASKS_API
enum storetasks_status storetasks_client_describe_all_start(const struct storetasks_client *client,
                                                            const struct storetasks_query *query,
                                                            size_t max_tasks,
                                                            storetasks_call_callback callback,
                                                            void *user_data,
                                                            struct storetasks_call **call_out,
                                                            struct storetasks_error **err);

/**
 * Starts a listing page by page, as `storetasks_client_describe_pages` makes it (`max_tasks` 0:
 * no cap), and returns at once; take its pages with `storetasks_call_next_page`. At most two
 * pages wait for the caller: the listing waits for room (holding no thread), so memory stays
 * bounded however slowly pages are taken. Arguments, callback and ownership as for
 * `storetasks_client_describe_start`; the callback runs for every page and for the end.
 */
STORETASKS_API
enum storetasks_status storetasks_client_describe_pages_start(const struct storetasks_client *client,
                                                              const struct storetasks_query *query,
                                                              size_t max_tasks,
                                                              storetasks_call_callback callback,
                                                              void *user_data,
                                                              struct storetasks_call **call_out,
                                                              struct storetasks_error **err);

/**
 * Starts a wait, as `storetasks_client_wait` makes it, and returns at once; its list (the tasks
 * of the end, in the order of `image_ids`) is taken with `storetasks_call_take_list`, and a wait
 * that ends otherwise gives the blocking wait's status and error there. The ids and `options`
 * (NULL: defaults) are copied at the start; the options' progress callback is not called by a
 * wait that does not block. Arguments are checked before anything starts; callback and
 * ownership as for `storetasks_client_describe_start`.
 */
STORETASKS_API
enum storetasks_status storetasks_client_wait_start(const struct storetasks_client *client,
                                                    const char *const *image_ids,
                                                    size_t image_ids_len,
                                                    const struct storetasks_wait_options *options,
                                                    storetasks_call_callback callback,
                                                    void *user_data,
                                                    struct storetasks_call **call_out,
                                                    struct storetasks_error **err);

/**
 * Starts a wait across places, as `storetasks_client_wait_targets` makes it, and returns at once.
 * Results, copies, checks, callback and ownership as for `storetasks_client_wait_start`.
 */
STORETASKS_API
enum storetasks_status storetasks_client_wait_targets_start(const struct storetasks_client *client,
                                                            const struct storetasks_wait_target *targets,
                                                            size_t targets_len,
                                                            const struct storetasks_wait_options *options,
                                                            storetasks_call_callback callback,
                                                            void *user_data,
                                                            struct storetasks_call **call_out,
                                                            struct storetasks_error **err);

/**
 * Starts a fleet listing, as `storetasks_client_describe_fleet` makes it, and returns at once;
 * take its result with `storetasks_call_take_fleet`. The fleet and the query are copied at the
 * start. Arguments are checked before anything starts; callback and ownership as for
 * `storetasks_client_describe_start`.
 */
STORETASKS_API
enum storetasks_status storetasks_client_describe_fleet_start(const struct storetasks_client *client,
                                                              const struct storetasks_fleet *fleet,
                                                              const struct storetasks_query *query,
                                                              storetasks_call_callback callback,
                                                              void *user_data,
                                                              struct storetasks_call **call_out,
                                                              struct storetasks_error **err);

/**
 * Starts a fleet listing whose pages come one by one, as `storetasks_client_describe_fleet_pages`
 * hands them to its callback, and returns at once. Take the pages with
 * `storetasks_call_next_page` (each names its place: `storetasks_task_list_region` and
 * `storetasks_task_list_account`); once that gives NULL, `storetasks_call_take_fleet` gives each
 * place's outcome and count of tasks, with empty lists. At most two pages wait for the caller in
 * the call and `max_concurrency` in the listings, which then wait for room (holding no thread),
 * so memory stays bounded however slowly pages are taken. Stopping early is
 * `storetasks_call_cancel` (the call then ends as CANCELLED) or `storetasks_call_free`. The
 * fleet and the query are copied at the start. Arguments are checked before anything starts;
 * callback and ownership as for `storetasks_client_describe_start`; the callback runs for every
 * page and for the end.
 */
STORETASKS_API
enum storetasks_status storetasks_client_describe_fleet_pages_start(const struct storetasks_client *client,
                                                                    const struct storetasks_fleet *fleet,
                                                                    const struct storetasks_query *query,
                                                                    storetasks_call_callback callback,
                                                                    void *user_data,
                                                                    struct storetasks_call **call_out,
                                                                    struct storetasks_error **err);

/**
 * A descriptor that is readable while `call` has something for its caller (its result, a page,
 * or the end), for an event loop to wait on (`poll`, `epoll`, asyncio's `add_reader`, libuv's
 * `uv_poll`). It stays readable until everything ready was taken, so with edge-triggered waiting
 * take until `STORETASKS_STATUS_PENDING` after each wake-up. Owned by the call: never read, write
 * or close it, and stop watching it before `storetasks_call_free` (it is closed then or soon
 * after). Each call holds two descriptors of the process. -1 for NULL, and on Windows, where the
 * callback is the way to learn of news. Thread-safe.
 */
STORETASKS_API int32_t storetasks_call_fd(const struct storetasks_call *call);

/**
 * Whether `call` has ended with nothing left before its end: for a list, its result is ready
 * (or was taken); for pages, every page was taken and the end is ready (or was taken). False
 * for NULL. Thread-safe.
 */
STORETASKS_API bool storetasks_call_finished(const struct storetasks_call *call);

/**
 * Stops `call`: unless it has already ended, it ends as `STORETASKS_STATUS_CANCELLED` soon (its
 * callback runs and its descriptor becomes readable then). NULL is ignored. Thread-safe, and safe
 * inside the call's callback.
 */
STORETASKS_API void storetasks_call_cancel(const struct storetasks_call *call);

/**
 * Takes the list of a call started by `storetasks_client_describe_start`,
 * `storetasks_client_describe_all_start`, `storetasks_client_wait_start` or
 * `storetasks_client_wait_targets_start`.
 *
 * `STORETASKS_STATUS_PENDING` (and nothing written) while the call runs. Once it has ended: on
 * success `*list_out` is the new list the blocking call would have returned, which the caller
 * frees with `storetasks_task_list_free`; on failure the blocking call's status, and `*err` (when
 * `err` is not NULL) receives its error object. Only once: afterwards, and for a call of another
 * kind, INVALID_ARGUMENT. Thread-safe.
 */
STORETASKS_API
enum storetasks_status storetasks_call_take_list(struct storetasks_call *call,
                                                 struct storetasks_task_list **list_out,
                                                 struct storetasks_error **err);

/**
 * As `storetasks_call_take_list`, for a call started by `storetasks_client_describe_fleet_start`:
 * what it hands over is the fleet result the blocking call would have returned, which the caller
 * frees with `storetasks_fleet_result_free`. For a call started by
 * `storetasks_client_describe_fleet_pages_start`, the same once the listing has ended (each
 * place's outcome and count of tasks, with empty lists), whether or not its pages were taken.
 */
STORETASKS_API
enum storetasks_status storetasks_call_take_fleet(struct storetasks_call *call,
                                                  struct storetasks_fleet_result **result_out,
                                                  struct storetasks_error **err);

/**
 * Takes the next page of a call started by `storetasks_client_describe_pages_start` or
 * `storetasks_client_describe_fleet_pages_start`.
 *
 * `STORETASKS_STATUS_PENDING` (and nothing written) while no page is ready and the listing has
 * not ended. Otherwise OK with `*page_out` set to the next page (a new list the caller frees with
 * `storetasks_task_list_free`), or to NULL at the end of the listing (and at every call after
 * it); or, once, the status and error object of what ended the listing early (the pages before
 * it stay delivered). A fleet listing's page names its place (`storetasks_task_list_region`,
 * `storetasks_task_list_account`); its end is not taken here: once this gives NULL, take the
 * fleet result with `storetasks_call_take_fleet`. INVALID_ARGUMENT for a call that delivers one
 * result. Thread-safe.
 */
STORETASKS_API
enum storetasks_status storetasks_call_next_page(struct storetasks_call *call,
                                                 struct storetasks_task_list **page_out,
                                                 struct storetasks_error **err);

/**
 * Frees `call`, stopping it first if it is still running; its callback does not run for the end
 * this brings. NULL is ignored. It returns at once, except when the call's callback is running on
 * another thread at that moment: then it waits for that callback to return, so that nothing the
 * callback uses is freed under it (so do not call it while holding anything that callback waits
 * for). Inside the call's own callback, it frees the call without waiting (the callback must not
 * use it after). What the call produced and nobody took is freed with it. Once per call.
 */
STORETASKS_API void storetasks_call_free(struct storetasks_call *call);

/**
 * A new, untriggered token. The caller owns it and frees it with `storetasks_cancel_free`, after
 * every call using it has returned. Returns NULL only if memory ran out. Thread-safe.
 */
STORETASKS_API struct storetasks_cancel *storetasks_cancel_new(void);

/**
 * Triggers the token: calls using it end promptly with `STORETASKS_STATUS_CANCELLED`, and calls
 * started with it later end at once. NULL is ignored. Safe to call from any thread, and more than once.
 */
STORETASKS_API
void storetasks_cancel_trigger(const struct storetasks_cancel *cancel);

/**
 * Whether the token was triggered. False for NULL. Thread-safe.
 */
STORETASKS_API bool storetasks_cancel_is_triggered(const struct storetasks_cancel *cancel);

/**
 * Frees a token. NULL is ignored. No call may still be using it.
 */
STORETASKS_API void storetasks_cancel_free(struct storetasks_cancel *cancel);

/**
 * Creates a client from `config` (copied; NULL means the standard AWS defaults for everything).
 *
 * With an explicit region and credentials it is ready in milliseconds and contacts nothing.
 * On success `*client_out` is a new client that the caller frees with `storetasks_client_free`;
 * on failure it is left untouched and `*err` (when `err` is not NULL) receives an error object
 * to free with `storetasks_error_free`. Thread-safe.
 */
STORETASKS_API
enum storetasks_status storetasks_client_new(const struct storetasks_config *config,
                                             struct storetasks_client **client_out,
                                             struct storetasks_error **err);

/**
 * Frees a client, closing its connections and stopping its threads. NULL is ignored. No blocking
 * call may still be running on it; calls started with a `_start` function that are still running
 * end as `STORETASKS_STATUS_CANCELLED`, and their callbacks may run while this function runs or
 * after it returns: they must not use this client (each call is still freed with
 * `storetasks_call_free`). Safe to call from any thread, including one inside a tokio runtime.
 * It waits for the library's threads to end, up to 5 seconds (a request still being answered is
 * dropped then); inside a tokio runtime it returns at once and they end in the background.
 */
STORETASKS_API void storetasks_client_free(struct storetasks_client *client);

/**
 * Fetches one page: the tasks of one DescribeStoreImageTasks request (for more than 20 image
 * ids, of all the requests they were split into, merged newest first) and the next token.
 *
 * `query` may be NULL (every task, EC2's page size); `cancel` may be NULL. Blocks until done.
 * On success `*list_out` is a new list the caller frees with `storetasks_task_list_free`; on
 * failure it is left untouched and `*err` (when `err` is not NULL) receives an error object.
 * Thread-safe: many threads may call this on one client at once.
 */
STORETASKS_API
enum storetasks_status storetasks_client_describe(const struct storetasks_client *client,
                                                  const struct storetasks_query *query,
                                                  const struct storetasks_cancel *cancel,
                                                  struct storetasks_task_list **list_out,
                                                  struct storetasks_error **err);

/**
 * Fetches every page, following NextToken from the query's token to the end, into one list.
 *
 * `max_tasks` caps the number of tasks (0: no cap); when the cap ends the listing early, the
 * list's next token resumes it exactly after the last task returned. Where no token can do that
 * (a query with image ids, which EC2 answers without tokens, or a service that sent more tasks
 * than MaxResults asked for), the list has no token and `storetasks_task_list_truncated` is
 * true: the cap cut tasks out that this list does not hold. A service that repeats a
 * token ends the call with `STORETASKS_STATUS_RESPONSE`. Ownership, NULL handling and thread
 * safety as for `storetasks_client_describe`.
 */
STORETASKS_API
enum storetasks_status storetasks_client_describe_all(const struct storetasks_client *client,
                                                      const struct storetasks_query *query,
                                                      size_t max_tasks,
                                                      const struct storetasks_cancel *cancel,
                                                      struct storetasks_task_list **list_out,
                                                      struct storetasks_error **err);

/**
 * Lists page by page: `callback` receives each page as it arrives (on the calling thread) and
 * returns false to stop (the next page may already be on its way, and is dropped), so a listing of
 * any size needs memory for a few pages only: the next page is fetched while the callback runs.
 *
 * `max_tasks` caps the number of tasks (0: no cap; the page that reaches the cap is cut, as for
 * `storetasks_client_describe_all`). `user_data` is passed through untouched.
 * Returns OK when the listing ended or the callback stopped it; on failure `*err` (when `err`
 * is not NULL) receives an error object, and pages already delivered stay delivered.
 */
STORETASKS_API
enum storetasks_status storetasks_client_describe_pages(const struct storetasks_client *client,
                                                        const struct storetasks_query *query,
                                                        size_t max_tasks,
                                                        const struct storetasks_cancel *cancel,
                                                        storetasks_page_callback callback,
                                                        void *user_data,
                                                        struct storetasks_error **err);

/**
 * A new configuration with the AWS defaults: region, credentials and settings come from the
 * environment, the shared config files and the other sources the SDK knows.
 *
 * The caller owns the result and frees it with `storetasks_config_free`. Returns NULL only if
 * memory ran out. Thread-safe.
 */
STORETASKS_API struct storetasks_config *storetasks_config_new(void);

/**
 * Frees a configuration. NULL is ignored. Clients built from it are not affected.
 */
STORETASKS_API void storetasks_config_free(struct storetasks_config *config);

/**
 * Why the most recent setter call on `config` (`storetasks_config_set_*`) did not return OK, as
 * one sentence; NULL when that call succeeded (each setter call sets or clears it), and for a
 * NULL config. Borrowed from the configuration until its next setter call or its free. Like the
 * setters, not to be called while another thread changes the same configuration.
 */
STORETASKS_API const char *storetasks_config_last_error(const struct storetasks_config *config);

/**
 * Sets the region (such as "eu-west-1"); NULL goes back to the default chain.
 * Returns INVALID_ARGUMENT for a NULL config or invalid UTF-8.
 */
STORETASKS_API
enum storetasks_status storetasks_config_set_region(struct storetasks_config *config,
                                                    const char *region);

/**
 * Sets EC2's endpoint URL (an emulator, a VPC endpoint); NULL goes back to the default. It is
 * EC2's alone: the roles the library assumes go to STS's endpoint (see
 * `storetasks_config_set_sts_endpoint_url`).
 */
STORETASKS_API
enum storetasks_status storetasks_config_set_endpoint_url(struct storetasks_config *config,
                                                          const char *url);

/**
 * Sets the profile of the shared config files to use; NULL goes back to the default profile.
 */
STORETASKS_API
enum storetasks_status storetasks_config_set_profile(struct storetasks_config *config,
                                                     const char *profile);

/**
 * Sets static credentials. `access_key_id` and `secret_access_key` are required, `session_token`
 * may be NULL. The strings are copied. Passing NULL for both keys goes back to the default chain.
 */
STORETASKS_API
enum storetasks_status storetasks_config_set_credentials(struct storetasks_config *config,
                                                         const char *access_key_id,
                                                         const char *secret_access_key,
                                                         const char *session_token);

/**
 * Sets the retry mode (a `storetasks_retry_mode` value; others are INVALID_ARGUMENT) and the
 * maximum number of attempts (the first one included; 0 keeps the default, 1 disables retries,
 * above `STORETASKS_MAX_ATTEMPTS` is INVALID_ARGUMENT with the reason in
 * `storetasks_config_last_error`).
 */
STORETASKS_API
enum storetasks_status storetasks_config_set_retry(struct storetasks_config *config,
                                                   int32_t mode,
                                                   uint32_t max_attempts);

/**
 * Sets timeouts in milliseconds; 0 keeps a timeout's default. `connect_ms` bounds each TCP/TLS
 * connect, `attempt_ms` each attempt, `operation_ms` a whole call with its retries (for a
 * listing: each page).
 */
STORETASKS_API
enum storetasks_status storetasks_config_set_timeouts(struct storetasks_config *config,
                                                      uint64_t connect_ms,
                                                      uint64_t attempt_ms,
                                                      uint64_t operation_ms);

/**
 * Uses FIPS endpoints (true) or not (false).
 */
STORETASKS_API
enum storetasks_status storetasks_config_set_use_fips(struct storetasks_config *config,
                                                      bool use_fips);

/**
 * Uses dual-stack (IPv4 and IPv6) endpoints (true) or not (false).
 */
STORETASKS_API
enum storetasks_status storetasks_config_set_use_dual_stack(struct storetasks_config *config,
                                                            bool use_dual_stack);

/**
 * Trusts the PEM certificates in this file in addition to the system's roots (for TLS-inspecting
 * proxies). The file is read when the client is created. NULL goes back to the system roots only.
 */
STORETASKS_API
enum storetasks_status storetasks_config_set_ca_bundle(struct storetasks_config *config,
                                                       const char *pem_path);

/**
 * Sends the AssumeRole requests of the roles the library assumes itself (fleet calls, waits
 * across targets) to this URL (`http://` or `https://`, checked when the client is created).
 * Without it they go to `AWS_ENDPOINT_URL_STS`, the profile's, else STS's regional endpoint:
 * never to the EC2 endpoint URL. Roles of the profile (`role_arn`) follow the environment and
 * the profile, as the AWS CLI does. NULL removes it.
 */
STORETASKS_API
enum storetasks_status storetasks_config_set_sts_endpoint_url(struct storetasks_config *config,
                                                              const char *sts_endpoint_url);

/**
 * Sends every request (EC2, STS for roles, SSO) through the proxy `proxy_url`
 * (`http://[user:password@]host:port`, or `https://...` for a proxy reached over TLS; without a
 * scheme, `http://`), except requests to hosts that match `no_proxy` (comma-separated: `*`, a
 * host, a domain suffix, an IP address or a CIDR block; NULL: the `NO_PROXY` environment
 * variable's rules). An empty `proxy_url` sends every request directly, whatever the environment
 * says; NULL (with a NULL `no_proxy`) goes back to the environment's `HTTPS_PROXY`, `HTTP_PROXY`
 * and `NO_PROXY`. The instance metadata service is never reached through a proxy. The password
 * never appears in a message or log line.
 */
STORETASKS_API
enum storetasks_status storetasks_config_set_proxy(struct storetasks_config *config,
                                                   const char *proxy_url,
                                                   const char *no_proxy);

/**
 * Adds an application name to the user agent (letters, digits and !#$%&'*+-.^_`|~ only; checked
 * when the client is created). NULL removes it.
 */
STORETASKS_API
enum storetasks_status storetasks_config_set_app_name(struct storetasks_config *config,
                                                      const char *app_name);

/**
 * How much runs at once (default 8): the requests of 20 image ids that a longer id list is
 * split into (in each place), the places a fleet call lists, and the pages a fleet call queues
 * for its caller. From 1 to `STORETASKS_MAX_CONCURRENCY`; other values are INVALID_ARGUMENT with
 * the reason in `storetasks_config_last_error`.
 */
STORETASKS_API
enum storetasks_status storetasks_config_set_max_concurrency(struct storetasks_config *config,
                                                             size_t max_concurrency);

/**
 * The static name of a status, such as "STORETASKS_STATUS_THROTTLED".
 *
 * Returns a static string (never NULL, never to be freed); "STORETASKS_STATUS_UNKNOWN" for a
 * number that is not a status. Thread-safe.
 */
STORETASKS_API const char *storetasks_status_name(int32_t status);

/**
 * The status of the failed call. `STORETASKS_STATUS_INVALID_ARGUMENT` for a NULL error.
 */
STORETASKS_API enum storetasks_status storetasks_error_status(const struct storetasks_error *err);

/**
 * A readable message (never containing a secret). Borrowed from `err` until it is freed; NULL
 * only for a NULL error.
 */
STORETASKS_API const char *storetasks_error_message(const struct storetasks_error *err);

/**
 * The AWS error code (such as "RequestLimitExceeded"), or NULL when the failure carried none
 * (a network error, a bad argument). Borrowed from `err` until it is freed.
 */
STORETASKS_API const char *storetasks_error_code(const struct storetasks_error *err);

/**
 * The HTTP status of the reply that carried the error, or 0 when there was no reply.
 */
STORETASKS_API uint16_t storetasks_error_http_status(const struct storetasks_error *err);

/**
 * The request id of the reply, or NULL when none was sent. Borrowed from `err` until it is freed.
 */
STORETASKS_API const char *storetasks_error_request_id(const struct storetasks_error *err);

/**
 * The AMI a wait ended on (`TASK_FAILED`, `NOT_FOUND`), or NULL. Borrowed from `err` until it
 * is freed.
 */
STORETASKS_API const char *storetasks_error_ami_id(const struct storetasks_error *err);

/**
 * The failure reason EC2 gave for a failed store task (`TASK_FAILED`), or NULL. Borrowed from
 * `err` until it is freed.
 */
STORETASKS_API const char *storetasks_error_failure_reason(const struct storetasks_error *err);

/**
 * Frees an error object that a call handed over. NULL is ignored. Never pass it an error lent by
 * a fleet result (`storetasks_fleet_result_error`): the result frees those. An error object a
 * call handed over may be used by one thread at a time; one lent by a fleet result is read-only
 * and may be read by any number of threads, as the result may.
 */
STORETASKS_API void storetasks_error_free(struct storetasks_error *err);

/**
 * A new, empty fleet. Before a call it needs regions (`storetasks_fleet_add_region`) or
 * `storetasks_fleet_set_all_regions`. Without roles, the client's own credentials are used.
 *
 * The caller owns it and frees it with `storetasks_fleet_free`. NULL only if memory ran out.
 */
STORETASKS_API struct storetasks_fleet *storetasks_fleet_new(void);

/**
 * Frees a fleet. NULL is ignored.
 */
STORETASKS_API void storetasks_fleet_free(struct storetasks_fleet *fleet);

/**
 * Why the most recent setter call on `fleet` did not return OK, as one sentence; NULL when that
 * call succeeded, and for a NULL fleet. Borrowed from the fleet until its next setter call or
 * its free. Like the setters, not to be called while another thread changes the same fleet.
 */
STORETASKS_API const char *storetasks_fleet_last_error(const struct storetasks_fleet *fleet);

/**
 * Adds a region (copied), such as "eu-west-3". A region added twice is listed once.
 * INVALID_ARGUMENT for NULL, invalid UTF-8, or a name that is not a region's (lower-case
 * letters, digits and dashes).
 */
STORETASKS_API
enum storetasks_status storetasks_fleet_add_region(struct storetasks_fleet *fleet,
                                                   const char *region);

/**
 * With true, the call lists every region enabled for each account, as EC2 DescribeRegions
 * (asked in the client's region) names them; regions that are not opted in are left out. A
 * fleet may not both name regions and ask for all: the call refuses it.
 */
STORETASKS_API
enum storetasks_status storetasks_fleet_set_all_regions(struct storetasks_fleet *fleet,
                                                        bool all_regions);

/**
 * Adds an IAM role to assume (copied), `arn:aws:iam::ACCOUNT:role/NAME`: its account is listed
 * with the role's temporary credentials, which STS gives for the client's own credentials
 * (session name "libstoretasks"). With roles, the client's own account is listed only if one
 * of them is in it. INVALID_ARGUMENT for NULL, invalid UTF-8 or a string that is not a role ARN.
 */
STORETASKS_API
enum storetasks_status storetasks_fleet_add_role_arn(struct storetasks_fleet *fleet,
                                                     const char *role_arn);

/**
 * Runs the query (NULL: every task) in every (account, region) place of `fleet` at once,
 * `max_concurrency` places at a time (see `storetasks_config_set_max_concurrency`), each
 * listed to its end, and keeps every task.
 *
 * Returns OK when the places were listed, even when some or all of them failed: each place's
 * outcome in `*result_out` says whether it succeeded (`storetasks_fleet_result_error`). The call
 * itself fails with INVALID_ARGUMENT for a fleet without regions, with both regions and all
 * regions, or a query with a NextToken (a token belongs to one region), and with CANCELLED when
 * `cancel` fires. On success `*result_out` is a new result the caller frees with
 * `storetasks_fleet_result_free`; on failure it is left untouched and `*err` (when `err` is not
 * NULL) receives an error object. Thread-safe.
 */
STORETASKS_API
enum storetasks_status storetasks_client_describe_fleet(const struct storetasks_client *client,
                                                        const struct storetasks_fleet *fleet,
                                                        const struct storetasks_query *query,
                                                        const struct storetasks_cancel *cancel,
                                                        struct storetasks_fleet_result **result_out,
                                                        struct storetasks_error **err);

/**
 * The streaming form of `storetasks_client_describe_fleet`: `callback` receives each page as it
 * arrives from any place, on the calling thread; at most `max_concurrency` pages wait for it, so
 * memory stays bounded whatever the fleet's size. Returning false stops every listing: the call
 * then returns OK with every outcome known by then (a place that had failed keeps its error, one
 * that had ended keeps none), and each place still running has an error of status CANCELLED
 * ("the caller stopped the call before the listing of ... had ended"), counted by
 * `storetasks_fleet_result_failed`.
 *
 * `result_out` may be NULL; otherwise it receives the outcome of every place as for
 * `storetasks_client_describe_fleet`, with empty task lists (the tasks went to the callback) and
 * each place's count of tasks delivered (`storetasks_fleet_result_task_count`). Errors, NULL
 * handling and thread safety as for `storetasks_client_describe_fleet`.
 */
STORETASKS_API
enum storetasks_status storetasks_client_describe_fleet_pages(const struct storetasks_client *client,
                                                              const struct storetasks_fleet *fleet,
                                                              const struct storetasks_query *query,
                                                              const struct storetasks_cancel *cancel,
                                                              storetasks_fleet_page_callback callback,
                                                              void *user_data,
                                                              struct storetasks_fleet_result **result_out,
                                                              struct storetasks_error **err);

/**
 * The number of places (account, region pairs) in the result; 0 for NULL.
 */
STORETASKS_API size_t storetasks_fleet_result_len(const struct storetasks_fleet_result *result);

/**
 * The number of places whose listing failed, or did not end because the caller stopped a
 * streaming call (status CANCELLED); 0 for NULL.
 */
STORETASKS_API size_t storetasks_fleet_result_failed(const struct storetasks_fleet_result *result);

/**
 * The region of place `index`. An empty string for an account whose regions could not be
 * listed (its error says why). NULL for a NULL result or an index out of range. Borrowed from
 * the result until it is freed.
 */
STORETASKS_API
const char *storetasks_fleet_result_region(const struct storetasks_fleet_result *result,
                                           size_t index);

/**
 * The account of place `index`, from its role ARN; NULL for the client's own credentials, a
 * NULL result or an index out of range. Borrowed from the result until it is freed.
 */
STORETASKS_API
const char *storetasks_fleet_result_account(const struct storetasks_fleet_result *result,
                                            size_t index);

/**
 * The role assumed for place `index`; NULL for the client's own credentials, a NULL result or
 * an index out of range. Borrowed from the result until it is freed.
 */
STORETASKS_API
const char *storetasks_fleet_result_role_arn(const struct storetasks_fleet_result *result,
                                             size_t index);

/**
 * The tasks of place `index`, newest first: every task listed there (for a failed place, those
 * read before it failed; empty after `storetasks_client_describe_fleet_pages`). The list has no
 * next token; its request id is the last reply's. Borrowed from the result until it is freed
 * (never pass it to `storetasks_task_list_free`); NULL for a NULL result or an index out of range.
 */
STORETASKS_API
const struct storetasks_task_list *storetasks_fleet_result_tasks(const struct storetasks_fleet_result *result,
                                                                 size_t index);

/**
 * How many tasks place `index` delivered (to the result or to the callback); 0 for a NULL
 * result or an index out of range.
 */
STORETASKS_API
size_t storetasks_fleet_result_task_count(const struct storetasks_fleet_result *result,
                                          size_t index);

/**
 * Why place `index` failed, read with the `storetasks_error_*` functions; NULL when it
 * succeeded, for a NULL result or an index out of range. Borrowed from the result until it is
 * freed (never pass it to `storetasks_error_free`).
 */
STORETASKS_API
const struct storetasks_error *storetasks_fleet_result_error(const struct storetasks_fleet_result *result,
                                                             size_t index);

/**
 * Renders the result as JSON: `{"Places": [{"Region": ..., "Account": ... or null,
 * "RoleArn": ... (with a role), "StoreImageTaskResults": [...], "Error": {"Status", "Code",
 * "Message", "HttpStatus", "RequestId"} (for a failed place)}]}`, the tasks in the AWS CLI's
 * shape, four-space indent and a final newline.
 *
 * On success `*json_out` is a new NUL-terminated string that the caller frees with
 * `storetasks_string_free`; on failure it is left untouched. `err` may be NULL. Thread-safe.
 */
STORETASKS_API
enum storetasks_status storetasks_fleet_result_to_json(const struct storetasks_fleet_result *result,
                                                       char **json_out,
                                                       struct storetasks_error **err);

/**
 * Frees a fleet result, its task lists and its errors. NULL is ignored.
 */
STORETASKS_API void storetasks_fleet_result_free(struct storetasks_fleet_result *result);

/**
 * Sends the library's log events up to `max_level` (a `storetasks_log_level`) to `callback`,
 * with `user_data` passed through untouched; a NULL callback stops it. Replaces any earlier
 * callback. This is process-wide and independent of `STORETASKS_LOG`, which writes events to
 * stderr with no code at all (`STORETASKS_LOG=debug`). Thread-safe.
 *
 * Returns only when no call to the callback it replaces is still running on any thread, so the
 * earlier callback's `user_data` may be freed (or its code unloaded) as soon as this returns.
 * For the same reason it must not be called from inside the log callback: it would wait for
 * that very call to end.
 */
STORETASKS_API
enum storetasks_status storetasks_set_log_callback(storetasks_log_callback callback,
                                                   int32_t max_level,
                                                   void *user_data);

/**
 * A new, empty query: every task of the last 31 days, newest first.
 *
 * The caller owns it and frees it with `storetasks_query_free`. NULL only if memory ran out.
 */
STORETASKS_API struct storetasks_query *storetasks_query_new(void);

/**
 * Frees a query. NULL is ignored.
 */
STORETASKS_API void storetasks_query_free(struct storetasks_query *query);

/**
 * Why the most recent setter call on `query` (`storetasks_query_add_image_id`,
 * `storetasks_query_add_filter`, `storetasks_query_set_*`) did not return OK, as one sentence;
 * NULL when that call succeeded (each setter call sets or clears it), and for a NULL query.
 * Borrowed from the query until its next setter call or its free. Like the setters, not to be
 * called while another thread changes the same query.
 */
STORETASKS_API const char *storetasks_query_last_error(const struct storetasks_query *query);

/**
 * Adds an image id (copied). Any number may be added: more than 20 are sent as several
 * requests. INVALID_ARGUMENT for NULL, invalid UTF-8 or an empty id
 * (`storetasks_query_last_error` says which).
 */
STORETASKS_API
enum storetasks_status storetasks_query_add_image_id(struct storetasks_query *query,
                                                     const char *image_id);

/**
 * Adds a filter: `name` ("task-state" or "bucket"; other names are sent as they are, for EC2 to
 * judge) and `values_len` values, any of which may match. All strings are copied; `values` may
 * be NULL only when `values_len` is 0.
 */
STORETASKS_API
enum storetasks_status storetasks_query_add_filter(struct storetasks_query *query,
                                                   const char *name,
                                                   const char *const *values,
                                                   size_t values_len);

/**
 * Sets the page size. EC2 accepts 1 to 200, and not together with image ids; a call with a
 * value outside that range fails with INVALID_ARGUMENT before sending anything. 0 removes it.
 */
STORETASKS_API
enum storetasks_status storetasks_query_set_max_results(struct storetasks_query *query,
                                                        int32_t max_results);

/**
 * Sets the token to resume from (copied); NULL removes it.
 */
STORETASKS_API
enum storetasks_status storetasks_query_set_next_token(struct storetasks_query *query,
                                                       const char *next_token);

/**
 * Only checks permissions: a call answers `STORETASKS_STATUS_DRY_RUN_OK` when it would have succeeded.
 */
STORETASKS_API
enum storetasks_status storetasks_query_set_dry_run(struct storetasks_query *query,
                                                    bool dry_run);

/**
 * The number of tasks; 0 for NULL.
 */
STORETASKS_API size_t storetasks_task_list_len(const struct storetasks_task_list *list);

/**
 * The tasks as a contiguous array of `storetasks_task_list_len` elements, newest first. Borrowed
 * from the list until it is freed; NULL for a NULL or empty list.
 */
STORETASKS_API
const struct storetasks_task *storetasks_task_list_tasks(const struct storetasks_task_list *list);

/**
 * The task at `index`, borrowed from the list until it is freed; NULL for a NULL list or an
 * index out of range.
 */
STORETASKS_API
const struct storetasks_task *storetasks_task_list_get(const struct storetasks_task_list *list,
                                                       size_t index);

/**
 * The token that resumes the listing after this list, or NULL when there is nothing more.
 * Borrowed from the list until it is freed.
 */
STORETASKS_API const char *storetasks_task_list_next_token(const struct storetasks_task_list *list);

/**
 * The request id of the reply that produced this list (for a listing of several pages, the
 * last page's), or NULL when the service sent none. Borrowed from the list until it is freed.
 */
STORETASKS_API const char *storetasks_task_list_request_id(const struct storetasks_task_list *list);

/**
 * The region a fleet listing's page came from (`storetasks_call_next_page` on a call started by
 * `storetasks_client_describe_fleet_pages_start`); NULL for any other list and for NULL.
 * Borrowed from the list until it is freed.
 */
STORETASKS_API const char *storetasks_task_list_region(const struct storetasks_task_list *list);

/**
 * The account a fleet listing's page came from, as `storetasks_task_list_region`: NULL for the
 * client's own credentials, for any other list and for NULL. Borrowed from the list until it is
 * freed.
 */
STORETASKS_API const char *storetasks_task_list_account(const struct storetasks_task_list *list);

/**
 * Whether a `max_tasks` cap cut tasks out of this listing that no next token can bring back:
 * the query named image ids (EC2 answers them in one reply, without a token), or the service
 * sent more tasks than MaxResults asked for. The list then has no next token; for image ids,
 * ask again for the ids whose tasks the list does not hold. False for NULL. Thread-safe.
 */
STORETASKS_API bool storetasks_task_list_truncated(const struct storetasks_task_list *list);

/**
 * Renders the list as the JSON the AWS CLI prints for `aws ec2 describe-store-image-tasks
 * --output json` (four-space indent, absent members left out, `NextToken` only when there is
 * one, a final newline).
 *
 * On success `*json_out` is a new NUL-terminated string that the caller frees with
 * `storetasks_string_free`; on failure it is left untouched. `err` may be NULL. Thread-safe.
 */
STORETASKS_API
enum storetasks_status storetasks_task_list_to_json(const struct storetasks_task_list *list,
                                                    char **json_out,
                                                    struct storetasks_error **err);

/**
 * Frees a list and every string and task view it holds. NULL is ignored.
 */
STORETASKS_API void storetasks_task_list_free(struct storetasks_task_list *list);

/**
 * New options with the defaults: delays from 5 s growing to 120 s, a 2-hour deadline, and a
 * 60-second grace period for images without a store task. No progress callback.
 *
 * The caller owns the result and frees it with `storetasks_wait_options_free`. NULL only if
 * memory ran out.
 */
STORETASKS_API struct storetasks_wait_options *storetasks_wait_options_new(void);

/**
 * Frees wait options. NULL is ignored.
 */
STORETASKS_API void storetasks_wait_options_free(struct storetasks_wait_options *options);

/**
 * Why the most recent setter call on `options` (`storetasks_wait_options_set_*`) did not return
 * OK, as one sentence; NULL when that call succeeded (each setter call sets or clears it), and
 * for NULL options. Borrowed from the options until their next setter call or their free. Like
 * the setters, not to be called while another thread changes the same options.
 */
STORETASKS_API
const char *storetasks_wait_options_last_error(const struct storetasks_wait_options *options);

/**
 * Sets the delay between polls: it starts at `min_delay_ms` and doubles up to `max_delay_ms`,
 * each pause drawn at random between `min_delay_ms` and the current ceiling. INVALID_ARGUMENT
 * unless 0 < min_delay_ms <= max_delay_ms.
 */
STORETASKS_API
enum storetasks_status storetasks_wait_options_set_delays(struct storetasks_wait_options *options,
                                                          uint64_t min_delay_ms,
                                                          uint64_t max_delay_ms);

/**
 * Sets the deadline of the whole wait in milliseconds; 0 waits without a deadline (until the
 * tasks finish or the wait is cancelled).
 */
STORETASKS_API
enum storetasks_status storetasks_wait_options_set_timeout(struct storetasks_wait_options *options,
                                                           uint64_t timeout_ms);

/**
 * Sets how long, in milliseconds, an image may have no store task before the wait ends with
 * `STORETASKS_STATUS_NOT_FOUND` (0: at the first poll that does not find it).
 */
STORETASKS_API
enum storetasks_status storetasks_wait_options_set_not_found_grace(struct storetasks_wait_options *options,
                                                                   uint64_t grace_ms);

/**
 * Sets the progress callback (NULL removes it) and the pointer passed to it untouched.
 */
STORETASKS_API
enum storetasks_status storetasks_wait_options_set_progress(struct storetasks_wait_options *options,
                                                            storetasks_progress_callback callback,
                                                            void *user_data);

/**
 * Waits until the latest store task of every image in `image_ids` (`image_ids_len` ids; more
 * than 20 are polled in batches) is Completed.
 *
 * Outcomes: OK when all completed (`*tasks_out`, if `tasks_out` is not NULL, receives their final
 * state, to free with `storetasks_task_list_free`); `TASK_FAILED` as soon as one fails
 * (`storetasks_error_ami_id` and `storetasks_error_failure_reason` say which and why);
 * `WAIT_TIMEOUT` when the deadline passes (the message lists each AMI's last seen state);
 * `NOT_FOUND` when an image has no task after the grace period; `CANCELLED` when `cancel` fires
 * or the progress callback returns false. Throttling, network errors, timeouts and 5xx replies
 * are retried at the next poll; other errors end the wait with their own status.
 *
 * `options` and `cancel` may be NULL (defaults; not cancellable). Blocks the calling thread,
 * which is also the thread the progress callback runs on. Thread-safe: many waits may run on
 * one client at once.
 */
STORETASKS_API
enum storetasks_status storetasks_client_wait(const struct storetasks_client *client,
                                              const char *const *image_ids,
                                              size_t image_ids_len,
                                              const struct storetasks_wait_options *options,
                                              const struct storetasks_cancel *cancel,
                                              struct storetasks_task_list **tasks_out,
                                              struct storetasks_error **err);

/**
 * Like `storetasks_client_wait`, for images in several regions and accounts: `targets` holds
 * `targets_len` (region, role, image id) triples, and each poll asks every (account, region)
 * place for its images at once; each role is assumed once. The tasks in `*tasks_out` and those
 * given to the progress callback come in the order of `targets` (a triple given twice, once).
 * Messages name an image as "REGION/ami-..." (or "ACCOUNT/REGION/ami-...") when the targets span
 * more than one place. A place's throttling or network error means another poll; its other errors
 * end the wait. INVALID_ARGUMENT for no targets, a NULL image id, a bad region name or role ARN.
 * The strings are copied. Outcomes, ownership and thread safety as for `storetasks_client_wait`.
 */
STORETASKS_API
enum storetasks_status storetasks_client_wait_targets(const struct storetasks_client *client,
                                                      const struct storetasks_wait_target *targets,
                                                      size_t targets_len,
                                                      const struct storetasks_wait_options *options,
                                                      const struct storetasks_cancel *cancel,
                                                      struct storetasks_task_list **tasks_out,
                                                      struct storetasks_error **err);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* STORETASKS_H */
