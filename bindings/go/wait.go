package storetasks

/*
#include <stdint.h>
#include <stdlib.h>
#include "storetasks.h"

extern _Bool storetasksGoProgress(storetasks_task_list *list, uintptr_t handle);

static bool storetasks_go_progress(const storetasks_task_list *tasks, void *user_data) {
	return storetasksGoProgress((storetasks_task_list *)tasks, (uintptr_t)user_data);
}

// The handle travels as an integer until it is in C, where it becomes the opaque user data.
static storetasks_status storetasks_go_wait_options_set_progress(storetasks_wait_options *options,
		uintptr_t handle) {
	return storetasks_wait_options_set_progress(options, storetasks_go_progress, (void *)handle);
}
*/
import "C"

import (
	"context"
	"fmt"
	"runtime/cgo"
	"sync"
	"time"
	"unsafe"
)

// The library's wait defaults, used for the zero values of WaitOptions.
const (
	DefaultWaitMinDelay      = 5 * time.Second
	DefaultWaitMaxDelay      = 120 * time.Second
	DefaultWaitTimeout       = 2 * time.Hour
	DefaultWaitNotFoundGrace = 60 * time.Second
)

// WaitOptions says how Client.Wait polls. The zero value means the library's defaults: delays
// from 5 s growing to 120 s, a 2-hour deadline, a 60-second grace period and no progress
// function. Durations are passed in whole milliseconds, rounded up.
type WaitOptions struct {
	// MinDelay and MaxDelay bound the pause between polls: it starts at MinDelay and doubles up
	// to MaxDelay, each pause drawn at random between MinDelay and the current ceiling. Zero
	// keeps a default (5 s and 120 s), except that a zero MinDelay never exceeds MaxDelay and a
	// zero MaxDelay is never below MinDelay. MinDelay > MaxDelay is an ErrInvalidArgument.
	MinDelay time.Duration
	MaxDelay time.Duration
	// Timeout is the deadline of the whole wait, after which it fails with ErrWaitTimeout
	// (0: the default, 2 h). A negative Timeout waits without a deadline of its own: only the
	// context, Close or Progress then end a wait whose tasks do not finish.
	Timeout time.Duration
	// NotFoundGrace is how long an image may have no store task before the wait fails with
	// ErrNotFound (0: the default, 60 s). A negative NotFoundGrace allows none: the first poll
	// that does not find an image ends the wait.
	NotFoundGrace time.Duration
	// Progress, if not nil, is called after each successful poll with the latest task of each
	// image that has one, in the order of the image ids. The tasks are copies the function may
	// keep. Returning false stops the wait, which then fails with an error matching
	// ErrCancelled. Calls are never concurrent with each other, and Wait returns only after the
	// last one has returned. The function may use the client, and may close it. A panic in it
	// ends the wait and is raised again by Wait. WaitTargets calls it in the same way, with the
	// tasks in the order of its targets.
	Progress func([]Task) bool
}

// Wait polls the store tasks of imageIDs until the latest task of every image is Completed,
// and returns those tasks in their final state, in the order of the ids. More than 20 ids are
// polled in batches. Throttling, network errors, timeouts and 5xx replies are retried at the
// next poll.
//
// It fails with an *Error matching ErrTaskFailed as soon as a task fails (the Error's AmiID and
// FailureReason say which and why), ErrWaitTimeout when opts.Timeout passes (the message gives
// each image's last seen state), ErrNotFound when an image has had no store task for longer
// than opts.NotFoundGrace (AmiID names it), ErrCancelled when ctx ends, the client is closed or
// opts.Progress returns false, and with the status of any other failure of a poll.
func (c *Client) Wait(ctx context.Context, imageIDs []string, opts WaitOptions) ([]Task, error) {
	return c.wait(ctx, &opts, func() (waitCall, func(), error) {
		ids, freeIDs, err := cStringArray(imageIDs)
		return func(ptr *C.storetasks_client, copts *C.storetasks_wait_options, tok *C.storetasks_cancel,
			list **C.storetasks_task_list, cerr **C.storetasks_error) Status {
			return Status(C.storetasks_client_wait(ptr, ids, C.size_t(len(imageIDs)), copts, tok, list, cerr))
		}, freeIDs, err
	})
}

// WaitTarget is one image for WaitTargets, and the place its store task runs in.
type WaitTarget struct {
	// Region is the image's region, such as "eu-west-3"; "" for the client's region.
	Region string
	// RoleARN is an IAM role of the image's account, "arn:aws:iam::ACCOUNT:role/NAME", assumed
	// through STS with the client's own credentials; "" for the client's own account.
	RoleARN string
	// ImageID is the AMI id.
	ImageID string
}

// WaitTargets is Wait for images in several regions and accounts: each poll asks every
// (account, region) place of targets for its images at once, and each role is assumed once per
// call. The tasks it returns, and those given to opts.Progress, come in the order of targets; a
// target given twice comes once.
//
// It ends as Wait does, and its messages name an image by its place: "REGION/ami-..." when
// targets span more than one place, "ACCOUNT/REGION/ami-..." in a role's account (Error.AmiID
// holds the bare id). A place's throttling or network error means another poll; any other
// failure of a place (denied, for instance) ends the wait with its own status and a message that
// starts with the place, "REGION: " or "ACCOUNT/REGION: ". It fails with ErrInvalidArgument,
// before anything is sent, for no targets, an empty ImageID, or a Region or RoleARN the library
// refuses.
func (c *Client) WaitTargets(ctx context.Context, targets []WaitTarget, opts WaitOptions) ([]Task, error) {
	return c.wait(ctx, &opts, func() (waitCall, func(), error) {
		ctargets, freeTargets, err := cWaitTargets(targets)
		var first *C.storetasks_wait_target
		if len(ctargets) > 0 {
			first = &ctargets[0]
		}
		return func(ptr *C.storetasks_client, copts *C.storetasks_wait_options, tok *C.storetasks_cancel,
			list **C.storetasks_task_list, cerr **C.storetasks_error) Status {
			return Status(C.storetasks_client_wait_targets(ptr, first, C.size_t(len(ctargets)), copts, tok, list, cerr))
		}, freeTargets, err
	})
}

// waitCall runs one of the library's waits with the client, the wait options, the call's
// cancellation token and the out-parameters, and returns the library's status.
type waitCall func(ptr *C.storetasks_client, copts *C.storetasks_wait_options, tok *C.storetasks_cancel,
	list **C.storetasks_task_list, cerr **C.storetasks_error) Status

// wait runs a wait for Wait and WaitTargets. It converts opts, then the wait's own arguments with
// prepare, which returns the call to make with them and a function that frees them (or the error
// that keeps them from being converted); it sets opts.Progress (if not nil) as the progress
// callback for the duration of the call, ties the call to ctx and Close, names a stop by progress
// in the error, raises a panic of progress again once the call has returned, and copies the final
// tasks.
func (c *Client) wait(ctx context.Context, opts *WaitOptions, prepare func() (waitCall, func(), error)) ([]Task, error) {
	// The progress callback is set below, for the duration of the call.
	copts, err := newC(func() *C.storetasks_wait_options { return C.storetasks_wait_options_new() },
		func(copts *C.storetasks_wait_options) error { return fillCWaitOptions(copts, opts) },
		func(copts *C.storetasks_wait_options) { C.storetasks_wait_options_free(copts) })
	if err != nil {
		return nil, err
	}
	defer C.storetasks_wait_options_free(copts)
	run, free, err := prepare()
	if err != nil {
		return nil, err
	}
	defer free()
	progress := opts.Progress
	var sink progressSink
	var tasks []Task
	err = c.do(ctx, func(ptr *C.storetasks_client, k *call) error {
		if progress != nil {
			sink.progress = progress
			sink.cancelled = k.cancelled
			h := cgo.NewHandle(&sink)
			defer h.Delete()
			if st := C.storetasks_go_wait_options_set_progress(copts, C.uintptr_t(h)); st != C.STORETASKS_STATUS_OK {
				return refused("WaitOptions.Progress", Status(st), C.storetasks_wait_options_last_error(copts))
			}
		}
		var list *C.storetasks_task_list
		var cerr *C.storetasks_error
		if st := run(ptr, copts, k.tok, &list, &cerr); st != StatusOK {
			e := takeError(st, cerr)
			if sink.stopped && e.Status == StatusCancelled {
				select {
				case <-k.cancelled: // cancelled by ctx or Close: do() adds the reason
				default:
					e.Message = "the progress function stopped the wait"
				}
			}
			return e
		}
		if list != nil {
			tasks = copyList(list).Tasks
			C.storetasks_task_list_free(list)
		}
		return nil
	})
	// The progress function may still be running if the wait was cancelled during it (it may be
	// the one that closed the client): the wait returns only after it.
	sink.running.Wait()
	if sink.panicked != nil {
		panic(sink.panicked)
	}
	if err != nil {
		return nil, err
	}
	return tasks, nil
}

// progressSink receives the polls of storetasks_client_wait and storetasks_client_wait_targets.
// It is reached from C through a cgo.Handle passed as the callback's user data.
type progressSink struct {
	progress  func([]Task) bool
	cancelled <-chan struct{} // closed when ctx or Close cancels the call
	running   sync.WaitGroup  // the goroutine running progress, if any
	stopped   bool            // the callback returned false
	panicked  any             // a panic caught in progress, raised again by wait
}

// storetasksGoProgress is the progress callback. It runs on the goroutine that made the C call,
// inside that call; the list is borrowed only until it returns, so the tasks are copied first.
//
// The progress function runs on a goroutine of its own while this one waits for its answer or
// for the call's cancellation: the goroutine inside the C call holds the client's read lock, so
// a function that closed the client, or called it while another goroutine closes it, would
// otherwise deadlock. A panic in the function never unwinds through the library's frames: it is
// caught there, the wait is stopped, and Wait or WaitTargets raises it again.
//
//export storetasksGoProgress
func storetasksGoProgress(list *C.storetasks_task_list, h C.uintptr_t) C.bool {
	sink := cgo.Handle(h).Value().(*progressSink)
	tasks := copyList(list).Tasks
	answer := make(chan bool, 1)
	sink.running.Add(1)
	go func() {
		defer sink.running.Done()
		more := false
		defer func() { answer <- more }()
		defer keepPanic(&sink.panicked)
		more = sink.progress(tasks)
	}()
	select {
	case more := <-answer:
		if !more {
			sink.stopped = true
		}
		return C.bool(more)
	case <-sink.cancelled:
		sink.stopped = true
		return false
	}
}

func fillCWaitOptions(copts *C.storetasks_wait_options, o *WaitOptions) error {
	check := checker("", func() *C.char { return C.storetasks_wait_options_last_error(copts) })
	if o.MinDelay != 0 || o.MaxDelay != 0 {
		// A negative bound is named as given, before it stands in for the other, zero one.
		if o.MinDelay < 0 || o.MaxDelay < 0 {
			what := "WaitOptions.MinDelay"
			if o.MinDelay >= 0 {
				what = "WaitOptions.MaxDelay"
			}
			return invalidArgument("%s is negative", what)
		}
		lo, hi := o.MinDelay, o.MaxDelay
		if lo == 0 {
			lo = min(DefaultWaitMinDelay, hi)
		}
		if hi == 0 {
			hi = max(DefaultWaitMaxDelay, lo)
		}
		loMS, err := durationMS("WaitOptions.MinDelay", lo)
		if err != nil {
			return err
		}
		hiMS, err := durationMS("WaitOptions.MaxDelay", hi)
		if err != nil {
			return err
		}
		if loMS > hiMS {
			return invalidArgument("WaitOptions.MinDelay %v is greater than WaitOptions.MaxDelay %v", lo, hi)
		}
		if err := check("WaitOptions.MinDelay and MaxDelay", Status(C.storetasks_wait_options_set_delays(copts, loMS, hiMS))); err != nil {
			return err
		}
	}
	// The limits: 0 keeps the default, a negative one is passed as 0 ms (no deadline, no grace).
	for _, l := range []struct {
		what string
		d    time.Duration
		set  func(C.uint64_t) Status
	}{
		{"WaitOptions.Timeout", o.Timeout, func(ms C.uint64_t) Status {
			return Status(C.storetasks_wait_options_set_timeout(copts, ms))
		}},
		{"WaitOptions.NotFoundGrace", o.NotFoundGrace, func(ms C.uint64_t) Status {
			return Status(C.storetasks_wait_options_set_not_found_grace(copts, ms))
		}},
	} {
		if l.d == 0 {
			continue
		}
		var ms C.uint64_t
		if l.d > 0 {
			ms, _ = durationMS(l.what, l.d)
		}
		if err := check(l.what, l.set(ms)); err != nil {
			return err
		}
	}
	return nil
}

// cStringArray copies image ids into a C array of C strings, both in C memory, and returns a
// function that frees them. An empty id or one holding a NUL byte gives an error.
func cStringArray(ids []string) (**C.char, func(), error) {
	if len(ids) == 0 {
		return nil, func() {}, nil
	}
	arrp := (**C.char)(C.calloc(C.size_t(len(ids)), C.size_t(unsafe.Sizeof((*C.char)(nil)))))
	if arrp == nil {
		return nil, nil, outOfMemory()
	}
	arr := unsafe.Slice(arrp, len(ids))
	free := func() {
		for _, p := range arr {
			if p != nil {
				freeC(p)
			}
		}
		C.free(unsafe.Pointer(arrp))
	}
	for i, id := range ids {
		what := fmt.Sprintf("imageIDs[%d]", i)
		if id == "" {
			free()
			return nil, nil, invalidArgument("%s is empty", what)
		}
		cs, err := cString(what, id)
		if err != nil {
			free()
			return nil, nil, err
		}
		arr[i] = cs
	}
	return arrp, free, nil
}

// cWaitTargets converts targets to the library's form: a Go slice (which holds no Go pointer) of
// structs pointing to C copies of the strings, NULL for an empty Region or RoleARN. It returns
// a function that frees the strings. An empty ImageID or a string holding a NUL byte gives an
// error.
func cWaitTargets(targets []WaitTarget) ([]C.storetasks_wait_target, func(), error) {
	out := make([]C.storetasks_wait_target, len(targets))
	free := func() {
		for i := range out {
			for _, p := range []*C.char{out[i].region, out[i].role_arn, out[i].image_id} {
				if p != nil {
					freeC(p)
				}
			}
		}
	}
	for i, t := range targets {
		if t.ImageID == "" {
			free()
			return nil, nil, invalidArgument("targets[%d].ImageID is empty", i)
		}
		var err error
		ct := &out[i]
		if ct.region, err = cStringOrNil(fmt.Sprintf("targets[%d].Region", i), t.Region); err == nil {
			if ct.role_arn, err = cStringOrNil(fmt.Sprintf("targets[%d].RoleARN", i), t.RoleARN); err == nil {
				ct.image_id, err = cString(fmt.Sprintf("targets[%d].ImageID", i), t.ImageID)
			}
		}
		if err != nil {
			free()
			return nil, nil, err
		}
	}
	return out, free, nil
}
