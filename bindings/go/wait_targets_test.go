package storetasks

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// latestInState returns the first task of a listing (newest first) that is in state and is the
// latest task of its image, so that a wait on its image sees that very task.
func latestInState(t *testing.T, tasks []Task, state TaskState) Task {
	t.Helper()
	seen := map[string]bool{}
	for _, task := range tasks {
		if !seen[task.AmiID] && task.State == state {
			return task
		}
		seen[task.AmiID] = true
	}
	t.Fatalf("no image whose latest task is %s among %d tasks", state, len(tasks))
	return Task{}
}

// roleListing lists every task of one region in the account of role, through a fleet call.
func roleListing(t *testing.T, c *Client, region, role string) []Task {
	t.Helper()
	res, err := c.DescribeFleet(context.Background(), Fleet{Regions: []string{region}, RoleARNs: []string{role}}, Query{})
	if err != nil {
		t.Fatal(err)
	}
	if p := res.Places[0]; p.Err != nil || len(p.Tasks) == 0 {
		t.Fatalf("%s in %s: %d tasks, %v", role, region, len(p.Tasks), p.Err)
	}
	return res.Places[0].Tasks
}

func TestWaitTargetsCompleted(t *testing.T) {
	emu := fleetEmulator(t, "--role", testRoleA)
	c := emu.client(t, nil)
	home := latestInState(t, regionListing(t, emu, "us-east-1"), StateCompleted)
	eu := latestInState(t, regionListing(t, emu, "eu-west-3"), StateCompleted)
	west := latestInState(t, regionListing(t, emu, "us-west-2"), StateCompleted)
	role := latestInState(t, roleListing(t, c, "eu-west-3", testRoleA), StateCompleted)

	targets := []WaitTarget{
		{Region: "us-west-2", ImageID: west.AmiID},
		{Region: "eu-west-3", RoleARN: testRoleA, ImageID: role.AmiID},
		{ImageID: home.AmiID}, // the client's region and account
		{Region: "eu-west-3", ImageID: eu.AmiID},
		{Region: "us-west-2", ImageID: west.AmiID}, // given twice, comes once
	}
	want := []Task{west, role, home, eu}
	var polls [][]Task
	opts := fastWait
	opts.Progress = func(tasks []Task) bool {
		polls = append(polls, tasks)
		return true
	}
	before := emu.fleetStats(t)
	tasks, err := c.WaitTargets(context.Background(), targets, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tasks, want) {
		t.Fatalf("tasks %v, want %v in the order of the targets", amiIDs(tasks), amiIDs(want))
	}
	// Every task was already Completed: one poll saw them all.
	if len(polls) != 1 || !slices.Equal(polls[0], want) {
		t.Errorf("progress saw %d polls, the first %v; want one poll with %v", len(polls), amiIDs(polls[0]), amiIDs(want))
	}
	after := emu.fleetStats(t)
	if n := after.AssumeRoleRequests - before.AssumeRoleRequests; n != 1 {
		t.Errorf("%d AssumeRole requests for one role", n)
	}
	// One request per place: us-west-2, the role's eu-west-3, us-east-1 and eu-west-3.
	if n := after.Describe - before.Describe; n != 4 {
		t.Errorf("%d DescribeStoreImageTasks requests for 4 places", n)
	}
}

func TestWaitTargetsNotFound(t *testing.T) {
	emu := fleetEmulator(t, "--role", testRoleA)
	c := emu.client(t, nil)
	eu := latestInState(t, regionListing(t, emu, "eu-west-3"), StateCompleted).AmiID
	opts := fastWait
	opts.NotFoundGrace = 300 * time.Millisecond
	for _, tc := range []struct {
		targets []WaitTarget
		name    string // how the message names the missing image
	}{
		// An image of eu-west-3 looked for in us-west-2 as well.
		{[]WaitTarget{{Region: "eu-west-3", ImageID: eu}, {Region: "us-west-2", ImageID: eu}}, "us-west-2/" + eu},
		// An image of the client's account looked for in the role's account.
		{[]WaitTarget{{Region: "eu-west-3", RoleARN: testRoleA, ImageID: eu}}, "111111111111/eu-west-3/" + eu},
	} {
		start := time.Now()
		tasks, err := c.WaitTargets(context.Background(), tc.targets, opts)
		d := time.Since(start)
		var e *Error
		if !errors.Is(err, ErrNotFound) || !errors.As(err, &e) {
			t.Fatalf("%+v: tasks %v, error %v; want ErrNotFound", tc.targets, amiIDs(tasks), err)
		}
		if e.AmiID != eu || !strings.Contains(e.Message, tc.name+" has had no store task") {
			t.Errorf("AmiID %q, message %q; want %s named %q", e.AmiID, e.Message, eu, tc.name)
		}
		if d < opts.NotFoundGrace || d > opts.NotFoundGrace+2*time.Second {
			t.Errorf("a grace of %v ended the wait after %v", opts.NotFoundGrace, d)
		}
	}
}

func TestWaitTargetsFailed(t *testing.T) {
	emu := fleetEmulator(t)
	c := emu.client(t, nil)
	eu := latestInState(t, regionListing(t, emu, "eu-west-3"), StateCompleted)
	west := regionListing(t, emu, "us-west-2")
	failed := latestInState(t, west, StateFailed)
	if failed.FailureReason == "" {
		t.Fatalf("the failed task %s has no reason", failed.AmiID)
	}
	targets := []WaitTarget{{Region: "eu-west-3", ImageID: eu.AmiID}, {Region: "us-west-2", ImageID: failed.AmiID}}
	tasks, err := c.WaitTargets(context.Background(), targets, fastWait)
	if !errors.Is(err, ErrTaskFailed) || errors.Is(err, ErrCancelled) {
		t.Fatalf("tasks %v, error %v; want ErrTaskFailed", amiIDs(tasks), err)
	}
	var e *Error
	if !errors.As(err, &e) || e.AmiID != failed.AmiID || e.FailureReason != failed.FailureReason {
		t.Fatalf("error %#v, want AmiID %q and FailureReason %q", e, failed.AmiID, failed.FailureReason)
	}
	if !strings.HasPrefix(e.Message, "us-west-2/"+failed.AmiID+" failed: ") {
		t.Errorf("message %q does not name us-west-2/%s", e.Message, failed.AmiID)
	}
	if tasks != nil {
		t.Errorf("a failed wait returned tasks %v", amiIDs(tasks))
	}

	// A place denied ends the wait with its own status, whatever the other places hold.
	emu.addFaults(t, "deny,region=eu-west-3,count=1000")
	defer emu.clearFaults(t)
	ok := latestInState(t, west, StateCompleted)
	targets = []WaitTarget{{Region: "us-west-2", ImageID: ok.AmiID}, {Region: "eu-west-3", ImageID: eu.AmiID}}
	_, err = c.WaitTargets(context.Background(), targets, fastWait)
	e = checkError(t, err, ErrUnauthorized, "UnauthorizedOperation", 403)
	if !strings.HasPrefix(e.Message, "eu-west-3: ") {
		t.Errorf("message %q does not start with the denied region", e.Message)
	}
}

func TestWaitTargetsArguments(t *testing.T) {
	emu := fleetEmulator(t, "--role", testRoleA)
	c := emu.client(t, nil)
	const ami = "ami-00000000000000014"
	before := emu.fleetStats(t).Requests
	for _, tc := range []struct {
		targets []WaitTarget
		opts    WaitOptions
		message string // what the message must say
	}{
		{nil, fastWait, "no image ids"},
		{[]WaitTarget{}, fastWait, "no image ids"},
		{[]WaitTarget{{Region: "eu-west-3", ImageID: ami}, {Region: "us-west-2"}}, fastWait, "targets[1].ImageID is empty"},
		{[]WaitTarget{{Region: "EU WEST", ImageID: ami}}, fastWait, `"EU WEST" is not a region name`},
		{[]WaitTarget{{Region: "eu-west-3", ImageID: ami}, {Region: "eu_west_3", ImageID: ami}}, fastWait, `"eu_west_3" is not a region name`},
		{[]WaitTarget{{RoleARN: "arn:nope", ImageID: ami}}, fastWait, `"arn:nope" is not an IAM role ARN`},
		{[]WaitTarget{{ImageID: "  "}}, fastWait, "an image id is empty"},
		{[]WaitTarget{{Region: "eu-west-3\x00", ImageID: ami}}, fastWait, "targets[0].Region contains a NUL byte"},
		{[]WaitTarget{{RoleARN: testRoleA + "\x00", ImageID: ami}}, fastWait, "targets[0].RoleARN contains a NUL byte"},
		{[]WaitTarget{{ImageID: ami + "\x00"}}, fastWait, "targets[0].ImageID contains a NUL byte"},
		{[]WaitTarget{{Region: "eu-west-3", ImageID: ami}}, WaitOptions{MinDelay: 2 * time.Second, MaxDelay: time.Second}, "MinDelay"},
		{[]WaitTarget{{Region: "eu-west-3", ImageID: ami}}, WaitOptions{MaxDelay: -time.Second}, "WaitOptions.MaxDelay is negative"},
	} {
		tasks, err := c.WaitTargets(context.Background(), tc.targets, tc.opts)
		e := checkError(t, err, ErrInvalidArgument, "", 0)
		if tasks != nil || !strings.Contains(e.Message, tc.message) {
			t.Errorf("%q %+v: %v, want a message with %q", tc.targets, tc.opts, err, tc.message)
		}
	}
	if sent := emu.fleetStats(t).Requests - before; sent != 0 {
		t.Errorf("bad input sent %d requests", sent)
	}
}

func TestWaitTargetsCancel(t *testing.T) {
	emu := fleetEmulator(t)
	c := emu.client(t, nil)
	// Without --progress-rate, these stay InProgress.
	eu := latestInState(t, regionListing(t, emu, "eu-west-3"), StateInProgress).AmiID
	west := latestInState(t, regionListing(t, emu, "us-west-2"), StateInProgress).AmiID
	targets := []WaitTarget{{Region: "us-west-2", ImageID: west}, {Region: "eu-west-3", ImageID: eu}}

	t.Run("Context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		polls := make(chan []Task, 100)
		opts := fastWait
		opts.Progress = func(tasks []Task) bool {
			polls <- tasks
			return true
		}
		cancelledAt := make(chan time.Time, 1)
		go func() {
			for range 2 {
				if got := <-polls; !slices.Equal(amiIDs(got), []string{west, eu}) {
					t.Errorf("progress saw %v, want %s then %s", amiIDs(got), west, eu)
				}
			}
			cancelledAt <- time.Now()
			cancel()
		}()
		_, err := c.WaitTargets(ctx, targets, opts)
		if d := time.Since(<-cancelledAt); d > time.Second {
			t.Errorf("the wait returned %v after its context was cancelled", d)
		}
		if !errors.Is(err, context.Canceled) || !errors.Is(err, ErrCancelled) {
			t.Fatalf("%v, want context.Canceled", err)
		}
	})
	t.Run("Deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.WaitTargets(ctx, targets, WaitOptions{MinDelay: 30 * time.Second})
		if d := time.Since(start); d > 1400*time.Millisecond {
			t.Errorf("a 400ms deadline ended a wait with 30s pauses after %v", d)
		}
		if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrCancelled) {
			t.Fatalf("%v, want context.DeadlineExceeded", err)
		}
		// A context already done sends nothing.
		before := emu.fleetStats(t).Requests
		if _, err := c.WaitTargets(ctx, targets, fastWait); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%v", err)
		}
		if sent := emu.fleetStats(t).Requests - before; sent != 0 {
			t.Errorf("a done context sent %d requests", sent)
		}
	})
	t.Run("ProgressStops", func(t *testing.T) {
		calls := 0
		opts := fastWait
		opts.Progress = func([]Task) bool {
			calls++
			return calls < 2
		}
		_, err := c.WaitTargets(context.Background(), targets, opts)
		if !errors.Is(err, ErrCancelled) || errors.Is(err, context.Canceled) || errors.Is(err, ErrClosed) {
			t.Fatalf("%v, want ErrCancelled alone", err)
		}
		var e *Error
		if !errors.As(err, &e) || e.Message != "the progress function stopped the wait" || calls != 2 {
			t.Errorf("after %d calls: %v", calls, err)
		}
	})
	t.Run("Close", func(t *testing.T) {
		c := emu.client(t, nil)
		time.AfterFunc(300*time.Millisecond, func() { c.Close() })
		start := time.Now()
		_, err := c.WaitTargets(context.Background(), targets, fastWait)
		if d := time.Since(start); d > 1300*time.Millisecond {
			t.Errorf("Close 300ms into the wait ended it after %v", d)
		}
		if !errors.Is(err, ErrClosed) || !errors.Is(err, ErrCancelled) {
			t.Fatalf("%v, want ErrClosed", err)
		}
	})
}
