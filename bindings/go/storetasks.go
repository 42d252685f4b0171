// Package storetasks reports the progress of Amazon EC2 AMI store-to-S3 tasks
// (DescribeStoreImageTasks) through libstoretasks, a C library written in Rust.
//
// A [Client] is created from a [Config] and is safe for concurrent use. [Client.Describe]
// fetches one page, [Client.All] and [Client.Pages] stream a whole listing page by page
// (only about two pages are held in memory, whatever the listing's size), and
// [Client.Collect] gathers a listing, up to a cap, into one [Page]. [Client.Wait] polls until
// the store tasks of some images complete, reporting their progress along the way.
// [Client.DescribeFleet] and [Client.FleetTasks] run one query in many regions and accounts at
// once (a [Fleet]), each place's failure reported apart from the others' tasks.
//
// Every call takes a [context.Context]: cancelling it, or reaching its deadline, ends the call
// in flight promptly, and the error then satisfies errors.Is with [context.Canceled] or
// [context.DeadlineExceeded] as well as with [ErrCancelled].
//
// Failures are *[Error] values carrying the library's status, the AWS error code, the message,
// the HTTP status and the request id. Compare them with the sentinels:
//
//	if errors.Is(err, storetasks.ErrThrottled) { ... }
//	var e *storetasks.Error
//	if errors.As(err, &e) { log.Print(e.Code, e.RequestID) }
//
// The package is github.com/libstoretasks/libstoretasks/bindings/go. By default it links an
// installed libstoretasks through pkg-config (storetasks.pc; set PKG_CONFIG_PATH to
// PREFIX/lib/pkgconfig for a prefix pkg-config does not search); the build tag
// storetasks_static links the installed static archive instead (storetasks-static.pc). Inside
// the repository, the build tag storetasks_intree links the checkout's own build
// (../../target/release, with an rpath to it). See README.md.
package storetasks

/*
#include "storetasks.h"
*/
import "C"

import "strconv"

// Version returns the version of the linked libstoretasks, such as "0.1.0".
func Version() string {
	return C.GoString(C.storetasks_version())
}

// HeaderVersion is the version of include/storetasks.h this package was compiled against, as
// "MAJOR.MINOR.PATCH". It should equal Version(), the linked library's.
var HeaderVersion = strconv.Itoa(C.STORETASKS_VERSION_MAJOR) + "." +
	strconv.Itoa(C.STORETASKS_VERSION_MINOR) + "." + strconv.Itoa(C.STORETASKS_VERSION_PATCH)
