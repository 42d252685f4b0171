package storetasks

/*
#include <stdlib.h>
#include "storetasks.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"strings"
)

// Status is the outcome of a library call, with the numbers of the C enum storetasks_status.
type Status int32

// The statuses. Their numbers are fixed by the C API and never reused.
const (
	StatusOK              Status = C.STORETASKS_STATUS_OK
	StatusDryRunOK        Status = C.STORETASKS_STATUS_DRY_RUN_OK
	StatusInvalidArgument Status = C.STORETASKS_STATUS_INVALID_ARGUMENT
	StatusUnauthorized    Status = C.STORETASKS_STATUS_UNAUTHORIZED
	StatusThrottled       Status = C.STORETASKS_STATUS_THROTTLED
	StatusTimeout         Status = C.STORETASKS_STATUS_TIMEOUT
	StatusNetwork         Status = C.STORETASKS_STATUS_NETWORK
	StatusService         Status = C.STORETASKS_STATUS_SERVICE
	StatusResponse        Status = C.STORETASKS_STATUS_RESPONSE
	StatusCancelled       Status = C.STORETASKS_STATUS_CANCELLED
	StatusPanic           Status = C.STORETASKS_STATUS_PANIC
	StatusConfig          Status = C.STORETASKS_STATUS_CONFIG
	StatusCredentials     Status = C.STORETASKS_STATUS_CREDENTIALS
	StatusTaskFailed      Status = C.STORETASKS_STATUS_TASK_FAILED
	StatusWaitTimeout     Status = C.STORETASKS_STATUS_WAIT_TIMEOUT
	StatusNotFound        Status = C.STORETASKS_STATUS_NOT_FOUND
	// StatusPending: a C call started without blocking has nothing to take yet. This package
	// runs every call on the calling goroutine, so no error of its carries it.
	StatusPending Status = C.STORETASKS_STATUS_PENDING
)

// String returns the status's C name, such as "STORETASKS_STATUS_THROTTLED".
func (s Status) String() string {
	return C.GoString(C.storetasks_status_name(C.int32_t(s)))
}

// Error is every failure this package reports.
//
// Compare with the sentinels using errors.Is (which matches on Status alone), and use
// errors.As to read the details. An error caused by a cancelled context or a closed client
// also unwraps to that cause: context.Canceled, context.DeadlineExceeded or ErrClosed.
type Error struct {
	// Status says what kind of failure this is.
	Status Status
	// Code is the AWS error code ("RequestLimitExceeded", "InvalidParameterValue"...), or ""
	// when the failure carried none (a network failure, a bad argument).
	Code string
	// Message is a readable description; it never contains a secret.
	Message string
	// HTTPStatus is the HTTP status of the reply that carried the error, or 0 without a reply.
	HTTPStatus int
	// RequestID is the request id of the reply, or "" when none was sent.
	RequestID string
	// AmiID is the image a wait ended on (ErrTaskFailed, ErrNotFound), or "".
	AmiID string
	// FailureReason is the reason EC2 gave for a failed store task (ErrTaskFailed), or "".
	FailureReason string

	cause error
}

// Error formats the failure as "storetasks: STATUS (Code): message".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("storetasks: ")
	b.WriteString(e.Status.String())
	if e.Code != "" {
		b.WriteString(" (")
		b.WriteString(e.Code)
		b.WriteString(")")
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" [request id ")
		b.WriteString(e.RequestID)
		b.WriteString("]")
	}
	return b.String()
}

// Is reports whether target is an *Error with the same Status, so that
// errors.Is(err, ErrThrottled) holds for every throttling failure.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t != nil && t.Status == e.Status
}

// Unwrap returns the cause of a cancellation (a context's error or ErrClosed), or nil.
func (e *Error) Unwrap() error { return e.cause }

// Sentinels, one per failure status, for errors.Is. They carry no details; the *Error values
// returned by calls do.
var (
	// ErrDryRunOK: a DryRun query would have succeeded (EC2's DryRunOperation).
	ErrDryRunOK = &Error{Status: StatusDryRunOK}
	// ErrInvalidArgument: a bad argument, found before anything was sent.
	ErrInvalidArgument = &Error{Status: StatusInvalidArgument}
	// ErrUnauthorized: the credentials were refused or lack permission.
	ErrUnauthorized = &Error{Status: StatusUnauthorized}
	// ErrThrottled: still throttled after every retry.
	ErrThrottled = &Error{Status: StatusThrottled}
	// ErrTimeout: a connect, attempt or operation timeout of the Config expired.
	ErrTimeout = &Error{Status: StatusTimeout}
	// ErrNetwork: the connection failed or was dropped.
	ErrNetwork = &Error{Status: StatusNetwork}
	// ErrService: any other error code from the service (see Error.Code).
	ErrService = &Error{Status: StatusService}
	// ErrResponse: a reply that could not be understood, or a looping pagination.
	ErrResponse = &Error{Status: StatusResponse}
	// ErrCancelled: the context was cancelled or its deadline passed, the client was closed, or
	// a wait's progress function returned false.
	ErrCancelled = &Error{Status: StatusCancelled}
	// ErrPanic: the library caught a panic of its own; it is still usable.
	ErrPanic = &Error{Status: StatusPanic}
	// ErrConfig: the client could not be configured.
	ErrConfig = &Error{Status: StatusConfig}
	// ErrCredentials: no usable credentials were found.
	ErrCredentials = &Error{Status: StatusCredentials}
	// ErrTaskFailed: a waited-for store task failed (see Error.AmiID and Error.FailureReason).
	ErrTaskFailed = &Error{Status: StatusTaskFailed}
	// ErrWaitTimeout: a wait's deadline passed; the message gives each image's last seen state.
	ErrWaitTimeout = &Error{Status: StatusWaitTimeout}
	// ErrNotFound: a waited-for image had no store task for longer than the grace period (see
	// Error.AmiID).
	ErrNotFound = &Error{Status: StatusNotFound}
)

// ErrClosed is the cause of every failure of a call made on, or cut short by, a closed Client.
// Such errors also match ErrInvalidArgument (call made after Close) or ErrCancelled (call
// cancelled by Close).
var ErrClosed = errors.New("storetasks: the client is closed")

// takeError turns a failed call's status and error object into an *Error and frees the object.
func takeError[S ~int32 | ~uint32](st S, cerr *C.storetasks_error) *Error {
	e := &Error{Status: Status(st)}
	if cerr != nil {
		readError(e, cerr)
		C.storetasks_error_free(cerr)
	}
	return e
}

// copyError copies an error object the caller does not own (such as a fleet place's) into an
// *Error, its status included.
func copyError(cerr *C.storetasks_error) *Error {
	e := &Error{Status: Status(C.storetasks_error_status(cerr))}
	readError(e, cerr)
	return e
}

func readError(e *Error, cerr *C.storetasks_error) {
	e.Message = goStringOrEmpty(C.storetasks_error_message(cerr))
	e.Code = goStringOrEmpty(C.storetasks_error_code(cerr))
	e.HTTPStatus = int(C.storetasks_error_http_status(cerr))
	e.RequestID = goStringOrEmpty(C.storetasks_error_request_id(cerr))
	e.AmiID = goStringOrEmpty(C.storetasks_error_ami_id(cerr))
	e.FailureReason = goStringOrEmpty(C.storetasks_error_failure_reason(cerr))
}

// refused is the error of a setter that returned st. reason is what the object's *_last_error
// accessor gave right after that call (borrowed, NULL when the library gave none); it is copied
// into the message.
func refused(what string, st Status, reason *C.char) *Error {
	msg := what + " was refused"
	if r := goStringOrEmpty(reason); r != "" {
		msg += ": " + r
	}
	return &Error{Status: st, Message: msg}
}

func outOfMemory() *Error {
	return &Error{Status: StatusPanic, Message: "out of memory"}
}

func invalidArgument(format string, args ...any) *Error {
	return &Error{Status: StatusInvalidArgument, Message: fmt.Sprintf(format, args...)}
}

func goStringOrEmpty(s *C.char) string {
	if s == nil {
		return ""
	}
	return C.GoString(s)
}
