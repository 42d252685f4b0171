package storetasks

/*
#include <stdint.h>
#include "storetasks.h"

extern _Bool storetasksGoPage(storetasks_task_list *list, uintptr_t handle);

static bool storetasks_go_page(const storetasks_task_list *page, void *user_data) {
	return storetasksGoPage((storetasks_task_list *)page, (uintptr_t)user_data);
}

// The handle travels as an integer until it is in C, where it becomes the opaque user data.
static storetasks_status storetasks_go_describe_pages(const storetasks_client *client,
		const storetasks_query *query, size_t max_tasks, const storetasks_cancel *cancel,
		uintptr_t handle, storetasks_error **err) {
	return storetasks_client_describe_pages(client, query, max_tasks, cancel, storetasks_go_page,
		(void *)handle, err);
}
*/
import "C"

import (
	"context"
	"iter"
	"runtime/cgo"
)

// Describe fetches one page: the tasks of one DescribeStoreImageTasks request and the token of
// the next page. With more than 20 image ids it sends several requests and merges their tasks,
// newest first.
func (c *Client) Describe(ctx context.Context, q Query) (Page, error) {
	return c.listCall(ctx, &q, func(ptr *C.storetasks_client, cq *C.storetasks_query, tok *C.storetasks_cancel,
		list **C.storetasks_task_list, cerr **C.storetasks_error) C.storetasks_status {
		return C.storetasks_status(C.storetasks_client_describe(ptr, cq, tok, list, cerr))
	})
}

// listCall runs one C call that returns a task list, and copies the list out before freeing it.
func (c *Client) listCall(ctx context.Context, q *Query, fetch func(*C.storetasks_client, *C.storetasks_query,
	*C.storetasks_cancel, **C.storetasks_task_list, **C.storetasks_error) C.storetasks_status) (Page, error) {
	cq, err := newCQuery(q)
	if err != nil {
		return Page{}, err
	}
	defer C.storetasks_query_free(cq)
	var page Page
	err = c.do(ctx, func(ptr *C.storetasks_client, k *call) error {
		var list *C.storetasks_task_list
		var cerr *C.storetasks_error
		if st := fetch(ptr, cq, k.tok, &list, &cerr); st != C.STORETASKS_STATUS_OK {
			return takeError(st, cerr)
		}
		page = copyList(list)
		C.storetasks_task_list_free(list)
		return nil
	})
	return page, err
}

// Collect follows NextToken from q.NextToken to the end of the listing and returns every task
// in one Page. maxTasks caps the number of tasks (0: no cap); when the cap cuts the listing
// short, the Page's NextToken resumes it exactly after the last task returned. When the cut
// tasks cannot be resumed by a token (q names image ids, which EC2 answers without one, or the
// service sent more tasks than q.MaxResults), the Page comes with Truncated set and no
// NextToken: the call still succeeds, with the first maxTasks tasks. Use All or Pages for
// listings too large to hold in memory.
func (c *Client) Collect(ctx context.Context, q Query, maxTasks int) (Page, error) {
	if maxTasks < 0 {
		return Page{}, invalidArgument("maxTasks %d is negative", maxTasks)
	}
	return c.listCall(ctx, &q, func(ptr *C.storetasks_client, cq *C.storetasks_query, tok *C.storetasks_cancel,
		list **C.storetasks_task_list, cerr **C.storetasks_error) C.storetasks_status {
		return C.storetasks_status(C.storetasks_client_describe_all(ptr, cq, C.size_t(maxTasks), tok, list, cerr))
	})
}

// Pages streams a listing page by page, following NextToken from q.NextToken to the end. The
// next page is fetched while the loop body handles the current one, so at most two pages are
// in memory at a time, whatever the listing's size. An error ends the sequence: it is yielded
// once, with an empty Page. Leaving the loop early cancels the request in flight.
//
// A service that repeats a token ends the listing with an error matching ErrResponse.
func (c *Client) Pages(ctx context.Context, q Query) iter.Seq2[Page, error] {
	return func(yield func(Page, error) bool) {
		var err error
		list := func(ctx context.Context, deliver func(Page, <-chan struct{}) bool) {
			err = c.eachPage(ctx, &q, 0, deliver)
		}
		if streamPages(ctx, list, yield) && err != nil {
			yield(Page{}, err)
		}
	}
}

// streamPages runs list on a goroutine of its own and hands the pages it delivers to yield as
// they arrive, for Pages and FleetPages. list runs a listing with the given context and deliver
// as its page callback. streamPages returns once list has returned, and reports whether the loop
// ran to its end (yield never returned false).
//
// However the loop ends (done, break, panic), streamPages stops the producer and waits for it,
// so that no goroutine or C call outlives the loop. A producer handing over a page then answers
// false, one waiting for the next page is woken by the cancellation token.
func streamPages[P any](ctx context.Context, list func(context.Context, func(P, <-chan struct{}) bool),
	yield func(P, error) bool) bool {
	ctx, cancel := context.WithCancel(ctx)
	pages := make(chan P)
	go func() {
		defer close(pages)
		list(ctx, func(p P, cancelled <-chan struct{}) bool {
			select {
			case pages <- p:
				return true
			case <-cancelled:
				return false
			}
		})
	}()
	defer func() {
		cancel()
		for range pages {
		}
	}()
	for p := range pages {
		if !yield(p, nil) {
			return false
		}
	}
	return true
}

// All streams every task of a listing, page by page, as Pages does. An error ends the
// sequence: it is yielded once, with a zero Task.
func (c *Client) All(ctx context.Context, q Query) iter.Seq2[Task, error] {
	return func(yield func(Task, error) bool) {
		for p, err := range c.Pages(ctx, q) {
			if err != nil {
				yield(Task{}, err)
				return
			}
			for _, t := range p.Tasks {
				if !yield(t, nil) {
					return
				}
			}
		}
	}
}

// eachPage runs storetasks_client_describe_pages for q, handing each page to deliver on the
// calling goroutine. deliver gets a channel closed when the call is cancelled (by ctx or Close),
// and returns false to stop the listing. A panic in deliver is raised again once the library
// has returned.
func (c *Client) eachPage(ctx context.Context, q *Query, maxTasks int,
	deliver func(Page, <-chan struct{}) bool) error {
	cq, err := newCQuery(q)
	if err != nil {
		return err
	}
	defer C.storetasks_query_free(cq)
	var sink pageSink
	err = c.do(ctx, func(ptr *C.storetasks_client, k *call) error {
		sink.deliver = func(p Page) bool { return deliver(p, k.cancelled) }
		h := cgo.NewHandle(&sink)
		defer h.Delete()
		var cerr *C.storetasks_error
		st := C.storetasks_go_describe_pages(ptr, cq, C.size_t(maxTasks), k.tok, C.uintptr_t(h), &cerr)
		if sink.panicked != nil {
			C.storetasks_error_free(cerr)
			panic(sink.panicked)
		}
		if st != C.STORETASKS_STATUS_OK {
			return takeError(st, cerr)
		}
		if sink.stopped {
			// Stopped because the call was cancelled: do() adds the reason.
			select {
			case <-k.cancelled:
				return &Error{Status: StatusCancelled, Message: "the call was cancelled"}
			default:
			}
		}
		return nil
	})
	return err
}
