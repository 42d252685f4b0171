package storetasks

/*
#include <stdlib.h>
#include "storetasks.h"
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// Filter narrows a listing: Name is "task-state" (values InProgress, Completed, Failed) or
// "bucket"; a task matches when any of the Values matches. Other names are sent as they are,
// for EC2 to judge. Filters are ignored by EC2 when image ids are given.
type Filter struct {
	Name   string
	Values []string
}

// Query holds the parameters of a DescribeStoreImageTasks call. The zero value lists every
// task of the last 31 days, newest first, in EC2's page size.
type Query struct {
	// ImageIDs selects the latest task of each AMI. Any number may be given: more than 20 are
	// sent as several requests (see Config.MaxConcurrency) and merged, newest first.
	ImageIDs []string
	// Filters, all of which a task must match.
	Filters []Filter
	// MaxResults is the page size, 1 to 200; 0 leaves it to EC2. Not allowed with ImageIDs.
	MaxResults int32
	// NextToken resumes a listing where a Page's NextToken left it.
	NextToken string
	// DryRun only checks permissions: the call fails with ErrDryRunOK when it would have
	// succeeded.
	DryRun bool
}

// newCQuery builds the C query; free it with C.storetasks_query_free.
func newCQuery(q *Query) (*C.storetasks_query, error) {
	return newC(func() *C.storetasks_query { return C.storetasks_query_new() },
		func(cq *C.storetasks_query) error { return fillCQuery(cq, q) },
		func(cq *C.storetasks_query) { C.storetasks_query_free(cq) })
}

func fillCQuery(cq *C.storetasks_query, q *Query) error {
	check := checker("", func() *C.char { return C.storetasks_query_last_error(cq) })
	for i, id := range q.ImageIDs {
		what := fmt.Sprintf("Query.ImageIDs[%d]", i)
		if id == "" {
			return invalidArgument("%s is empty", what)
		}
		cs, err := cString(what, id)
		if err != nil {
			return err
		}
		st := Status(C.storetasks_query_add_image_id(cq, cs))
		freeC(cs)
		if err := check(what, st); err != nil {
			return err
		}
	}
	for i, f := range q.Filters {
		if err := addFilter(cq, i, f); err != nil {
			return err
		}
	}
	if q.MaxResults != 0 {
		if err := check("Query.MaxResults", Status(C.storetasks_query_set_max_results(cq, C.int32_t(q.MaxResults)))); err != nil {
			return err
		}
	}
	if q.NextToken != "" {
		cs, err := cString("Query.NextToken", q.NextToken)
		if err != nil {
			return err
		}
		st := Status(C.storetasks_query_set_next_token(cq, cs))
		freeC(cs)
		if err := check("Query.NextToken", st); err != nil {
			return err
		}
	}
	if q.DryRun {
		if err := check("Query.DryRun", Status(C.storetasks_query_set_dry_run(cq, true))); err != nil {
			return err
		}
	}
	return nil
}

func addFilter(cq *C.storetasks_query, i int, f Filter) error {
	what := fmt.Sprintf("Query.Filters[%d]", i)
	name, err := cString(what+".Name", f.Name)
	if err != nil {
		return err
	}
	defer freeC(name)
	var values **C.char
	if n := len(f.Values); n > 0 {
		// The array of pointers lives in C memory, as do the strings it points to.
		values = (**C.char)(C.calloc(C.size_t(n), C.size_t(unsafe.Sizeof((*C.char)(nil)))))
		if values == nil {
			return outOfMemory()
		}
		arr := unsafe.Slice(values, n)
		defer func() {
			for _, p := range arr {
				if p != nil {
					freeC(p)
				}
			}
			C.free(unsafe.Pointer(values))
		}()
		for j, v := range f.Values {
			if arr[j], err = cString(fmt.Sprintf("%s.Values[%d]", what, j), v); err != nil {
				return err
			}
		}
	}
	st := C.storetasks_query_add_filter(cq, name, values, C.size_t(len(f.Values)))
	if st != C.STORETASKS_STATUS_OK {
		return refused(what, Status(st), C.storetasks_query_last_error(cq))
	}
	return nil
}
