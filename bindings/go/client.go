package storetasks

/*
#include <stdlib.h>
#include "storetasks.h"
*/
import "C"

import (
	"context"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
	"unsafe"
)

// RetryMode says how failed attempts are retried.
type RetryMode int32

const (
	// RetryDefault: what the environment or profile says, else the standard mode.
	RetryDefault RetryMode = C.STORETASKS_RETRY_MODE_DEFAULT
	// RetryStandard: exponential backoff with jitter and a retry quota.
	RetryStandard RetryMode = C.STORETASKS_RETRY_MODE_STANDARD
	// RetryAdaptive: standard, plus client-side rate limiting when throttled.
	RetryAdaptive RetryMode = C.STORETASKS_RETRY_MODE_ADAPTIVE
)

// Config configures a Client. The zero value means the standard AWS defaults for everything:
// region, credentials and settings then come from the environment, the shared config files and
// the other sources the AWS SDKs know. With Region and static credentials set, NewClient
// contacts nothing and returns in milliseconds.
type Config struct {
	// Region, such as "eu-west-1"; "" for the default chain.
	Region string
	// EndpointURL overrides the EC2 endpoint (an emulator, a VPC endpoint); it is EC2's alone.
	EndpointURL string
	// STSEndpointURL is where the roles of fleet calls and waits are assumed; "" follows
	// AWS_ENDPOINT_URL_STS, the profile, else STS's regional endpoint (never EndpointURL).
	STSEndpointURL string
	// Profile of the shared config files; "" for the default profile.
	Profile string

	// Static credentials: AccessKeyID and SecretAccessKey together, SessionToken optional.
	// Leave both keys empty to use the default credential chain.
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string

	// RetryMode and MaxAttempts (the first attempt included; 0 keeps the default, 1 disables
	// retries, at most 100).
	RetryMode   RetryMode
	MaxAttempts int

	// Timeouts; 0 keeps a timeout's default. ConnectTimeout bounds each TCP/TLS connect,
	// AttemptTimeout each attempt, OperationTimeout a whole request with its retries (for a
	// listing: each page). They are passed in whole milliseconds, rounded up.
	ConnectTimeout   time.Duration
	AttemptTimeout   time.Duration
	OperationTimeout time.Duration

	// UseFIPS selects FIPS endpoints, UseDualStack dual-stack (IPv4 and IPv6) ones.
	UseFIPS      bool
	UseDualStack bool

	// CABundle is a PEM file whose certificates are trusted in addition to the system's roots.
	CABundle string

	// Proxy is the proxy every request (EC2, STS for roles, SSO) goes through:
	// "http://[user:password@]host:port", "https://..." for a proxy reached over TLS, or
	// "host:port" (http). "" follows the environment: HTTPS_PROXY, HTTP_PROXY and NO_PROXY. A
	// URL the library cannot use (a scheme other than http or https, no host) makes NewClient
	// fail with an error matching ErrInvalidArgument that names Config.Proxy and never shows
	// the password. The instance metadata service is never reached through a proxy.
	Proxy string
	// NoProxy lists the hosts reached directly rather than through Proxy (comma-separated:
	// "*", a host, a domain suffix, an IP address or a CIDR block); "" keeps the environment's
	// NO_PROXY. It needs Proxy.
	NoProxy string
	// DisableProxy sends every request directly, whatever the environment's proxy variables
	// say. It cannot be combined with Proxy or NoProxy.
	DisableProxy bool

	// AppName is added to the user agent (letters, digits and !#$%&'*+-.^_`|~ only).
	AppName string
	// MaxConcurrency bounds what runs at once (default 8): the requests of 20 image ids that a
	// longer id list is split into (in each place), the places a fleet call lists, and the pages
	// a fleet call queues for its caller. 0 keeps the default; at most 1024.
	MaxConcurrency int
}

// Client lists store tasks. It owns the library's client (a runtime, a connection pool and
// credentials) and is safe for concurrent use by any number of goroutines.
//
// Close it when done. Close cancels the calls still running on it and waits for them to end;
// calls made after Close fail with an error matching ErrClosed. A Client that becomes
// unreachable without Close is closed by the garbage collector, but do not rely on that: the
// client holds threads and connections.
type Client struct {
	h *handle
}

// handle owns the C client. It is separate from Client so that the cleanup attached to a Client
// can reach it without keeping the Client alive.
type handle struct {
	// mu is held for reading by every C call on ptr and for writing by close, so the C client is
	// never freed while a call is using it.
	mu  sync.RWMutex
	ptr *C.storetasks_client

	// callsMu guards calls and closed. Close cancels every registered call before waiting on mu.
	callsMu sync.Mutex
	calls   map[*call]struct{}
	closed  bool
}

// closedByCleanup counts the clients freed by the garbage collector's cleanup (for the tests).
var closedByCleanup atomic.Int64

// NewClient creates a client from cfg.
func NewClient(cfg Config) (*Client, error) {
	ccfg := C.storetasks_config_new()
	if ccfg == nil {
		return nil, outOfMemory()
	}
	defer C.storetasks_config_free(ccfg)
	if err := applyConfig(ccfg, &cfg); err != nil {
		return nil, err
	}
	var ptr *C.storetasks_client
	var cerr *C.storetasks_error
	if st := C.storetasks_client_new(ccfg, &ptr, &cerr); st != C.STORETASKS_STATUS_OK {
		return nil, takeError(st, cerr)
	}
	h := &handle{ptr: ptr, calls: make(map[*call]struct{})}
	c := &Client{h: h}
	// The safety net: a Client dropped without Close frees its C client.
	runtime.AddCleanup(c, func(h *handle) {
		h.close()
		closedByCleanup.Add(1)
	}, h)
	return c, nil
}

// Close cancels the calls running on the client, waits for them to return, and frees the
// client. It is safe to call more than once and from several goroutines; every call after the
// first returns nil at once, or after the first has finished.
func (c *Client) Close() error {
	c.h.close()
	runtime.KeepAlive(c)
	return nil
}

func (h *handle) close() {
	h.callsMu.Lock()
	h.closed = true
	for k := range h.calls {
		k.cancel(ErrClosed)
	}
	h.callsMu.Unlock()

	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ptr != nil {
		C.storetasks_client_free(h.ptr)
		h.ptr = nil
	}
}

// call is one C call in flight: its cancellation token and why it was cancelled.
type call struct {
	tok       *C.storetasks_cancel
	once      sync.Once
	cancelled chan struct{} // closed by cancel
	reason    error         // set by cancel before cancelled is closed
}

func (k *call) cancel(reason error) {
	k.once.Do(func() {
		k.reason = reason
		C.storetasks_cancel_trigger(k.tok)
		close(k.cancelled)
	})
}

// do runs fn with the C client and a fresh cancellation token that ctx and Close trigger. A C
// status of CANCELLED is turned into an error that unwraps to the reason (ctx.Err() or
// ErrClosed). fn must not keep the pointers it is given.
func (c *Client) do(ctx context.Context, fn func(ptr *C.storetasks_client, k *call) error) (err error) {
	if err := ctx.Err(); err != nil {
		return cancelledError(err)
	}
	h := c.h
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.ptr == nil {
		return &Error{Status: StatusInvalidArgument, Message: "the client is closed", cause: ErrClosed}
	}
	k := &call{tok: C.storetasks_cancel_new(), cancelled: make(chan struct{})}
	if k.tok == nil {
		return outOfMemory()
	}
	defer C.storetasks_cancel_free(k.tok)

	h.callsMu.Lock()
	if h.closed {
		h.callsMu.Unlock()
		return &Error{Status: StatusInvalidArgument, Message: "the client is closed", cause: ErrClosed}
	}
	h.calls[k] = struct{}{}
	h.callsMu.Unlock()

	// The watcher: a goroutine started only if ctx ends while the call runs.
	stop := context.AfterFunc(ctx, func() { k.cancel(ctx.Err()) })
	// Deferred, so that it also runs when fn panics (a panic raised again from a callback): the
	// token is freed right after it (the defer above), and by then neither the watcher nor Close
	// may be able to reach it.
	defer func() {
		stop()
		h.callsMu.Lock()
		delete(h.calls, k)
		h.callsMu.Unlock()
		// The watcher either never started (stop won) or runs cancel, which the first Do made
		// wait-free to observe; taking the once's mutex guarantees it has finished, so that
		// k.cancelled below is closed if the call was cancelled at all.
		k.once.Do(func() {})
		runtime.KeepAlive(c)

		if e, ok := err.(*Error); ok && e.Status == StatusCancelled && e.cause == nil {
			select {
			case <-k.cancelled:
				e.cause = k.reason
				if k.reason != nil {
					e.Message = strings.TrimSuffix(e.Message, ".") + ": " + k.reason.Error()
				}
			default:
			}
		}
	}()

	return fn(h.ptr, k)
}

func cancelledError(cause error) *Error {
	return &Error{Status: StatusCancelled, Message: "the call was cancelled: " + cause.Error(), cause: cause}
}

// cString copies s into C memory for the library; free it with C.free. Strings holding a NUL
// byte cannot be passed and give an error.
func cString(what, s string) (*C.char, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, invalidArgument("%s contains a NUL byte", what)
	}
	return C.CString(s), nil
}

// cStringOrNil is cString for an optional string: "" gives NULL (which freeC takes too).
func cStringOrNil(what, s string) (*C.char, error) {
	if s == "" {
		return nil, nil
	}
	return cString(what, s)
}

func freeC(p *C.char) { C.free(unsafe.Pointer(p)) }

// cArg is a Go string on its way to one C call: its name in messages, and whether "" is NULL.
type cArg struct {
	what, value string
	orNil       bool
}

// cStrings converts args for one C call, all or none; free releases them.
func cStrings(args ...cArg) (strs []*C.char, free func(), err error) {
	free = func() {
		for _, p := range strs {
			freeC(p)
		}
	}
	for _, a := range args {
		convert := cString
		if a.orNil {
			convert = cStringOrNil
		}
		p, err := convert(a.what, a.value)
		if err != nil {
			free()
			return nil, nil, err
		}
		strs = append(strs, p)
	}
	return strs, free, nil
}

// checker gives the check of the statuses of one library object's setters: nil for StatusOK,
// else the refusal of prefix+what, with the reason the object's lastError gives.
func checker(prefix string, lastError func() *C.char) func(what string, st Status) error {
	return func(what string, st Status) error {
		if st != StatusOK {
			return refused(prefix+what, st, lastError())
		}
		return nil
	}
}

// newC makes one of the library's objects with create and fills it with fill; when fill fails,
// it frees the object with free and returns the error. The caller frees what it returns with
// free.
func newC[P comparable](create func() P, fill func(P) error, free func(P)) (P, error) {
	var none P
	p := create()
	if p == none {
		return none, outOfMemory()
	}
	if err := fill(p); err != nil {
		free(p)
		return none, err
	}
	return p, nil
}

// durationMS converts a timeout to whole milliseconds, rounding up so that a positive
// duration never becomes 0 (which means "the default").
func durationMS(what string, d time.Duration) (C.uint64_t, error) {
	if d < 0 {
		return 0, invalidArgument("%s is negative", what)
	}
	return C.uint64_t((d + time.Millisecond - 1) / time.Millisecond), nil
}

func applyConfig(ccfg *C.storetasks_config, cfg *Config) error {
	check := checker("Config.", func() *C.char { return C.storetasks_config_last_error(ccfg) })
	// The strings the library takes one by one; "" keeps a setting's default.
	for _, o := range []struct {
		what, value string
		set         func(*C.char) Status
	}{
		{"Region", cfg.Region, func(s *C.char) Status { return Status(C.storetasks_config_set_region(ccfg, s)) }},
		{"EndpointURL", cfg.EndpointURL, func(s *C.char) Status { return Status(C.storetasks_config_set_endpoint_url(ccfg, s)) }},
		{"STSEndpointURL", cfg.STSEndpointURL, func(s *C.char) Status { return Status(C.storetasks_config_set_sts_endpoint_url(ccfg, s)) }},
		{"Profile", cfg.Profile, func(s *C.char) Status { return Status(C.storetasks_config_set_profile(ccfg, s)) }},
		{"CABundle", cfg.CABundle, func(s *C.char) Status { return Status(C.storetasks_config_set_ca_bundle(ccfg, s)) }},
		{"AppName", cfg.AppName, func(s *C.char) Status { return Status(C.storetasks_config_set_app_name(ccfg, s)) }},
	} {
		if o.value == "" {
			continue
		}
		cs, err := cString("Config."+o.what, o.value)
		if err != nil {
			return err
		}
		st := o.set(cs)
		freeC(cs)
		if err := check(o.what, st); err != nil {
			return err
		}
	}
	if err := applyProxy(ccfg, cfg, check); err != nil {
		return err
	}

	if cfg.AccessKeyID != "" || cfg.SecretAccessKey != "" || cfg.SessionToken != "" {
		if cfg.AccessKeyID == "" || cfg.SecretAccessKey == "" {
			return invalidArgument("Config.AccessKeyID and Config.SecretAccessKey must be set together")
		}
		keys, free, err := cStrings(cArg{"Config.AccessKeyID", cfg.AccessKeyID, false},
			cArg{"Config.SecretAccessKey", cfg.SecretAccessKey, false}, cArg{"Config.SessionToken", cfg.SessionToken, true})
		if err != nil {
			return err
		}
		defer free()
		if err := check("credentials", Status(C.storetasks_config_set_credentials(ccfg, keys[0], keys[1], keys[2]))); err != nil {
			return err
		}
	}

	if cfg.RetryMode != RetryDefault || cfg.MaxAttempts != 0 {
		if cfg.MaxAttempts < 0 || uint64(cfg.MaxAttempts) > math.MaxUint32 {
			return invalidArgument("Config.MaxAttempts %d is out of range", cfg.MaxAttempts)
		}
		if err := check("RetryMode", Status(C.storetasks_config_set_retry(ccfg, C.int32_t(cfg.RetryMode), C.uint32_t(cfg.MaxAttempts)))); err != nil {
			return err
		}
	}

	if cfg.ConnectTimeout != 0 || cfg.AttemptTimeout != 0 || cfg.OperationTimeout != 0 {
		// Connect, attempt and operation, in milliseconds.
		var ms [3]C.uint64_t
		for i, t := range []struct {
			what string
			d    time.Duration
		}{
			{"Config.ConnectTimeout", cfg.ConnectTimeout},
			{"Config.AttemptTimeout", cfg.AttemptTimeout},
			{"Config.OperationTimeout", cfg.OperationTimeout},
		} {
			var err error
			if ms[i], err = durationMS(t.what, t.d); err != nil {
				return err
			}
		}
		if err := check("timeouts", Status(C.storetasks_config_set_timeouts(ccfg, ms[0], ms[1], ms[2]))); err != nil {
			return err
		}
	}

	// The switches, set only when on.
	for _, o := range []struct {
		what string
		on   bool
		set  func() Status
	}{
		{"UseFIPS", cfg.UseFIPS, func() Status { return Status(C.storetasks_config_set_use_fips(ccfg, true)) }},
		{"UseDualStack", cfg.UseDualStack, func() Status { return Status(C.storetasks_config_set_use_dual_stack(ccfg, true)) }},
	} {
		if !o.on {
			continue
		}
		if err := check(o.what, o.set()); err != nil {
			return err
		}
	}
	if cfg.MaxConcurrency != 0 {
		if cfg.MaxConcurrency < 0 {
			return invalidArgument("Config.MaxConcurrency %d is negative", cfg.MaxConcurrency)
		}
		if err := check("MaxConcurrency", Status(C.storetasks_config_set_max_concurrency(ccfg, C.size_t(cfg.MaxConcurrency)))); err != nil {
			return err
		}
	}
	return nil
}

// applyProxy passes Proxy, NoProxy and DisableProxy to the library, which takes them in one
// call; nothing set keeps the environment's settings.
func applyProxy(ccfg *C.storetasks_config, cfg *Config, check func(string, Status) error) error {
	switch {
	case cfg.DisableProxy && (cfg.Proxy != "" || cfg.NoProxy != ""):
		return invalidArgument("Config.DisableProxy cannot be combined with Config.Proxy or Config.NoProxy")
	case cfg.NoProxy != "" && cfg.Proxy == "":
		return invalidArgument("Config.NoProxy needs Config.Proxy (without one, the environment's NO_PROXY applies)")
	case !cfg.DisableProxy && cfg.Proxy == "":
		return nil
	}
	// A Proxy of "" with DisableProxy: no proxy at all.
	proxy, free, err := cStrings(cArg{"Config.Proxy", cfg.Proxy, false}, cArg{"Config.NoProxy", cfg.NoProxy, true})
	if err != nil {
		return err
	}
	defer free()
	// The library checks the URL first: a refusal names NoProxy only when the URL passed.
	what := "Proxy"
	if utf8.ValidString(cfg.Proxy) && !utf8.ValidString(cfg.NoProxy) {
		what = "NoProxy"
	}
	return check(what, Status(C.storetasks_config_set_proxy(ccfg, proxy[0], proxy[1])))
}
