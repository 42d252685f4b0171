package storetasks

/*
#include <stdint.h>
#include "storetasks.h"
*/
import "C"

import (
	"fmt"
	"runtime/cgo"
)

// pageSink receives the pages of storetasks_client_describe_pages. It is reached from C
// through a cgo.Handle passed as the callback's user data.
type pageSink struct {
	deliver  func(Page) bool
	stopped  bool // deliver returned false
	panicked any  // a panic caught in deliver, raised again once the C call has returned
}

// storetasksGoPage is the page callback. It runs on the goroutine that made the C call, inside
// that call; the list is borrowed only until it returns, so the page is copied first. A panic
// must not unwind through the library's frames: it is caught, the listing is stopped, and the
// panic is raised again in Go once the library has returned.
//
//export storetasksGoPage
func storetasksGoPage(list *C.storetasks_task_list, h C.uintptr_t) (more C.bool) {
	sink := cgo.Handle(h).Value().(*pageSink)
	defer keepPanic(&sink.panicked)
	if !sink.deliver(copyList(list)) {
		sink.stopped = true
		return false
	}
	return true
}

// fleetSink receives the pages of storetasks_client_describe_fleet_pages, as pageSink does
// those of storetasks_client_describe_pages.
type fleetSink struct {
	deliver  func(FleetPage) bool
	stopped  bool // deliver returned false
	panicked any  // a panic caught in deliver, raised again once the C call has returned
}

// storetasksGoFleetPage is the page callback of a fleet listing, with the place the page comes
// from (account NULL for the client's own credentials). Like storetasksGoPage, it runs inside
// the C call on the goroutine that made it, copies everything borrowed before handing it on,
// and never lets a panic unwind through the library's frames.
//
//export storetasksGoFleetPage
func storetasksGoFleetPage(region, account *C.char, list *C.storetasks_task_list, h C.uintptr_t) (more C.bool) {
	sink := cgo.Handle(h).Value().(*fleetSink)
	defer keepPanic(&sink.panicked)
	p := FleetPage{Region: goStringOrEmpty(region), Account: goStringOrEmpty(account), Page: copyList(list)}
	if !sink.deliver(p) {
		sink.stopped = true
		return false
	}
	return true
}

// keepPanic, deferred by a callback, keeps a panic from unwinding through the library's frames:
// it stores the panic in *panicked, to be raised again in Go once the C call has returned (an
// error as it is, anything else as its text). The callback's answer then stays false, the value
// it held before the panic: no more pages, no more polls.
func keepPanic(panicked *any) {
	if r := recover(); r != nil {
		*panicked = fmt.Sprint(r)
		if err, ok := r.(error); ok {
			*panicked = err
		}
	}
}
