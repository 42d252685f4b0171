package storetasks

/*
#include <stdint.h>
#include "storetasks.h"

extern _Bool storetasksGoFleetPage(char *region, char *account, storetasks_task_list *list, uintptr_t handle);

static bool storetasks_go_fleet_page(const char *region, const char *account,
		const storetasks_task_list *page, void *user_data) {
	return storetasksGoFleetPage((char *)region, (char *)account, (storetasks_task_list *)page,
		(uintptr_t)user_data);
}

// The handle travels as an integer until it is in C, where it becomes the opaque user data.
static storetasks_status storetasks_go_describe_fleet_pages(const storetasks_client *client,
		const storetasks_fleet *fleet, const storetasks_query *query, const storetasks_cancel *cancel,
		uintptr_t handle, storetasks_fleet_result **result, storetasks_error **err) {
	return storetasks_client_describe_fleet_pages(client, fleet, query, cancel,
		storetasks_go_fleet_page, (void *)handle, result, err);
}
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"runtime/cgo"
	"strconv"
)

// Fleet says where a fleet call runs: in which regions and, through IAM roles, in which
// accounts. Each (account, region) pair is a place; the call lists every place at once,
// Config.MaxConcurrency of them at a time.
type Fleet struct {
	// Regions to list, such as "eu-west-3". A region named twice is listed once.
	Regions []string
	// AllRegions lists every region enabled for each account, as EC2 DescribeRegions (asked in
	// the client's region) names them; regions that are not opted in are left out. It cannot be
	// combined with Regions.
	AllRegions bool
	// RoleARNs are IAM roles to assume, "arn:aws:iam::ACCOUNT:role/NAME", one per account. STS
	// gives each role's temporary credentials for the client's own. Without roles, the client's
	// own account is listed; with roles, only their accounts are.
	RoleARNs []string
}

// FleetPlace is the outcome of one (account, region) place of a fleet call.
type FleetPlace struct {
	// Region is the place's region; "" for an account whose regions could not be listed
	// (AllRegions), in which case Err says why.
	Region string
	// Account is the account of the place's role, or "" for the client's own credentials.
	Account string
	// RoleARN is the role assumed for the place, or "" for the client's own credentials.
	RoleARN string
	// Tasks holds the place's tasks, newest first: every task listed there by DescribeFleet
	// (for a failed place, those read before it failed). It is empty after FleetPages and
	// FleetTasks, whose loops received the tasks.
	Tasks []Task
	// TaskCount is how many tasks the place delivered, to Tasks or to the loop.
	TaskCount int
	// RequestID is the request id of the place's last reply (DescribeFleet), or "".
	RequestID string
	// Err is why the place's listing failed, an *Error (errors.Is(p.Err, ErrThrottled)...), or
	// nil when it was listed to its end.
	Err error
}

// FleetResult holds the outcome of every place of a fleet call, in order: accounts in the order
// of Fleet.RoleARNs (or the client's own account alone), and within each account the regions in
// the order of Fleet.Regions (or sorted by name, for AllRegions).
type FleetResult struct {
	// Places holds one FleetPlace per (account, region) place, in that order: the list that
	// JSON, like the C library's storetasks_fleet_result_to_json, names "Places".
	Places []FleetPlace
}

// Failed returns the places whose listing failed, in order; none when every place was listed.
func (r *FleetResult) Failed() []FleetPlace {
	var failed []FleetPlace
	for _, p := range r.Places {
		if p.Err != nil {
			failed = append(failed, p)
		}
	}
	return failed
}

// Tasks returns the tasks of every place, place after place, each with its region and account.
func (r *FleetResult) Tasks() []FleetTask {
	n := 0
	for _, p := range r.Places {
		n += len(p.Tasks)
	}
	tasks := make([]FleetTask, 0, n)
	for _, p := range r.Places {
		for _, t := range p.Tasks {
			tasks = append(tasks, FleetTask{Task: t, Region: p.Region, Account: p.Account})
		}
	}
	return tasks
}

// FleetPage is one page of a fleet listing, with the place it comes from. Its NextToken belongs
// to that place's listing.
type FleetPage struct {
	Region  string
	Account string // "" for the client's own credentials
	Page
}

// FleetTask is one task of a fleet listing, with the place it comes from.
type FleetTask struct {
	Task
	Region  string
	Account string // "" for the client's own credentials
}

// DescribeFleet runs q in every place of fleet at once, lists each place to its end, and returns
// every task, place by place. Use FleetTasks for listings too large to hold in memory.
//
// A place that fails does not fail the call: its FleetPlace carries the error, and the other
// places their tasks. The call itself fails only for bad input (ErrInvalidArgument: a fleet
// without regions or with both Regions and AllRegions, a query with a NextToken, which belongs
// to one region's listing, or any field the library refuses), or when ctx ends or the client is
// closed (ErrCancelled).
func (c *Client) DescribeFleet(ctx context.Context, fleet Fleet, q Query) (*FleetResult, error) {
	r, _, err := c.describeFleet(ctx, &fleet, &q, false)
	return r, err
}

// describeFleet runs storetasks_client_describe_fleet and copies its result out, with the
// library's JSON rendering of it when withJSON is set (for the tests).
func (c *Client) describeFleet(ctx context.Context, fleet *Fleet, q *Query, withJSON bool) (*FleetResult, []byte, error) {
	cf, cq, free, err := newCFleetQuery(fleet, q)
	if err != nil {
		return nil, nil, err
	}
	defer free()
	var result *FleetResult
	var text []byte
	err = c.do(ctx, func(ptr *C.storetasks_client, k *call) error {
		var r *C.storetasks_fleet_result
		var cerr *C.storetasks_error
		if st := C.storetasks_client_describe_fleet(ptr, cf, cq, k.tok, &r, &cerr); st != C.STORETASKS_STATUS_OK {
			return takeError(st, cerr)
		}
		defer C.storetasks_fleet_result_free(r)
		result = &FleetResult{Places: copyPlaces(r)}
		if withJSON {
			var err error
			text, err = libraryText(func(s **C.char, cerr **C.storetasks_error) C.enum_storetasks_status {
				return C.storetasks_fleet_result_to_json(r, s, cerr)
			})
			return err
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return result, text, nil
}

// FleetPages streams a fleet listing page by page, each page as it arrives from any place, so
// that memory stays bounded whatever the fleet's size. Pages of one place come in order; pages
// of different places interleave.
//
// A place that fails does not end the sequence. When result is not nil, it is emptied as the
// loop starts and, once the loop has run to its end, holds every place's outcome: its error if
// it failed, and how many tasks it delivered (FleetPlace.Tasks stays empty). An error that ends
// the whole call (bad input as for DescribeFleet, ctx ending, the client closed) is yielded
// once, with an empty FleetPage, and leaves result empty. Leaving the loop early stops every
// place's listing and leaves result empty too. Do not range over the same sequence from two
// goroutines at once with the same result.
func (c *Client) FleetPages(ctx context.Context, fleet Fleet, q Query, result *FleetResult) iter.Seq2[FleetPage, error] {
	return func(yield func(FleetPage, error) bool) {
		if result != nil {
			*result = FleetResult{}
		}
		var places []FleetPlace
		var err error
		list := func(ctx context.Context, deliver func(FleetPage, <-chan struct{}) bool) {
			places, err = c.eachFleetPage(ctx, &fleet, &q, deliver)
		}
		if !streamPages(ctx, list, yield) {
			return
		}
		if err != nil {
			yield(FleetPage{}, err)
			return
		}
		if result != nil {
			result.Places = places
		}
	}
}

// FleetTasks streams every task of a fleet listing, with the place it comes from, as FleetPages
// does: a failed place is reported in result (when not nil) once the loop has run to its end,
// and an error that ends the whole call is yielded once, with a zero FleetTask.
//
//	var res storetasks.FleetResult
//	for t, err := range c.FleetTasks(ctx, storetasks.Fleet{AllRegions: true}, storetasks.Query{}, &res) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(t.Region, t.AmiID, t.State)
//	}
//	for _, p := range res.Failed() {
//		log.Printf("%s %s: %v", p.Account, p.Region, p.Err)
//	}
func (c *Client) FleetTasks(ctx context.Context, fleet Fleet, q Query, result *FleetResult) iter.Seq2[FleetTask, error] {
	return func(yield func(FleetTask, error) bool) {
		for p, err := range c.FleetPages(ctx, fleet, q, result) {
			if err != nil {
				yield(FleetTask{}, err)
				return
			}
			for _, t := range p.Tasks {
				if !yield(FleetTask{Task: t, Region: p.Region, Account: p.Account}, nil) {
					return
				}
			}
		}
	}
}

// eachFleetPage runs storetasks_client_describe_fleet_pages, handing each page to deliver on
// the calling goroutine, and returns the outcome of every place. deliver gets a channel closed
// when the call is cancelled (by ctx or Close), and returns false to stop every listing. A
// panic in deliver is raised again once the library has returned.
func (c *Client) eachFleetPage(ctx context.Context, fleet *Fleet, q *Query,
	deliver func(FleetPage, <-chan struct{}) bool) ([]FleetPlace, error) {
	cf, cq, free, err := newCFleetQuery(fleet, q)
	if err != nil {
		return nil, err
	}
	defer free()
	var sink fleetSink
	var places []FleetPlace
	err = c.do(ctx, func(ptr *C.storetasks_client, k *call) error {
		sink.deliver = func(p FleetPage) bool { return deliver(p, k.cancelled) }
		h := cgo.NewHandle(&sink)
		defer h.Delete()
		var r *C.storetasks_fleet_result
		var cerr *C.storetasks_error
		st := C.storetasks_go_describe_fleet_pages(ptr, cf, cq, k.tok, C.uintptr_t(h), &r, &cerr)
		if sink.panicked != nil {
			C.storetasks_error_free(cerr)
			C.storetasks_fleet_result_free(r)
			panic(sink.panicked)
		}
		if st != C.STORETASKS_STATUS_OK {
			return takeError(st, cerr)
		}
		defer C.storetasks_fleet_result_free(r)
		if sink.stopped {
			// Stopped because the call was cancelled: do() adds the reason.
			select {
			case <-k.cancelled:
				return &Error{Status: StatusCancelled, Message: "the call was cancelled"}
			default:
			}
		}
		places = copyPlaces(r)
		return nil
	})
	return places, err
}

// newCFleetQuery builds the C fleet and query of a fleet call; free releases both.
func newCFleetQuery(f *Fleet, q *Query) (*C.storetasks_fleet, *C.storetasks_query, func(), error) {
	cf, err := newC(func() *C.storetasks_fleet { return C.storetasks_fleet_new() },
		func(cf *C.storetasks_fleet) error { return fillCFleet(cf, f) },
		func(cf *C.storetasks_fleet) { C.storetasks_fleet_free(cf) })
	if err != nil {
		return nil, nil, nil, err
	}
	cq, err := newCQuery(q)
	if err != nil {
		C.storetasks_fleet_free(cf)
		return nil, nil, nil, err
	}
	return cf, cq, func() { C.storetasks_query_free(cq); C.storetasks_fleet_free(cf) }, nil
}

func fillCFleet(cf *C.storetasks_fleet, f *Fleet) error {
	check := checker("", func() *C.char { return C.storetasks_fleet_last_error(cf) })
	add := func(what, v string, set func(*C.char) Status) error {
		cs, err := cString(what, v)
		if err != nil {
			return err
		}
		st := set(cs)
		freeC(cs)
		return check(what, st)
	}
	for i, r := range f.Regions {
		if err := add(fmt.Sprintf("Fleet.Regions[%d]", i), r, func(s *C.char) Status {
			return Status(C.storetasks_fleet_add_region(cf, s))
		}); err != nil {
			return err
		}
	}
	if f.AllRegions {
		if err := check("Fleet.AllRegions", Status(C.storetasks_fleet_set_all_regions(cf, true))); err != nil {
			return err
		}
	}
	for i, arn := range f.RoleARNs {
		if err := add(fmt.Sprintf("Fleet.RoleARNs[%d]", i), arn, func(s *C.char) Status {
			return Status(C.storetasks_fleet_add_role_arn(cf, s))
		}); err != nil {
			return err
		}
	}
	return nil
}

// copyPlaces copies every place of a fleet result. The result stays owned by the caller; its
// task lists and errors are borrowed from it, never freed here.
func copyPlaces(r *C.storetasks_fleet_result) []FleetPlace {
	n := int(C.storetasks_fleet_result_len(r))
	places := make([]FleetPlace, n)
	for i := range places {
		ci := C.size_t(i)
		p := &places[i]
		p.Region = goStringOrEmpty(C.storetasks_fleet_result_region(r, ci))
		p.Account = goStringOrEmpty(C.storetasks_fleet_result_account(r, ci))
		p.RoleARN = goStringOrEmpty(C.storetasks_fleet_result_role_arn(r, ci))
		p.TaskCount = int(C.storetasks_fleet_result_task_count(r, ci))
		if list := C.storetasks_fleet_result_tasks(r, ci); list != nil {
			page := copyList(list)
			p.Tasks, p.RequestID = page.Tasks, page.RequestID
		}
		if cerr := C.storetasks_fleet_result_error(r, ci); cerr != nil {
			p.Err = copyError(cerr)
		}
	}
	return places
}

// JSON renders the result as the library's storetasks_fleet_result_to_json does, byte for byte:
// {"Places": [{"Region", "Account" (null for the client's own credentials), "RoleArn" (with a
// role), "StoreImageTaskResults" (the tasks in the AWS CLI's shape), "Error" (for a failed
// place: "Status", "Code", "Message", "HttpStatus", "RequestId", the absent ones left out)}]},
// four-space indent and a final newline.
func (r *FleetResult) JSON() []byte {
	b := make([]byte, 0, 64+len(r.Places)*(256+64))
	b = append(b, "{\n    \"Places\": ["...)
	for i := range r.Places {
		p := &r.Places[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n        {\n            \"Region\": "...)
		b = appendJSONString(b, p.Region)
		b = append(b, ",\n            \"Account\": "...)
		if p.Account == "" {
			b = append(b, "null"...)
		} else {
			b = appendJSONString(b, p.Account)
		}
		if p.RoleARN != "" {
			b = append(b, ",\n            \"RoleArn\": "...)
			b = appendJSONString(b, p.RoleARN)
		}
		b = append(b, ',')
		b = appendTaskResults(b, p.Tasks, "            ")
		if p.Err != nil {
			b = appendPlaceError(b, p.Err)
		}
		b = append(b, "\n        }"...)
	}
	if len(r.Places) > 0 {
		b = append(b, "\n    "...)
	}
	return append(b, "]\n}\n"...)
}

func appendPlaceError(b []byte, err error) []byte {
	// The places of a call hold an *Error; another error, set by hand, keeps only its text.
	status := "STORETASKS_STATUS_UNKNOWN"
	e := &Error{Message: err.Error()}
	if errors.As(err, &e) {
		status = e.Status.String()
	}
	const indent = "\n                "
	b = append(b, ",\n            \"Error\": {"...)
	b = append(b, indent+"\"Status\": "...)
	b = appendJSONString(b, status)
	if e.Code != "" {
		b = append(b, ","+indent+"\"Code\": "...)
		b = appendJSONString(b, e.Code)
	}
	b = append(b, ","+indent+"\"Message\": "...)
	b = appendJSONString(b, e.Message)
	if e.HTTPStatus != 0 {
		b = append(b, ","+indent+"\"HttpStatus\": "...)
		b = strconv.AppendInt(b, int64(e.HTTPStatus), 10)
	}
	if e.RequestID != "" {
		b = append(b, ","+indent+"\"RequestId\": "...)
		b = appendJSONString(b, e.RequestID)
	}
	return append(b, "\n            }"...)
}
