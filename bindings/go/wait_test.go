package storetasks

import (
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// fastWait polls every 100 to 300 ms.
var fastWait = WaitOptions{MinDelay: 100 * time.Millisecond, MaxDelay: 300 * time.Millisecond}

// waitTask is an InProgress task at 0%, started ten seconds before the emulator's clock; a
// positive failAt makes it fail with reason when its progress reaches failAt percent.
func waitTask(ami string, failAt int, reason string) map[string]any {
	t := map[string]any{
		"AmiId":              ami,
		"TaskStartTime":      "2026-11-20T11:59:50.000Z",
		"Bucket":             "wait-bucket",
		"ProgressPercentage": 0,
		"StoreTaskState":     "InProgress",
	}
	if failAt > 0 {
		t["EmulatorFailAt"] = failAt
		t["StoreTaskFailureReason"] = reason
	}
	return t
}

// waitEmulator starts an emulator holding tasks whose progress grows by rate points a second.
func waitEmulator(t *testing.T, rate string, tasks ...map[string]any) *emulator {
	t.Helper()
	data, err := json.Marshal(map[string]any{"StoreImageTaskResults": tasks})
	if err != nil {
		t.Fatal(err)
	}
	return tasksEmulator(t, data, "--now", testNow, "--progress-rate", rate)
}

func TestWaitCompletes(t *testing.T) {
	const a, b = "ami-0000000000000000a", "ami-0000000000000000b"
	emu := waitEmulator(t, "60", waitTask(a, 0, ""), waitTask(b, 0, ""))
	c := emu.client(t, nil)

	var seen [][]Task
	opts := fastWait
	opts.Progress = func(tasks []Task) bool {
		seen = append(seen, tasks)
		return true
	}
	tasks, err := c.Wait(context.Background(), []string{b, a}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 2 || tasks[0].AmiID != b || tasks[1].AmiID != a {
		t.Fatalf("final tasks %+v, want %s then %s", tasks, b, a)
	}
	for _, task := range tasks {
		if task.State != StateCompleted || !task.HasProgressPercentage || task.ProgressPercentage != 100 ||
			task.Bucket != "wait-bucket" {
			t.Errorf("final task %+v", task)
		}
	}

	if len(seen) < 3 {
		t.Fatalf("the progress function was called %d times, want at least 3", len(seen))
	}
	last := map[string]int32{}
	distinct := map[int32]bool{}
	for i, poll := range seen {
		if len(poll) != 2 || poll[0].AmiID != b || poll[1].AmiID != a {
			t.Fatalf("poll %d: %+v", i, poll)
		}
		for _, task := range poll {
			if task.ProgressPercentage < last[task.AmiID] {
				t.Errorf("poll %d: %s went back from %d%% to %d%%", i, task.AmiID, last[task.AmiID], task.ProgressPercentage)
			}
			last[task.AmiID] = task.ProgressPercentage
			distinct[task.ProgressPercentage] = true
		}
	}
	if first := seen[0][0]; first.State != StateInProgress || first.ProgressPercentage >= 100 {
		t.Errorf("first poll %+v, want a task in progress", first)
	}
	if len(distinct) < 3 {
		t.Errorf("progress seen: %v, want it to rise through at least 3 values", distinct)
	}
	if final := seen[len(seen)-1]; final[0].State != StateCompleted || final[1].State != StateCompleted {
		t.Errorf("last poll %+v, want both completed", final)
	}
}

func TestWaitTaskFailed(t *testing.T) {
	const ok, bad = "ami-0000000000000000c", "ami-0000000000000000d"
	const reason = "Access denied to the S3 bucket"
	emu := waitEmulator(t, "60", waitTask(ok, 0, ""), waitTask(bad, 30, reason))
	c := emu.client(t, nil)
	start := time.Now()
	tasks, err := c.Wait(context.Background(), []string{ok, bad}, fastWait)
	if !errors.Is(err, ErrTaskFailed) || errors.Is(err, ErrCancelled) {
		t.Fatalf("tasks %+v, error %v; want ErrTaskFailed", tasks, err)
	}
	var e *Error
	if !errors.As(err, &e) || e.AmiID != bad || e.FailureReason != reason {
		t.Fatalf("error %#v, want AmiID %q and FailureReason %q", e, bad, reason)
	}
	if tasks != nil {
		t.Errorf("a failed wait returned tasks %+v", tasks)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("a task failing at 30%% after half a second ended the wait after %v", d)
	}
	if !strings.Contains(err.Error(), "STORETASKS_STATUS_TASK_FAILED") {
		t.Errorf("message %q", err)
	}
}

func TestWaitTimeout(t *testing.T) {
	const a = "ami-0000000000000000e"
	emu := waitEmulator(t, "1", waitTask(a, 0, ""))
	c := emu.client(t, nil)
	opts := fastWait
	opts.Timeout = 700 * time.Millisecond
	start := time.Now()
	_, err := c.Wait(context.Background(), []string{a}, opts)
	d := time.Since(start)
	if !errors.Is(err, ErrWaitTimeout) {
		t.Fatalf("%v, want ErrWaitTimeout", err)
	}
	if d < 600*time.Millisecond || d > 2*time.Second {
		t.Errorf("a 700ms timeout ended the wait after %v", d)
	}
	if !strings.Contains(err.Error(), a) {
		t.Errorf("the message does not give the image's state: %q", err)
	}
}

func TestWaitNotFound(t *testing.T) {
	const a, missing = "ami-0000000000000000f", "ami-00000000000000404"
	emu := waitEmulator(t, "1", waitTask(a, 0, ""))
	c := emu.client(t, nil)
	for _, grace := range []time.Duration{400 * time.Millisecond, -1} {
		opts := fastWait
		opts.NotFoundGrace = grace
		start := time.Now()
		_, err := c.Wait(context.Background(), []string{a, missing}, opts)
		d := time.Since(start)
		var e *Error
		if !errors.Is(err, ErrNotFound) || !errors.As(err, &e) || e.AmiID != missing {
			t.Fatalf("grace %v: %v, want ErrNotFound naming %s", grace, err, missing)
		}
		if grace > 0 && (d < grace || d > grace+2*time.Second) {
			t.Errorf("a grace of %v ended the wait after %v", grace, d)
		}
		if grace < 0 && d > time.Second {
			t.Errorf("no grace ended the wait after %v", d)
		}
	}
}

func TestWaitContext(t *testing.T) {
	const a = "ami-00000000000000010"
	emu := waitEmulator(t, "1", waitTask(a, 0, ""))
	c := emu.client(t, nil)

	ctx, cancel := context.WithCancel(context.Background())
	polls := make(chan struct{}, 100)
	opts := fastWait
	opts.Progress = func([]Task) bool {
		polls <- struct{}{}
		return true
	}
	cancelledAt := make(chan time.Time, 1)
	go func() {
		<-polls
		<-polls
		cancelledAt <- time.Now()
		cancel()
	}()
	_, err := c.Wait(ctx, []string{a}, opts)
	if d := time.Since(<-cancelledAt); d > time.Second {
		t.Errorf("the wait returned %v after its context was cancelled", d)
	}
	if !errors.Is(err, context.Canceled) || !errors.Is(err, ErrCancelled) {
		t.Fatalf("%v, want context.Canceled", err)
	}

	// A deadline, between polls.
	ctx, cancel = context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = c.Wait(ctx, []string{a}, WaitOptions{MinDelay: 30 * time.Second})
	if d := time.Since(start); d > 1400*time.Millisecond {
		t.Errorf("a 400ms deadline ended a wait with 30s pauses after %v", d)
	}
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrCancelled) {
		t.Fatalf("%v, want context.DeadlineExceeded", err)
	}

	// A context already done sends nothing.
	before := emu.stats(t).Requests
	if _, err := c.Wait(ctx, []string{a}, fastWait); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%v", err)
	}
	if sent := emu.stats(t).Requests - before; sent != 0 {
		t.Errorf("a done context sent %d requests", sent)
	}
}

func TestWaitProgressStops(t *testing.T) {
	const a = "ami-00000000000000011"
	emu := waitEmulator(t, "1", waitTask(a, 0, ""))
	c := emu.client(t, nil)
	calls := 0
	opts := fastWait
	opts.Progress = func(tasks []Task) bool {
		calls++
		if len(tasks) != 1 || tasks[0].AmiID != a || tasks[0].State != StateInProgress {
			t.Errorf("progress %+v", tasks)
		}
		return calls < 2
	}
	_, err := c.Wait(context.Background(), []string{a}, opts)
	if !errors.Is(err, ErrCancelled) || errors.Is(err, context.Canceled) || errors.Is(err, ErrClosed) {
		t.Fatalf("%v, want ErrCancelled alone", err)
	}
	if calls != 2 {
		t.Errorf("the progress function was called %d times after returning false on the 2nd", calls)
	}
	// The client still works.
	if _, err := c.Describe(context.Background(), Query{ImageIDs: []string{a}}); err != nil {
		t.Fatal(err)
	}
}

func TestWaitProgressPanics(t *testing.T) {
	const a = "ami-00000000000000012"
	emu := waitEmulator(t, "1", waitTask(a, 0, ""))
	c := emu.client(t, nil)
	opts := fastWait
	opts.Progress = func([]Task) bool { panic("boom in progress") }
	expectPanic(t, "boom in progress", "Wait", func() { c.Wait(context.Background(), []string{a}, opts) })
	// Close neither hangs nor reaches the freed token of the wait.
	checkAfterPanic(t, c, "Progress", func() error {
		_, err := c.Describe(context.Background(), Query{})
		return err
	})
	if _, err := c.Wait(context.Background(), []string{a}, fastWait); !errors.Is(err, ErrClosed) {
		t.Errorf("Wait after Close: %v", err)
	}
}

func TestWaitClose(t *testing.T) {
	const a = "ami-00000000000000013"
	emu := waitEmulator(t, "1", waitTask(a, 0, ""))

	// Closed by another goroutine in the middle of a wait.
	c := emu.client(t, nil)
	time.AfterFunc(300*time.Millisecond, func() { c.Close() })
	start := time.Now()
	_, err := c.Wait(context.Background(), []string{a}, fastWait)
	if d := time.Since(start); d > 1300*time.Millisecond {
		t.Errorf("Close 300ms into the wait ended it after %v", d)
	}
	if !errors.Is(err, ErrClosed) || !errors.Is(err, ErrCancelled) {
		t.Fatalf("%v, want ErrClosed", err)
	}
	if _, err := c.Wait(context.Background(), []string{a}, fastWait); !errors.Is(err, ErrClosed) || !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("after Close: %v", err)
	}

	// Closed, and used, by the progress function itself.
	c = emu.client(t, nil)
	opts := fastWait
	var inner error
	opts.Progress = func([]Task) bool {
		c.Close()
		_, inner = c.Describe(context.Background(), Query{})
		return true
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.Wait(context.Background(), []string{a}, opts)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) || !errors.Is(err, ErrCancelled) {
			t.Fatalf("%v, want ErrClosed", err)
		}
		if !errors.Is(inner, ErrClosed) {
			t.Errorf("a call after Close inside the progress function: %v", inner)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("closing the client inside the progress function deadlocked")
	}
}

func TestWaitArguments(t *testing.T) {
	emu := waitEmulator(t, "1", waitTask("ami-00000000000000014", 0, ""))
	c := emu.client(t, nil)
	for _, tc := range []struct {
		ids  []string
		opts WaitOptions
	}{
		{[]string{""}, fastWait},
		{[]string{"ami-1\x00"}, fastWait},
		{[]string{"ami-00000000000000014"}, WaitOptions{MinDelay: 2 * time.Second, MaxDelay: time.Second}},
		{[]string{"ami-00000000000000014"}, WaitOptions{MinDelay: -time.Second}},
		{[]string{"ami-00000000000000014"}, WaitOptions{MaxDelay: -time.Second}},
	} {
		before := emu.stats(t).Requests
		if _, err := c.Wait(context.Background(), tc.ids, tc.opts); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("ids %q, options %+v: %v, want ErrInvalidArgument", tc.ids, tc.opts, err)
		}
		if sent := emu.stats(t).Requests - before; sent != 0 {
			t.Errorf("ids %q, options %+v: %d requests sent", tc.ids, tc.opts, sent)
		}
	}
	// A zero bound adapts to the other one: these are valid (and end at the first poll).
	for _, opts := range []WaitOptions{{MaxDelay: 200 * time.Millisecond}, {MinDelay: 200 * time.Millisecond}} {
		opts.NotFoundGrace = -1
		if _, err := c.Wait(context.Background(), []string{"ami-00000000000000404"}, opts); !errors.Is(err, ErrNotFound) {
			t.Errorf("%+v: %v, want ErrNotFound", opts, err)
		}
	}
}

func TestWaitConcurrent(t *testing.T) {
	ids := []string{"ami-00000000000000020", "ami-00000000000000021", "ami-00000000000000022"}
	var tasks []map[string]any
	for _, id := range ids {
		tasks = append(tasks, waitTask(id, 0, ""))
	}
	emu := waitEmulator(t, "80", tasks...)
	c := emu.client(t, nil)
	base := runtime.NumGoroutine()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			opts := fastWait
			var mu sync.Mutex
			opts.Progress = func([]Task) bool { mu.Lock(); defer mu.Unlock(); return true }
			got, err := c.Wait(context.Background(), ids[i%3:], opts)
			if err != nil {
				t.Error(err)
				return
			}
			if len(got) != 3-i%3 {
				t.Errorf("waiter %d: %+v", i, got)
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		t.Errorf("%d goroutines left behind", n-base)
	}
}
