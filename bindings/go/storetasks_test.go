package storetasks

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const testNow = "2026-11-20T12:00:00Z"

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// generated starts an emulator with n generated tasks and returns it with the tasks that
// DescribeStoreImageTasks reports, newest first.
func generated(t testing.TB, n int, extra ...string) (*emulator, []emulatorTask) {
	t.Helper()
	args := append([]string{"--generate", fmt.Sprint(n), "--seed", "7", "--now", testNow}, extra...)
	emu := startEmulator(t, args...)
	want := emu.visibleTasks(t, mustTime(t, testNow))
	if len(want) != n {
		t.Fatalf("the emulator reports %d tasks, want %d", len(want), n)
	}
	return emu, want
}

func amiIDs(tasks []Task) []string {
	ids := make([]string, len(tasks))
	for i, t := range tasks {
		ids[i] = t.AmiID
	}
	return ids
}

// checkTask compares a task with the emulator's record of it, member by member.
func checkTask(t *testing.T, got Task, want emulatorTask) {
	t.Helper()
	if got.AmiID != deref(want.AmiId) || got.Bucket != deref(want.Bucket) ||
		got.S3ObjectKey != deref(want.S3objectKey) || string(got.State) != deref(want.StoreTaskState) {
		t.Errorf("task %+v, want %v", got, want)
	}
	if want.TaskStartTime == nil {
		if !got.TaskStartTime.IsZero() {
			t.Errorf("%s: TaskStartTime %v, want none", got.AmiID, got.TaskStartTime)
		}
	} else if ws := mustTime(t, *want.TaskStartTime); !got.TaskStartTime.Equal(ws) || got.TaskStartTime.Location() != time.UTC {
		t.Errorf("%s: TaskStartTime %v, want %v in UTC", got.AmiID, got.TaskStartTime, ws)
	}
	if got.HasProgressPercentage != (want.ProgressPercentage != nil) || got.ProgressPercentage != deref(want.ProgressPercentage) {
		t.Errorf("%s: progress %d (%v), want %v", got.AmiID, got.ProgressPercentage, got.HasProgressPercentage, want.ProgressPercentage)
	}
	// A task marked to fail hides its reason while in progress.
	if got.State == StateFailed && got.FailureReason != deref(want.StoreTaskFailureReason) {
		t.Errorf("%s: FailureReason %q, want %q", got.AmiID, got.FailureReason, deref(want.StoreTaskFailureReason))
	}
}

func TestVersion(t *testing.T) {
	if v := Version(); v != HeaderVersion {
		t.Errorf("Version() = %q, header %q", v, HeaderVersion)
	}
	if s := StatusThrottled.String(); s != "STORETASKS_STATUS_THROTTLED" {
		t.Errorf("StatusThrottled.String() = %q", s)
	}
	if s := StatusPending.String(); s != "STORETASKS_STATUS_PENDING" || StatusPending != 16 {
		t.Errorf("StatusPending = %d, String() = %q", int32(StatusPending), s)
	}
	if s := Status(999).String(); s != "STORETASKS_STATUS_UNKNOWN" {
		t.Errorf("Status(999).String() = %q", s)
	}
}

func TestDescribeOnePage(t *testing.T) {
	emu, want := generated(t, 60)
	c := emu.client(t, nil)
	page, err := c.Describe(context.Background(), Query{MaxResults: 25})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Tasks) != 25 || page.NextToken == "" {
		t.Fatalf("got %d tasks, token %q; want 25 and a token", len(page.Tasks), page.NextToken)
	}
	for i, task := range page.Tasks {
		checkTask(t, task, want[i])
	}
	next, err := c.Describe(context.Background(), Query{MaxResults: 50, NextToken: page.NextToken})
	if err != nil {
		t.Fatal(err)
	}
	if len(next.Tasks) != 35 || next.NextToken != "" {
		t.Fatalf("second page: %d tasks, token %q; want 35 and none", len(next.Tasks), next.NextToken)
	}
	for i, task := range next.Tasks {
		checkTask(t, task, want[25+i])
	}
}

// The generated data holds every member's variants; compare all of it.
func TestTaskMembers(t *testing.T) {
	emu, want := generated(t, 300)
	c := emu.client(t, nil)
	page, err := c.Collect(context.Background(), Query{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Tasks) != len(want) {
		t.Fatalf("%d tasks, want %d", len(page.Tasks), len(want))
	}
	var absentProgress, absentKey, failed, nonASCII int
	for i, task := range page.Tasks {
		checkTask(t, task, want[i])
		if !task.HasProgressPercentage {
			absentProgress++
		}
		if task.S3ObjectKey == "" {
			absentKey++
		}
		if task.State == StateFailed {
			failed++
			if strings.ContainsFunc(task.FailureReason, func(r rune) bool { return r > 127 }) {
				nonASCII++
			}
		}
	}
	if absentProgress == 0 || absentKey == 0 || failed == 0 || nonASCII == 0 {
		t.Errorf("the data lacks variety: %d without progress, %d without key, %d failed, %d non-ASCII reasons",
			absentProgress, absentKey, failed, nonASCII)
	}
}

// A tasks file with an unknown state and tasks with few members.
func TestTaskStatesAndAbsentMembers(t *testing.T) {
	data := `{"StoreImageTaskResults": [
		{"AmiId": "ami-00000000000000001", "TaskStartTime": "2026-11-20T11:00:00.5Z", "StoreTaskState": "Paused"},
		{"AmiId": "ami-00000000000000002", "TaskStartTime": "2026-11-20T10:00:00Z", "ProgressPercentage": 0, "StoreTaskState": "InProgress", "Bucket": "b"},
		{"AmiId": "ami-00000000000000003"}
	]}`
	emu := tasksEmulator(t, []byte(data), "--now", testNow)
	c := emu.client(t, nil)
	page, err := c.Describe(context.Background(), Query{})
	if err != nil {
		t.Fatal(err)
	}
	got := page.Tasks
	if len(got) != 3 {
		t.Fatalf("%d tasks: %+v", len(got), got)
	}
	if got[0].State != "Paused" || got[0].State.Known() || got[0].HasProgressPercentage ||
		!got[0].TaskStartTime.Equal(mustTime(t, "2026-11-20T11:00:00.5Z")) {
		t.Errorf("unknown state: %+v", got[0])
	}
	if got[1].State != StateInProgress || !got[1].State.Known() || !got[1].HasProgressPercentage || got[1].ProgressPercentage != 0 {
		t.Errorf("zero progress: %+v", got[1])
	}
	if (got[2] != Task{AmiID: "ami-00000000000000003"}) {
		t.Errorf("bare task: %+v", got[2])
	}
	if lp, want := libraryJSON(t, c, Query{}, 0); string(lp.CLIJSON()) != want || !slices.Equal(lp.Tasks, page.Tasks) {
		t.Errorf("CLIJSON differs from the library's:\n%s\nlibrary:\n%s", lp.CLIJSON(), want)
	}
}

func TestPagination(t *testing.T) {
	const n = 537
	emu, want := generated(t, n)
	wantIDs := make([]string, n)
	for i, w := range want {
		wantIDs[i] = deref(w.AmiId)
	}
	c := emu.client(t, nil)
	for _, size := range []int32{0, 1, 7, 100, 200} {
		t.Run(fmt.Sprintf("MaxResults=%d", size), func(t *testing.T) {
			before := emu.stats(t).Describe
			var ids []string
			pages := 0
			for p, err := range c.Pages(context.Background(), Query{MaxResults: size}) {
				if err != nil {
					t.Fatal(err)
				}
				pages++
				ids = append(ids, amiIDs(p.Tasks)...)
			}
			if !slices.Equal(ids, wantIDs) {
				t.Fatalf("got %d tasks, want the %d in order (each exactly once)", len(ids), n)
			}
			perPage := int(size)
			if perPage == 0 {
				perPage = 100 // the emulator's default page size
			}
			wantPages := (n + perPage - 1) / perPage
			if pages != wantPages {
				t.Errorf("%d pages, want %d", pages, wantPages)
			}
			if sent := emu.stats(t).Describe - before; sent != wantPages {
				t.Errorf("%d requests, want %d", sent, wantPages)
			}

			ids = ids[:0]
			for task, err := range c.All(context.Background(), Query{MaxResults: size}) {
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, task.AmiID)
			}
			if !slices.Equal(ids, wantIDs) {
				t.Fatalf("All: got %d tasks, want the %d in order", len(ids), n)
			}
		})
	}
}

func TestFilters(t *testing.T) {
	emu, want := generated(t, 200)
	c := emu.client(t, nil)
	var wantIDs []string
	for _, w := range want {
		if st := deref(w.StoreTaskState); (st == "Failed" || st == "Completed") && deref(w.Bucket) == "storetasks-bucket-b" {
			wantIDs = append(wantIDs, deref(w.AmiId))
		}
	}
	q := Query{MaxResults: 9, Filters: []Filter{
		{Name: "task-state", Values: []string{"Failed", "Completed"}},
		{Name: "bucket", Values: []string{"storetasks-bucket-b"}},
	}}
	var ids []string
	for task, err := range c.All(context.Background(), q) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, task.AmiID)
	}
	if len(wantIDs) == 0 || !slices.Equal(ids, wantIDs) {
		t.Errorf("got %v, want %v", ids, wantIDs)
	}
}

func TestCollectCapAndResume(t *testing.T) {
	emu, want := generated(t, 130)
	c := emu.client(t, nil)
	first, err := c.Collect(context.Background(), Query{MaxResults: 20}, 50)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Tasks) != 50 || first.NextToken == "" || first.Truncated {
		t.Fatalf("%d tasks, token %q, truncated %v; want 50, a token and not truncated",
			len(first.Tasks), first.NextToken, first.Truncated)
	}
	if first.RequestID == "" {
		t.Error("no request id on the page")
	}
	rest, err := c.Collect(context.Background(), Query{MaxResults: 20, NextToken: first.NextToken}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rest.NextToken != "" {
		t.Errorf("the end of a listing has token %q", rest.NextToken)
	}
	ids := append(amiIDs(first.Tasks), amiIDs(rest.Tasks)...)
	if len(ids) != len(want) {
		t.Fatalf("%d tasks, want %d", len(ids), len(want))
	}
	for i, id := range ids {
		if id != deref(want[i].AmiId) {
			t.Fatalf("task %d is %s, want %s", i, id, deref(want[i].AmiId))
		}
	}
	if _, err := c.Collect(context.Background(), Query{}, -1); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("negative cap: %v", err)
	}
}

// A cap that cuts the tasks of image ids (answered without a token) says so with Truncated.
func TestCollectTruncated(t *testing.T) {
	emu, want := generated(t, 60)
	c := emu.client(t, nil)
	var ids []string
	for _, w := range want[:30] {
		ids = append(ids, deref(w.AmiId))
	}
	page, err := c.Collect(context.Background(), Query{ImageIDs: ids}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Tasks) != 10 || !page.Truncated || page.NextToken != "" {
		t.Errorf("cap 10 of 30 ids: %d tasks, truncated %v, token %q; want 10, truncated, no token",
			len(page.Tasks), page.Truncated, page.NextToken)
	}
	if page.RequestID == "" {
		t.Error("no request id on the page")
	}
	for i, task := range page.Tasks {
		checkTask(t, task, want[i])
	}
	for _, maxTasks := range []int{0, 30, 31} {
		page, err := c.Collect(context.Background(), Query{ImageIDs: ids}, maxTasks)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Tasks) != 30 || page.Truncated || page.NextToken != "" {
			t.Errorf("cap %d of 30 ids: %d tasks, truncated %v, token %q; want 30, not truncated, no token",
				maxTasks, len(page.Tasks), page.Truncated, page.NextToken)
		}
	}
	// One page of image ids, from Describe and Pages, is never truncated.
	page, err = c.Describe(context.Background(), Query{ImageIDs: ids})
	if err != nil || len(page.Tasks) != 30 || page.Truncated {
		t.Errorf("Describe: %d tasks, truncated %v, %v", len(page.Tasks), page.Truncated, err)
	}
}

func TestBatchingImageIDs(t *testing.T) {
	emu, want := generated(t, 100)
	c := emu.client(t, func(cfg *Config) { cfg.MaxConcurrency = 2 })
	// 45 ids, in an order unlike the listing's, plus one AMI with no task.
	var ids []string
	for i := len(want) - 1; i >= 0 && len(ids) < 45; i -= 2 {
		ids = append(ids, deref(want[i].AmiId))
	}
	ids = append(ids, "ami-0000000000000dead")
	before := emu.stats(t).Describe
	page, err := c.Describe(context.Background(), Query{ImageIDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	if sent := emu.stats(t).Describe - before; sent != 3 {
		t.Errorf("46 ids were sent in %d requests, want 3", sent)
	}
	if len(page.Tasks) != 45 || page.NextToken != "" {
		t.Fatalf("%d tasks, token %q; want 45 and none", len(page.Tasks), page.NextToken)
	}
	got := amiIDs(page.Tasks)
	wantIDs := slices.Clone(ids[:45])
	slices.Reverse(wantIDs) // newest first
	if !slices.Equal(got, wantIDs) {
		t.Errorf("got %v, want %v", got, wantIDs)
	}
	for i := 1; i < len(page.Tasks); i++ {
		if page.Tasks[i].TaskStartTime.After(page.Tasks[i-1].TaskStartTime) {
			t.Fatalf("tasks %d and %d are not newest first", i-1, i)
		}
	}
}

// requestIDPattern is the shape of the request ids the emulator sends (a version 4 UUID, as EC2's).
var requestIDPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// Every Page carries the request id of the reply it came from, as the C library's
// storetasks_task_list_request_id and Python's ResponseMetadata.RequestId do.
func TestPageRequestID(t *testing.T) {
	emu, want := generated(t, 60)
	c := emu.client(t, nil)
	ctx := context.Background()
	check := func(what string, p Page) {
		t.Helper()
		if !requestIDPattern.MatchString(p.RequestID) {
			t.Errorf("%s: RequestID %q is not a request id", what, p.RequestID)
		}
	}
	page, err := c.Describe(ctx, Query{MaxResults: 25})
	if err != nil {
		t.Fatal(err)
	}
	check("Describe", page)
	// One id per reply: each page of a listing has its own.
	seen := map[string]bool{page.RequestID: true}
	pages := 0
	for p, err := range c.Pages(ctx, Query{MaxResults: 20}) {
		if err != nil {
			t.Fatal(err)
		}
		pages++
		check(fmt.Sprintf("Pages, page %d", pages), p)
		if seen[p.RequestID] {
			t.Errorf("page %d repeats request id %s", pages, p.RequestID)
		}
		seen[p.RequestID] = true
	}
	if pages != 3 {
		t.Errorf("%d pages, want 3", pages)
	}
	// A call split into several requests (25 ids: 2 batches) carries one of theirs.
	var ids []string
	for _, w := range want[:25] {
		ids = append(ids, deref(w.AmiId))
	}
	page, err = c.Describe(ctx, Query{ImageIDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	check("Describe of 25 image ids", page)
	// Collect: the last reply's.
	page, err = c.Collect(ctx, Query{MaxResults: 20}, 0)
	if err != nil {
		t.Fatal(err)
	}
	check("Collect", page)
	if seen[page.RequestID] {
		t.Errorf("Collect repeats an earlier request id %s", page.RequestID)
	}
	// A reply with no tasks has one too.
	page, err = c.Describe(ctx, Query{Filters: []Filter{{Name: "task-state", Values: []string{"NoSuchState"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Tasks) != 0 {
		t.Errorf("%d tasks in state NoSuchState", len(page.Tasks))
	}
	check("an empty Describe", page)
}

// link_intree_static.go names the system libraries a static link needs; they must be the ones
// rustc lists (packaging/native-static-libs.txt, which the install tests check against rustc).
func TestStaticLinkListMatchesPackaging(t *testing.T) {
	// go test runs a package's tests in its folder; a test binary run elsewhere (under Wine)
	// skips this check.
	src, err := os.ReadFile("link_intree_static.go")
	if err != nil {
		t.Skipf("not run from bindings/go: %v", err)
	}
	want, err := os.ReadFile(filepath.Join("..", "..", "packaging", "native-static-libs.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var ldflags string
	for _, line := range strings.Split(string(src), "\n") {
		if rest, ok := strings.CutPrefix(line, "#cgo LDFLAGS: "); ok {
			ldflags = rest
		}
	}
	_, libs, _ := strings.Cut(ldflags, "libstoretasks.a ")
	if w := strings.TrimSpace(string(want)); libs != w {
		t.Errorf("link_intree_static.go links %q after the archive; packaging/native-static-libs.txt says %q", libs, w)
	}
}

// errorCase checks that err is an *Error matching sentinel, with the given code and HTTP status.
func checkError(t *testing.T, err error, sentinel *Error, code string, httpStatus int) *Error {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v", sentinel.Status)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%T %v is not an *Error", err, err)
	}
	if !errors.Is(err, sentinel) {
		t.Fatalf("%v does not match %v", err, sentinel.Status)
	}
	for _, other := range []*Error{ErrDryRunOK, ErrInvalidArgument, ErrUnauthorized, ErrThrottled, ErrTimeout,
		ErrNetwork, ErrService, ErrResponse, ErrCancelled, ErrPanic, ErrConfig, ErrCredentials} {
		if other != sentinel && errors.Is(err, other) {
			t.Errorf("%v also matches %v", err, other.Status)
		}
	}
	if e.Code != code || e.HTTPStatus != httpStatus {
		t.Errorf("code %q, HTTP %d; want %q, %d (%v)", e.Code, e.HTTPStatus, code, httpStatus, err)
	}
	if e.Message == "" || !strings.Contains(err.Error(), e.Status.String()) {
		t.Errorf("message %q, Error() %q", e.Message, err.Error())
	}
	if code != "" && e.RequestID == "" {
		t.Errorf("no request id: %v", err)
	}
	return e
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	const deniedKey = "AKIASTORETASKSDENIED"
	emu, _ := generated(t, 30, "--deny-key", deniedKey)
	oneAttempt := func(cfg *Config) { cfg.MaxAttempts = 1 }

	t.Run("DryRun", func(t *testing.T) {
		c := emu.client(t, nil)
		_, err := c.Describe(ctx, Query{DryRun: true})
		checkError(t, err, ErrDryRunOK, "DryRunOperation", 412)
		err = onlyError(t, c.All(ctx, Query{DryRun: true}))
		checkError(t, err, ErrDryRunOK, "DryRunOperation", 412)
	})
	t.Run("Unauthorized", func(t *testing.T) {
		c := emu.client(t, func(cfg *Config) { cfg.AccessKeyID = deniedKey })
		_, err := c.Describe(ctx, Query{})
		checkError(t, err, ErrUnauthorized, "UnauthorizedOperation", 403)
		_, err = c.Describe(ctx, Query{DryRun: true})
		checkError(t, err, ErrUnauthorized, "UnauthorizedOperation", 403)
	})
	t.Run("WrongSecret", func(t *testing.T) {
		c := emu.client(t, func(cfg *Config) { cfg.SecretAccessKey = "wrong-secret" })
		_, err := c.Describe(ctx, Query{})
		checkError(t, err, ErrUnauthorized, "AuthFailure", 401)
	})
	t.Run("ThrottledAfterRetries", func(t *testing.T) {
		c := emu.client(t, func(cfg *Config) { cfg.MaxAttempts = 2; cfg.RetryMode = RetryStandard })
		emu.addFaults(t, "throttle,count=5")
		defer emu.clearFaults(t)
		before := emu.stats(t).Requests
		_, err := c.Describe(ctx, Query{})
		checkError(t, err, ErrThrottled, "RequestLimitExceeded", 503)
		if sent := emu.stats(t).Requests - before; sent != 2 {
			t.Errorf("%d attempts, want 2", sent)
		}
	})
	t.Run("RetriedThrottlingSucceeds", func(t *testing.T) {
		c := emu.client(t, func(cfg *Config) { cfg.MaxAttempts = 3 })
		emu.addFaults(t, "throttle,count=1")
		defer emu.clearFaults(t)
		if _, err := c.Describe(ctx, Query{}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("Service", func(t *testing.T) {
		c := emu.client(t, nil)
		_, err := c.Describe(ctx, Query{Filters: []Filter{{Name: "no-such-filter", Values: []string{"x"}}}})
		e := checkError(t, err, ErrService, "InvalidParameterValue", 400)
		if !strings.Contains(e.Message, "no-such-filter") {
			t.Errorf("message %q", e.Message)
		}
		_, err = c.Describe(ctx, Query{NextToken: "bm90IGEgdG9rZW4="})
		checkError(t, err, ErrService, "InvalidParameterValue", 400)
	})
	t.Run("Network", func(t *testing.T) {
		c := emu.client(t, oneAttempt)
		emu.addFaults(t, "drop")
		defer emu.clearFaults(t)
		_, err := c.Describe(ctx, Query{})
		checkError(t, err, ErrNetwork, "", 0)
	})
	t.Run("NetworkRefused", func(t *testing.T) {
		c := emu.client(t, func(cfg *Config) { cfg.MaxAttempts = 1; cfg.EndpointURL = "http://127.0.0.1:1" })
		_, err := c.Describe(ctx, Query{})
		checkError(t, err, ErrNetwork, "", 0)
	})
	t.Run("Timeout", func(t *testing.T) {
		c := emu.client(t, func(cfg *Config) { cfg.MaxAttempts = 1; cfg.AttemptTimeout = 200 * time.Millisecond })
		emu.addFaults(t, "delay,ms=3000")
		defer emu.clearFaults(t)
		start := time.Now()
		_, err := c.Describe(ctx, Query{})
		checkError(t, err, ErrTimeout, "", 0)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("a 200ms attempt timeout took %v", d)
		}
	})
	for _, fault := range []string{"malformed", "garbage", "truncate", "wrongroot"} {
		t.Run("Response/"+fault, func(t *testing.T) {
			c := emu.client(t, oneAttempt)
			emu.addFaults(t, fault)
			defer emu.clearFaults(t)
			_, err := c.Describe(ctx, Query{})
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrResponse) {
				t.Fatalf("%v, want %v", err, StatusResponse)
			}
		})
	}
	t.Run("Response/repeat-token", func(t *testing.T) {
		c := emu.client(t, nil)
		emu.addFaults(t, "repeat-token,at=2")
		defer emu.clearFaults(t)
		var n int
		var last error
		for task, err := range c.All(ctx, Query{MaxResults: 5}) {
			if err != nil {
				last = err
				continue
			}
			if task.AmiID == "" {
				t.Fatal("an empty task with no error")
			}
			n++
		}
		if !errors.Is(last, ErrResponse) {
			t.Fatalf("after %d tasks: %v, want %v", n, last, StatusResponse)
		}
	})
	t.Run("InvalidArgument", func(t *testing.T) {
		c := emu.client(t, nil)
		before := emu.stats(t).Requests
		for _, q := range []Query{
			{MaxResults: 201},
			{MaxResults: -1},
			{ImageIDs: []string{""}},
			{ImageIDs: []string{"ami-\x001"}},
			{Filters: []Filter{{Name: "bucket", Values: []string{"a\x00b"}}}},
			{NextToken: "a\x00"},
		} {
			_, err := c.Describe(ctx, q)
			checkError(t, err, ErrInvalidArgument, "", 0)
		}
		// Refused by the library's setter, which says why.
		_, err := c.Describe(ctx, Query{ImageIDs: []string{"ami-00000000000000001", " "}})
		e := checkError(t, err, ErrInvalidArgument, "", 0)
		if reason, ok := strings.CutPrefix(e.Message, "Query.ImageIDs[1] was refused: "); !ok || reason == "" {
			t.Errorf("message %q does not give the library's reason", e.Message)
		}
		if sent := emu.stats(t).Requests - before; sent != 0 {
			t.Errorf("invalid queries sent %d requests", sent)
		}
	})
	t.Run("Config", func(t *testing.T) {
		cfg := emu.config()
		cfg.Region = ""
		t.Setenv("AWS_REGION", "")
		t.Setenv("AWS_DEFAULT_REGION", "")
		os.Unsetenv("AWS_REGION")
		os.Unsetenv("AWS_DEFAULT_REGION")
		t.Setenv("AWS_CONFIG_FILE", filepath.Join(tempDir(t), "none"))
		t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(tempDir(t), "none"))
		_, err := NewClient(cfg)
		checkError(t, err, ErrConfig, "", 0)

		cfg = emu.config()
		cfg.CABundle = filepath.Join(tempDir(t), "missing.pem")
		_, err = NewClient(cfg)
		checkError(t, err, ErrConfig, "", 0)

		// A setter's refusal carries the library's reason.
		cfg = emu.config()
		cfg.RetryMode = 9
		_, err = NewClient(cfg)
		e := checkError(t, err, ErrInvalidArgument, "", 0)
		if reason, ok := strings.CutPrefix(e.Message, "Config.RetryMode was refused: "); !ok || !strings.Contains(reason, "9") {
			t.Errorf("message %q does not give the library's reason", e.Message)
		}

		// Values Go's types hold but the library does not take, refused with its reason: a
		// concurrency this large once made every fleet call return PANIC, and billions of
		// attempts panicked inside the SDK's retry strategy.
		for _, tc := range []struct {
			edit   func(*Config)
			reason string
		}{
			{func(c *Config) { c.MaxConcurrency = math.MaxInt / 2 }, fmt.Sprintf("Config.MaxConcurrency was refused: max concurrency must be from 1 to 1024, not %d", math.MaxInt/2)},
			{func(c *Config) { c.MaxConcurrency = 1025 }, "Config.MaxConcurrency was refused: max concurrency must be from 1 to 1024, not 1025"},
			{func(c *Config) { c.MaxAttempts = math.MaxInt32 }, "Config.RetryMode was refused: max attempts must be from 1 to 100, not 2147483647"},
		} {
			cfg := emu.config()
			tc.edit(&cfg)
			_, err := NewClient(cfg)
			if e := checkError(t, err, ErrInvalidArgument, "", 0); e != nil && e.Message != tc.reason {
				t.Errorf("message %q, want %q", e.Message, tc.reason)
			}
		}
		cfg = emu.config()
		cfg.MaxConcurrency, cfg.MaxAttempts = 1024, 100
		if c, err := NewClient(cfg); err != nil {
			t.Errorf("the limits themselves: %v", err)
		} else {
			c.Close()
		}

		for _, edit := range []func(*Config){
			func(c *Config) { c.AppName = "not allowed" },
			func(c *Config) { c.SecretAccessKey = "" },
			func(c *Config) { c.RetryMode = 9 },
			func(c *Config) { c.MaxAttempts = -1 },
			func(c *Config) { c.AttemptTimeout = -time.Second },
			func(c *Config) { c.MaxConcurrency = -1 },
			func(c *Config) { c.Region = "us-east-1\x00" },
		} {
			cfg := emu.config()
			edit(&cfg)
			_, err := NewClient(cfg)
			checkError(t, err, ErrInvalidArgument, "", 0)
		}
	})
	t.Run("Proxy", func(t *testing.T) {
		// Refused by NewClient, naming the field, with the library's reason and never the password.
		for _, tc := range []struct {
			edit   func(*Config)
			prefix string
		}{
			{func(c *Config) { c.Proxy = "socks5://u:secret@h:1" }, "Config.Proxy was refused: "},
			{func(c *Config) { c.Proxy = "http://u:secret@:8080" }, "Config.Proxy was refused: "},
			{func(c *Config) { c.Proxy = "http://u:secret@h:1\x00" }, "Config.Proxy contains a NUL byte"},
			{func(c *Config) { c.NoProxy = "localhost" }, "Config.NoProxy needs Config.Proxy"},
			{func(c *Config) { c.DisableProxy, c.Proxy = true, "http://u:secret@h:1" }, "Config.DisableProxy cannot be combined"},
			{func(c *Config) { c.DisableProxy, c.NoProxy = true, "localhost" }, "Config.DisableProxy cannot be combined"},
		} {
			cfg := emu.config()
			tc.edit(&cfg)
			_, err := NewClient(cfg)
			e := checkError(t, err, ErrInvalidArgument, "", 0)
			if !strings.HasPrefix(e.Message, tc.prefix) || strings.Contains(err.Error(), "secret") {
				t.Errorf("message %q, want it to start with %q and to hide the password", e.Message, tc.prefix)
			}
		}

		// A proxy that nothing listens on: the requests that go through it fail.
		const dead = "http://u:secret@127.0.0.1:1"
		for _, v := range []string{"HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"} {
			t.Setenv(v, "")
		}
		t.Setenv("HTTP_PROXY", dead)
		t.Setenv("http_proxy", dead)
		for _, tc := range []struct {
			name    string
			edit    func(*Config)
			through bool
		}{
			{"the environment's proxy", func(c *Config) {}, true},
			{"DisableProxy", func(c *Config) { c.DisableProxy = true }, false},
			{"Proxy", func(c *Config) { c.Proxy = dead }, true},
			{"Proxy without a scheme", func(c *Config) { c.Proxy = "127.0.0.1:1" }, true},
			{"Proxy with NoProxy for another host", func(c *Config) { c.Proxy, c.NoProxy = dead, "example.com,10.0.0.0/8" }, true},
			{"Proxy with NoProxy for the endpoint", func(c *Config) { c.Proxy, c.NoProxy = dead, "example.com,127.0.0.1" }, false},
			{"Proxy with NoProxy for its network", func(c *Config) { c.Proxy, c.NoProxy = dead, "127.0.0.0/8" }, false},
		} {
			c := emu.client(t, func(cfg *Config) { oneAttempt(cfg); tc.edit(cfg) })
			_, err := c.Describe(ctx, Query{MaxResults: 5})
			if !tc.through {
				if err != nil {
					t.Errorf("%s: %v, want a direct request", tc.name, err)
				}
				continue
			}
			if err == nil {
				t.Errorf("%s: the request did not go through the proxy", tc.name)
				continue
			}
			checkError(t, err, ErrNetwork, "", 0)
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("%s: the message shows the password: %v", tc.name, err)
			}
		}
	})
	t.Run("Credentials", func(t *testing.T) {
		t.Setenv("AWS_ACCESS_KEY_ID", "")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "")
		t.Setenv("AWS_PROFILE", "")
		t.Setenv("AWS_CONFIG_FILE", filepath.Join(tempDir(t), "none"))
		t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(tempDir(t), "none"))
		t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
		os.Unsetenv("AWS_ACCESS_KEY_ID")
		os.Unsetenv("AWS_SECRET_ACCESS_KEY")
		os.Unsetenv("AWS_PROFILE")
		c := emu.client(t, func(cfg *Config) { cfg.AccessKeyID, cfg.SecretAccessKey = "", ""; cfg.MaxAttempts = 1 })
		_, err := c.Describe(ctx, Query{})
		checkError(t, err, ErrCredentials, "", 0)
	})
}

// CABundle and Proxy, or AWS_CA_BUNDLE and HTTPS_PROXY, lead to the HTTPS emulator through a
// proxy that asks for a password, with the emulator's test CA trusted.
func TestCABundleAndProxy(t *testing.T) {
	ctx := context.Background()
	dir := tempDir(t)
	emu := startEmulator(t, "--generate", "12", "--seed", "3", "--tls", dir)
	const user, password, wrong = "tester", "pr0xy-Pa55word", "wrong-Pa55word"
	proxy := startForwardProxy(t, "--auth", user+":"+password)
	// No CA or proxy setting of the machine may reach the client.
	for _, v := range []string{"AWS_CA_BUNDLE", "AWS_PROFILE", "SSL_CERT_FILE", "SSL_CERT_DIR", "HTTPS_PROXY", "https_proxy",
		"HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "none"))

	for _, tc := range []struct {
		name string
		set  func(t *testing.T, cfg *Config, proxyURL string)
	}{
		{"Config", func(t *testing.T, cfg *Config, proxyURL string) { cfg.CABundle, cfg.Proxy = emu.CA, proxyURL }},
		{"Environment", func(t *testing.T, cfg *Config, proxyURL string) {
			t.Setenv("AWS_CA_BUNDLE", emu.CA)
			t.Setenv("HTTPS_PROXY", proxyURL)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := proxy.tunnels(t)
			c := emu.client(t, func(cfg *Config) { tc.set(t, cfg, proxy.url(user+":"+password)) })
			page, err := c.Collect(ctx, Query{}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Tasks) != 12 {
				t.Errorf("%d tasks, want 12", len(page.Tasks))
			}
			if n := proxy.tunnels(t) - before; n < 1 {
				t.Errorf("%d tunnels through the proxy, want at least 1", n)
			}

			// A wrong password: the proxy's 407, named with the proxy, and no password shown.
			c = emu.client(t, func(cfg *Config) { cfg.MaxAttempts = 1; tc.set(t, cfg, proxy.url(user+":"+wrong)) })
			_, err = c.Describe(ctx, Query{})
			e := checkError(t, err, ErrNetwork, "", 0)
			if !strings.Contains(e.Message, "407") || !strings.Contains(e.Message, proxy.Addr) {
				t.Errorf("message %q, want the 407 and %s", e.Message, proxy.Addr)
			}
			if strings.Contains(err.Error(), password) || strings.Contains(err.Error(), wrong) {
				t.Errorf("the message shows a password: %v", err)
			}
		})
	}

	t.Run("NoCABundle", func(t *testing.T) {
		c := emu.client(t, func(cfg *Config) { cfg.MaxAttempts = 1; cfg.Proxy = proxy.url(user + ":" + password) })
		_, err := c.Describe(ctx, Query{})
		if e := checkError(t, err, ErrNetwork, "", 0); !strings.Contains(e.Message, "certificate") {
			t.Errorf("message %q does not say the certificate is not trusted", e.Message)
		}
	})
}

func TestCancelMidListing(t *testing.T) {
	emu, _ := generated(t, 100)
	c := emu.client(t, nil)
	// The first page comes at once, the second after 10 seconds.
	emu.addFaults(t, "delay,at=2,count=5,ms=10000")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got int
	var last error
	var cancelledAt time.Time
	for task, err := range c.All(ctx, Query{MaxResults: 10}) {
		if err != nil {
			last = err
			break
		}
		got++
		if got == 10 {
			time.AfterFunc(200*time.Millisecond, func() { cancel() })
			cancelledAt = time.Now().Add(200 * time.Millisecond)
		}
		_ = task
	}
	if d := time.Since(cancelledAt); d > time.Second {
		t.Errorf("the listing ended %v after the cancellation", d)
	}
	if got != 10 {
		t.Errorf("%d tasks before the cancellation, want 10", got)
	}
	if !errors.Is(last, context.Canceled) || !errors.Is(last, ErrCancelled) {
		t.Fatalf("%v does not match context.Canceled and ErrCancelled", last)
	}
	var e *Error
	if !errors.As(last, &e) || e.Status != StatusCancelled {
		t.Fatalf("%v", last)
	}
}

func TestCancelDescribe(t *testing.T) {
	emu, _ := generated(t, 10)
	c := emu.client(t, nil)
	emu.addFaults(t, "delay,ms=10000")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.Describe(ctx, Query{})
	if d := time.Since(start); d > 1200*time.Millisecond {
		t.Errorf("cancelled after 200ms, returned after %v", d)
	}
	if !errors.Is(err, context.Canceled) || !errors.Is(err, ErrCancelled) {
		t.Fatalf("%v", err)
	}

	// A context already done sends nothing.
	emu.clearFaults(t)
	before := emu.stats(t).Requests
	_, err = c.Describe(ctx, Query{})
	if !errors.Is(err, context.Canceled) || !errors.Is(err, ErrCancelled) {
		t.Fatalf("%v", err)
	}
	if err := onlyError(t, c.All(ctx, Query{})); !errors.Is(err, context.Canceled) || !errors.Is(err, ErrCancelled) {
		t.Fatalf("All: %v", err)
	}
	if sent := emu.stats(t).Requests - before; sent != 0 {
		t.Errorf("a cancelled context sent %d requests", sent)
	}
	// The client still works.
	if _, err := c.Describe(context.Background(), Query{}); err != nil {
		t.Fatal(err)
	}
}

func TestDeadline(t *testing.T) {
	emu, _ := generated(t, 10)
	c := emu.client(t, nil)
	emu.addFaults(t, "delay,ms=10000")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Collect(ctx, Query{}, 0)
	if d := time.Since(start); d > 1300*time.Millisecond {
		t.Errorf("a 300ms deadline returned after %v", d)
	}
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrCancelled) {
		t.Fatalf("%v", err)
	}
}

func TestBreakEarly(t *testing.T) {
	emu, _ := generated(t, 500)
	c := emu.client(t, nil)
	base := runtime.NumGoroutine()
	for range 20 {
		n := 0
		for _, err := range c.All(context.Background(), Query{MaxResults: 10}) {
			if err != nil {
				t.Fatal(err)
			}
			if n++; n == 15 {
				break
			}
		}
	}
	// Each listing fetched at most one page past the break.
	if sent := emu.stats(t).Describe; sent > 20*3 {
		t.Errorf("20 listings cut after 15 tasks sent %d requests", sent)
	}
	// A panic in the loop body stops the listing too.
	expectPanic(t, "boom", "the loop body", func() {
		for range c.All(context.Background(), Query{MaxResults: 10}) {
			panic("boom")
		}
	})
	checkGoroutines(t, base)
}

// A panic raised again from a page callback must leave no trace of the call: nothing that Close
// or the context could still reach (its cancel token is freed by then), no lock held.
func TestPanicInPageCallback(t *testing.T) {
	emu, _ := generated(t, 30)
	c := emu.unclosedClient(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base := runtime.NumGoroutine()
	expectPanicAtSecondPage(t, "boom in a page", func(page func() bool) {
		c.eachPage(ctx, &Query{MaxResults: 5}, 0, func(Page, <-chan struct{}) bool { return page() })
	})
	// The client still works; then Close, and the context ending, must touch no freed token.
	checkAfterPanic(t, c, "a page callback", func() error {
		_, err := c.Describe(ctx, Query{})
		return err
	})
	cancel()
	if _, err := c.Describe(context.Background(), Query{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Describe after Close: %v", err)
	}
	checkGoroutines(t, base)
}

// expectPanic runs f, which must panic with want; what names f in the failure when it returns.
func expectPanic(t *testing.T, want any, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != want {
			t.Errorf("recovered %v", r)
		}
	}()
	f()
	t.Errorf("%s did not panic", what)
}

// expectPanicAtSecondPage runs a listing that hands each page to page, which panics with want
// at the second one: the panic must come out of the listing, and no page come after it.
func expectPanicAtSecondPage(t *testing.T, want string, listing func(page func() bool)) {
	t.Helper()
	pages := 0
	expectPanic(t, want, "the listing", func() {
		listing(func() bool {
			if pages++; pages == 2 {
				panic(want)
			}
			return true
		})
	})
	if pages != 2 {
		t.Errorf("%d pages delivered, want 2", pages)
	}
}

// checkAfterPanic checks that a call that a panic in a callback (named by where) ended left no
// trace on c: no call still registered, the client still working (works makes a call), and
// Close neither hanging nor reaching the call's freed cancel token. c is closed on return.
func checkAfterPanic(t *testing.T, c *Client, where string, works func() error) {
	t.Helper()
	c.h.callsMu.Lock()
	left := len(c.h.calls)
	c.h.callsMu.Unlock()
	if left != 0 {
		t.Errorf("%d calls still registered after the panic", left)
	}
	if err := works(); err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() {
		c.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatalf("Close hangs after a panic in %s", where)
	}
}

// countUntilError ranges over seq until it yields an error, calling then, inside the loop body,
// once the at-th value has come; it returns how many values came and the error (nil when the
// sequence ended without one).
func countUntilError[V any](seq iter.Seq2[V, error], at int, then func()) (int, error) {
	n := 0
	for _, err := range seq {
		if err != nil {
			return n, err
		}
		if n++; n == at {
			then()
		}
	}
	return n, nil
}

// onlyError ranges over seq and returns the error it yields, failing the test unless it yields
// exactly that one error and nothing else.
func onlyError[V any](t *testing.T, seq iter.Seq2[V, error]) error {
	t.Helper()
	var errs []error
	values := 0
	for _, err := range seq {
		if err != nil {
			errs = append(errs, err)
		} else {
			values++
		}
	}
	if len(errs) != 1 || values != 0 {
		t.Fatalf("%d values and %d errors (%v), want one error alone", values, len(errs), errs)
	}
	return errs[0]
}

// checkGoroutines fails if more goroutines than base remain after a short grace period.
func checkGoroutines(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestConcurrentCalls(t *testing.T) {
	const n = 250
	emu, want := generated(t, n)
	c := emu.client(t, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5 {
				switch (g + i) % 3 {
				case 0:
					p, err := c.Describe(context.Background(), Query{MaxResults: 50})
					if err == nil && (len(p.Tasks) != 50 || p.Tasks[0].AmiID != deref(want[0].AmiId)) {
						err = fmt.Errorf("Describe: %d tasks", len(p.Tasks))
					}
					if err != nil {
						errs <- err
						return
					}
				case 1:
					count := 0
					for _, err := range c.All(context.Background(), Query{MaxResults: 40}) {
						if err != nil {
							errs <- err
							return
						}
						count++
					}
					if count != n {
						errs <- fmt.Errorf("All: %d tasks", count)
						return
					}
				case 2:
					p, err := c.Collect(context.Background(), Query{MaxResults: 200}, 0)
					if err == nil && len(p.Tasks) != n {
						err = fmt.Errorf("Collect: %d tasks", len(p.Tasks))
					}
					if err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestClose(t *testing.T) {
	emu, _ := generated(t, 20)
	c := emu.unclosedClient(t, nil)
	if _, err := c.Describe(context.Background(), Query{}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Close(); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := c.Describe(context.Background(), Query{})
	if !errors.Is(err, ErrClosed) || !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Describe after Close: %v", err)
	}
	_, err = c.Collect(context.Background(), Query{}, 0)
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("Collect after Close: %v", err)
	}
	if err := onlyError(t, c.All(context.Background(), Query{})); !errors.Is(err, ErrClosed) {
		t.Fatalf("All after Close: %v", err)
	}
}

func TestCloseCancelsCallsInFlight(t *testing.T) {
	emu, _ := generated(t, 50)
	c := emu.unclosedClient(t, nil)
	emu.addFaults(t, "delay,at=2,count=20,ms=10000")
	done := make(chan error, 2)
	firstPage := make(chan struct{})
	go func() {
		// The first page is fast, the next ones are not.
		_, last := countUntilError(c.All(context.Background(), Query{MaxResults: 5}), 5, func() { close(firstPage) })
		done <- last
	}()
	<-firstPage
	go func() {
		_, err := c.Describe(context.Background(), Query{})
		done <- err
	}()
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v", d)
	}
	for range 2 {
		err := <-done
		if !errors.Is(err, ErrClosed) || !errors.Is(err, ErrCancelled) {
			t.Errorf("a call cut by Close: %v", err)
		}
	}
}

// Closing from inside the loop body of a listing on the same client must not deadlock.
func TestCloseInsideLoop(t *testing.T) {
	emu, _ := generated(t, 50)
	c := emu.unclosedClient(t, nil)
	n, last := countUntilError(c.All(context.Background(), Query{MaxResults: 5}), 3, func() {
		c.Close()
		if _, err := c.Describe(context.Background(), Query{}); !errors.Is(err, ErrClosed) {
			t.Errorf("Describe after Close: %v", err)
		}
	})
	if n > 10 || !errors.Is(last, ErrClosed) {
		t.Errorf("after %d tasks: %v", n, last)
	}
}

func TestFinalizerClosesDroppedClients(t *testing.T) {
	emu, _ := generated(t, 5)
	before := closedByCleanup.Load()
	for range 20 {
		c := emu.unclosedClient(t, nil)
		if _, err := c.Describe(context.Background(), Query{}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for closedByCleanup.Load()-before < 20 {
		if time.Now().After(deadline) {
			t.Fatalf("%d of 20 dropped clients were freed", closedByCleanup.Load()-before)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

// libraryJSON returns a listing and the library's JSON rendering of that very list (tokens
// differ from one listing to the next).
func libraryJSON(t testing.TB, c *Client, q Query, maxTasks int) (Page, string) {
	t.Helper()
	p, b, err := c.libraryJSON(context.Background(), q, maxTasks)
	if err != nil {
		t.Fatal(err)
	}
	return p, string(b)
}

func TestCLIJSONMatchesLibrary(t *testing.T) {
	emu, _ := generated(t, 150)
	c := emu.client(t, nil)
	for _, tc := range []struct {
		q   Query
		max int
	}{
		{Query{}, 0},
		{Query{MaxResults: 30}, 45},
		{Query{Filters: []Filter{{Name: "task-state", Values: []string{"Paused"}}}}, 0},
	} {
		page, want := libraryJSON(t, c, tc.q, tc.max)
		if (tc.max != 0) != (page.NextToken != "") {
			t.Errorf("%+v: token %q", tc, page.NextToken)
		}
		if got := string(page.CLIJSON()); got != want {
			t.Errorf("%+v: CLIJSON differs from the library's:\n%s\nlibrary:\n%s", tc, got, want)
		}
	}
	sample := filepath.Join("..", "..", "tests", "data", "sample-tasks.json")
	emu = startEmulator(t, "--tasks-file", sample, "--now", testNow)
	c = emu.client(t, nil)
	page, want := libraryJSON(t, c, Query{}, 0)
	if got := string(page.CLIJSON()); got != want {
		t.Errorf("sample: CLIJSON differs from the library's:\n%s\nlibrary:\n%s", got, want)
	}
	// Escapes that serde_json writes.
	p := Page{Tasks: []Task{{AmiID: "a\"\\\n\t\x01\u2028é<>&"}}}
	const wantEscaped = "{\n    \"StoreImageTaskResults\": [\n        {\n            \"AmiId\": \"a\\\"\\\\\\n\\t\\u0001\u2028é<>&\"\n        }\n    ]\n}\n"
	if got := string(p.CLIJSON()); got != wantEscaped {
		t.Errorf("escapes: %q, want %q", got, wantEscaped)
	}
}
