package storetasks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	testRoleA = "arn:aws:iam::111111111111:role/StoreTasksReader"
	testRoleB = "arn:aws:iam::222222222222:role/StoreTasksReader"
)

// fleetRegions are the regions the fleet emulators serve besides the home one, us-east-1.
var fleetRegions = []string{"us-east-1", "eu-west-3", "ap-south-1", "us-west-2", "ca-central-1"}

// fleetEmulator starts an emulator serving fleetRegions, each (account, region) pair with 60
// generated tasks of its own.
func fleetEmulator(t testing.TB, extra ...string) *emulator {
	t.Helper()
	args := append([]string{"--generate", "60", "--seed", "7", "--now", testNow,
		"--regions", strings.Join(fleetRegions, ",")}, extra...)
	return startEmulator(t, args...)
}

// fleetStats is the part of the emulator's stats that fleet calls change.
type fleetStats struct {
	Requests           int `json:"requests"`
	Describe           int `json:"describe"`
	AssumeRoleRequests int `json:"assume_role_requests"`
	ByPair             map[string]struct {
		Describe int `json:"describe"`
	} `json:"by_pair"`
}

func (e *emulator) fleetStats(t testing.TB) fleetStats {
	t.Helper()
	var s fleetStats
	e.control(t, http.MethodGet, "/_emulator/stats", nil, &s)
	return s
}

// placeTasks returns the tasks DescribeStoreImageTasks reports in one (account, region) pair,
// newest first, read from the emulator's own store.
func (e *emulator) placeTasks(t testing.TB, region, account string) []emulatorTask {
	t.Helper()
	v := url.Values{"region": {region}}
	if account != "" {
		v.Set("account", account)
	}
	var out struct{ StoreImageTaskResults []emulatorTask }
	e.control(t, http.MethodGet, "/_emulator/tasks?"+v.Encode(), nil, &out)
	cutoff := mustTime(t, testNow).Add(-31 * 24 * time.Hour)
	var visible []emulatorTask
	for _, task := range out.StoreImageTaskResults {
		if task.TaskStartTime == nil || !mustTime(t, *task.TaskStartTime).Before(cutoff) {
			visible = append(visible, task)
		}
	}
	return visible
}

// regionListing lists every task of one region the ordinary way, through a client of that
// region: what a fleet place of the client's own account must hold.
func regionListing(t *testing.T, emu *emulator, region string) []Task {
	t.Helper()
	c := emu.client(t, func(cfg *Config) { cfg.Region = region })
	page, err := c.Collect(context.Background(), Query{MaxResults: 200}, 0)
	if err != nil {
		t.Fatalf("%s: %v", region, err)
	}
	if len(page.Tasks) == 0 {
		t.Fatalf("%s: no tasks", region)
	}
	return page.Tasks
}

func placeRegions(places []FleetPlace) []string {
	var regions []string
	for _, p := range places {
		regions = append(regions, p.Region)
	}
	return regions
}

// fleetWithJSON runs DescribeFleet and returns its result with the library's JSON rendering of
// the very same result.
func fleetWithJSON(t *testing.T, c *Client, f Fleet, q Query) (*FleetResult, string) {
	t.Helper()
	r, text, err := c.describeFleet(context.Background(), &f, &q, true)
	if err != nil {
		t.Fatal(err)
	}
	return r, string(text)
}

func TestFleetRegions(t *testing.T) {
	emu := fleetEmulator(t)
	c := emu.client(t, nil)
	regions := []string{"us-east-1", "eu-west-3", "ap-south-1", "us-west-2"}
	// A region named twice is listed once, where it was first named.
	f := Fleet{Regions: append(slices.Clone(regions), "eu-west-3")}
	res, libJSON := fleetWithJSON(t, c, f, Query{MaxResults: 25})
	if got := placeRegions(res.Places); !slices.Equal(got, regions) {
		t.Fatalf("places %v, want %v", got, regions)
	}
	if failed := res.Failed(); len(failed) != 0 {
		t.Fatalf("failed places: %+v", failed)
	}
	seen := map[string]string{}
	for _, p := range res.Places {
		if p.Account != "" || p.RoleARN != "" || p.Err != nil {
			t.Errorf("%s: account %q, role %q, error %v", p.Region, p.Account, p.RoleARN, p.Err)
		}
		want := regionListing(t, emu, p.Region)
		if !slices.Equal(p.Tasks, want) {
			t.Errorf("%s: %d tasks, want the region's %d in order", p.Region, len(p.Tasks), len(want))
		}
		if p.TaskCount != len(p.Tasks) {
			t.Errorf("%s: TaskCount %d, %d tasks", p.Region, p.TaskCount, len(p.Tasks))
		}
		if !requestIDPattern.MatchString(p.RequestID) {
			t.Errorf("%s: RequestID %q", p.Region, p.RequestID)
		}
		for _, id := range amiIDs(p.Tasks) {
			if other, ok := seen[id]; ok {
				t.Errorf("%s is in %s and %s", id, other, p.Region)
			}
			seen[id] = p.Region
		}
	}
	// The home region's tasks are those the emulator holds there, member by member.
	home := emu.placeTasks(t, "us-east-1", "")
	if len(home) != len(res.Places[0].Tasks) {
		t.Fatalf("us-east-1: %d tasks, the emulator holds %d", len(res.Places[0].Tasks), len(home))
	}
	for i, w := range home {
		checkTask(t, res.Places[0].Tasks[i], w)
	}
	all := res.Tasks()
	if len(all) != len(seen) || all[0].Region != "us-east-1" || all[len(all)-1].Region != "us-west-2" {
		t.Errorf("Tasks(): %d tasks from %s to %s, want %d", len(all), all[0].Region, all[len(all)-1].Region, len(seen))
	}
	if got := string(res.JSON()); got != libJSON {
		t.Errorf("JSON differs from the library's:\n%s\nlibrary:\n%s", got, libJSON)
	}
}

// The client for faulted regions: two attempts, short timeouts.
func shortRetries(cfg *Config) {
	cfg.RetryMode = RetryStandard
	cfg.MaxAttempts = 2
	cfg.ConnectTimeout = 2 * time.Second
	cfg.AttemptTimeout = 5 * time.Second
	cfg.OperationTimeout = 20 * time.Second
}

func TestFleetFaultedRegions(t *testing.T) {
	emu := fleetEmulator(t,
		"--fault", "throttle,region=eu-west-3,count=1000000",
		"--fault", "deny,region=ap-south-1,count=1000000",
		"--fault", "drop,region=ca-central-1,count=1000000")
	c := emu.client(t, shortRetries)
	f := Fleet{Regions: []string{"us-east-1", "eu-west-3", "ap-south-1", "ca-central-1", "us-west-2"}}
	healthy := map[string][]Task{
		"us-east-1": regionListing(t, emu, "us-east-1"),
		"us-west-2": regionListing(t, emu, "us-west-2"),
	}
	checkFailed := func(t *testing.T, failed []FleetPlace) {
		t.Helper()
		if got := placeRegions(failed); !slices.Equal(got, []string{"eu-west-3", "ap-south-1", "ca-central-1"}) {
			t.Fatalf("failed places %v", got)
		}
		checkError(t, failed[0].Err, ErrThrottled, "RequestLimitExceeded", 503)
		checkError(t, failed[1].Err, ErrUnauthorized, "UnauthorizedOperation", 403)
		checkError(t, failed[2].Err, ErrNetwork, "", 0)
		for _, p := range failed {
			if len(p.Tasks) != 0 || p.TaskCount != 0 {
				t.Errorf("%s failed on its first page, yet has %d tasks (count %d)", p.Region, len(p.Tasks), p.TaskCount)
			}
		}
	}

	t.Run("DescribeFleet", func(t *testing.T) {
		res, libJSON := fleetWithJSON(t, c, f, Query{MaxResults: 40})
		if got := placeRegions(res.Places); !slices.Equal(got, f.Regions) {
			t.Fatalf("places %v", got)
		}
		for _, p := range res.Places {
			if want, ok := healthy[p.Region]; ok {
				if p.Err != nil || !slices.Equal(p.Tasks, want) {
					t.Errorf("%s: %d tasks, error %v; want the region's %d tasks", p.Region, len(p.Tasks), p.Err, len(want))
				}
			}
		}
		checkFailed(t, res.Failed())
		var e *Error
		if !errors.As(res.Failed()[0].Err, &e) || e.RequestID == "" {
			t.Errorf("the throttled place's error has no request id: %v", res.Failed()[0].Err)
		}
		if got := string(res.JSON()); got != libJSON {
			t.Errorf("JSON differs from the library's:\n%s\nlibrary:\n%s", got, libJSON)
		}
	})
	t.Run("FleetTasks", func(t *testing.T) {
		var res FleetResult
		got := map[string][]Task{}
		for task, err := range c.FleetTasks(context.Background(), f, Query{MaxResults: 40}, &res) {
			if err != nil {
				t.Fatalf("a failed place ended the whole listing: %v", err)
			}
			if task.Account != "" {
				t.Errorf("account %q without roles", task.Account)
			}
			got[task.Region] = append(got[task.Region], task.Task)
		}
		if len(got) != len(healthy) {
			t.Errorf("tasks from %d regions, want %d", len(got), len(healthy))
		}
		for region, want := range healthy {
			if !slices.Equal(got[region], want) {
				t.Errorf("%s: %d tasks, want the region's %d in order", region, len(got[region]), len(want))
			}
		}
		if got := placeRegions(res.Places); !slices.Equal(got, f.Regions) {
			t.Fatalf("places %v", got)
		}
		for _, p := range res.Places {
			if want, ok := healthy[p.Region]; ok && (p.Err != nil || p.TaskCount != len(want) || len(p.Tasks) != 0) {
				t.Errorf("%s: count %d, %d kept tasks, error %v; want count %d", p.Region, p.TaskCount, len(p.Tasks), p.Err, len(want))
			}
		}
		checkFailed(t, res.Failed())
	})
}

func TestFleetAllRegions(t *testing.T) {
	emu := fleetEmulator(t, "--opt-in-region", "me-south-1")
	c := emu.client(t, nil)
	q := Query{Filters: []Filter{{Name: "task-state", Values: []string{"Failed"}}}}
	res, err := c.DescribeFleet(context.Background(), Fleet{AllRegions: true}, q)
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Sorted(slices.Values(fleetRegions)) // by name, the opt-in region left out
	if got := placeRegions(res.Places); !slices.Equal(got, want) {
		t.Fatalf("places %v, want %v", got, want)
	}
	for _, p := range res.Places {
		if p.Err != nil || len(p.Tasks) == 0 {
			t.Errorf("%s: %d tasks, %v", p.Region, len(p.Tasks), p.Err)
		}
		for _, task := range p.Tasks {
			if task.State != StateFailed {
				t.Errorf("%s: %s is %s: the filter did not reach the region", p.Region, task.AmiID, task.State)
			}
		}
	}
	// The streaming form finds the same places.
	var streamed FleetResult
	n := 0
	for _, err := range c.FleetTasks(context.Background(), Fleet{AllRegions: true}, q, &streamed) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if got := placeRegions(streamed.Places); !slices.Equal(got, want) || n != len(res.Tasks()) {
		t.Errorf("streamed %d tasks from %v, want %d from %v", n, got, len(res.Tasks()), want)
	}
}

func TestFleetRoles(t *testing.T) {
	emu := fleetEmulator(t, "--role", testRoleA, "--role", testRoleB)
	c := emu.client(t, nil)
	f := Fleet{Regions: []string{"eu-west-3", "us-west-2"}, RoleARNs: []string{testRoleA, testRoleB}}
	res, libJSON := fleetWithJSON(t, c, f, Query{})
	type key struct{ account, region string }
	want := []key{{"111111111111", "eu-west-3"}, {"111111111111", "us-west-2"}, {"222222222222", "eu-west-3"}, {"222222222222", "us-west-2"}}
	var got []key
	for _, p := range res.Places {
		got = append(got, key{p.Account, p.Region})
	}
	if !slices.Equal(got, want) {
		t.Fatalf("places %v, want %v", got, want)
	}
	seen := map[string]bool{}
	for i, p := range res.Places {
		if wantRole := f.RoleARNs[i/2]; p.RoleARN != wantRole || p.Err != nil {
			t.Errorf("%s %s: role %q, error %v; want %q", p.Account, p.Region, p.RoleARN, p.Err, wantRole)
		}
		w := emu.placeTasks(t, p.Region, p.Account)
		if len(p.Tasks) != len(w) || len(w) == 0 {
			t.Fatalf("%s %s: %d tasks, want %d", p.Account, p.Region, len(p.Tasks), len(w))
		}
		for j := range w {
			checkTask(t, p.Tasks[j], w[j])
		}
		for _, id := range amiIDs(p.Tasks) {
			if seen[id] {
				t.Errorf("%s is in two places: accounts share no data", id)
			}
			seen[id] = true
		}
	}
	if n := emu.fleetStats(t).AssumeRoleRequests; n != 2 {
		t.Errorf("%d AssumeRole requests, want one per role", n)
	}
	if got := string(res.JSON()); got != libJSON {
		t.Errorf("JSON differs from the library's:\n%s\nlibrary:\n%s", got, libJSON)
	}

	// Streamed, each task carries its place.
	var streamed FleetResult
	perPlace := map[key][]string{}
	for task, err := range c.FleetTasks(context.Background(), f, Query{MaxResults: 7}, &streamed) {
		if err != nil {
			t.Fatal(err)
		}
		k := key{task.Account, task.Region}
		perPlace[k] = append(perPlace[k], task.AmiID)
	}
	for i, p := range res.Places {
		k := key{p.Account, p.Region}
		if !slices.Equal(perPlace[k], amiIDs(p.Tasks)) {
			t.Errorf("%v: streamed %d tasks, want the %d listed in order", k, len(perPlace[k]), len(p.Tasks))
		}
		if sp := streamed.Places[i]; sp.Account != p.Account || sp.Region != p.Region || sp.RoleARN != p.RoleARN ||
			sp.TaskCount != len(p.Tasks) || sp.Err != nil {
			t.Errorf("streamed place %+v, want %s %s with %d tasks", sp, p.Account, p.Region, len(p.Tasks))
		}
	}

	// A role that cannot be assumed fails its own places only.
	const unknownRole = "arn:aws:iam::333333333333:role/StoreTasksReader"
	res, err := c.DescribeFleet(context.Background(), Fleet{Regions: f.Regions, RoleARNs: []string{unknownRole, testRoleA}}, Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Places) != 4 || len(res.Failed()) != 2 {
		t.Fatalf("%d places, %d failed; want 4 and 2", len(res.Places), len(res.Failed()))
	}
	for _, p := range res.Failed() {
		if p.Account != "333333333333" || !(errors.Is(p.Err, ErrCredentials) || errors.Is(p.Err, ErrUnauthorized)) {
			t.Errorf("%s %s: %v", p.Account, p.Region, p.Err)
		}
	}
	for _, p := range res.Places[2:] {
		if p.Err != nil || len(p.Tasks) == 0 {
			t.Errorf("%s %s: %d tasks, %v", p.Account, p.Region, len(p.Tasks), p.Err)
		}
	}
}

func TestFleetPages(t *testing.T) {
	emu := fleetEmulator(t)
	c := emu.client(t, nil)
	f := Fleet{Regions: []string{"eu-west-3", "us-west-2", "ca-central-1"}}
	var res FleetResult
	counts := map[string]int{}
	pages := 0
	for p, err := range c.FleetPages(context.Background(), f, Query{MaxResults: 9}, &res) {
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if p.Account != "" || len(p.Tasks) == 0 || len(p.Tasks) > 9 || !requestIDPattern.MatchString(p.RequestID) {
			t.Errorf("page of %q %s: %d tasks, request id %q", p.Account, p.Region, len(p.Tasks), p.RequestID)
		}
		counts[p.Region] += len(p.Tasks)
	}
	for _, p := range res.Places {
		if p.TaskCount != counts[p.Region] || p.TaskCount != len(regionListing(t, emu, p.Region)) {
			t.Errorf("%s: count %d, streamed %d", p.Region, p.TaskCount, counts[p.Region])
		}
	}
	if sent := emu.fleetStats(t).Describe; sent < pages {
		t.Errorf("%d pages from %d requests", pages, sent)
	}
}

func TestFleetTasksBreak(t *testing.T) {
	emu := fleetEmulator(t)
	c := emu.client(t, nil)
	f := Fleet{Regions: fleetRegions[:4]}
	emu.fleetStats(t) // the test's own connection to the control endpoint, kept alive
	base := runtime.NumGoroutine()
	res := FleetResult{Places: []FleetPlace{{Region: "left over"}}}
	n := 0
	for task, err := range c.FleetTasks(context.Background(), f, Query{MaxResults: 5}, &res) {
		if err != nil {
			t.Fatal(err)
		}
		if task.Region == "" || task.AmiID == "" {
			t.Errorf("task %+v", task)
		}
		if n++; n == 3 {
			break
		}
	}
	// The listing stopped with the loop: once the requests in flight when it ended have landed,
	// nothing more is sent, far less than the whole listing.
	time.Sleep(100 * time.Millisecond)
	after := emu.fleetStats(t).Describe
	time.Sleep(300 * time.Millisecond)
	if later := emu.fleetStats(t).Describe; later != after || after >= 4*12 {
		t.Errorf("%d requests soon after the loop ended, %d later; the whole listing takes 48", after, later)
	}
	if res.Places != nil {
		t.Errorf("a loop left early leaves the result empty, got %+v", res.Places)
	}
	// A panic in the loop body stops the listing too.
	expectPanic(t, "boom", "the loop body", func() {
		for range c.FleetTasks(context.Background(), f, Query{MaxResults: 5}, nil) {
			panic("boom")
		}
	})
	checkGoroutines(t, base)
	// The client still works.
	if _, err := c.DescribeFleet(context.Background(), Fleet{Regions: []string{"eu-west-3"}}, Query{}); err != nil {
		t.Fatal(err)
	}
}

func TestFleetCancel(t *testing.T) {
	emu := fleetEmulator(t)
	c := emu.client(t, nil)
	f := Fleet{Regions: fleetRegions[:3]}

	t.Run("DescribeFleet", func(t *testing.T) {
		emu.addFaults(t, "delay,ms=5000,count=1000")
		defer emu.clearFaults(t)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(200*time.Millisecond, cancel)
		start := time.Now()
		res, err := c.DescribeFleet(ctx, f, Query{})
		if d := time.Since(start); d > 1500*time.Millisecond {
			t.Errorf("cancelled after 200ms, returned after %v", d)
		}
		if res != nil || !errors.Is(err, context.Canceled) || !errors.Is(err, ErrCancelled) {
			t.Fatalf("%+v, %v", res, err)
		}
	})
	t.Run("FleetTasks", func(t *testing.T) {
		// The first page of each region comes at once, the next ones after 10 seconds.
		emu.addFaults(t, "delay,at=4,count=1000,ms=10000")
		defer emu.clearFaults(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var res FleetResult
		var cancelledAt time.Time
		n, last := countUntilError(c.FleetTasks(ctx, f, Query{MaxResults: 10}, &res), 1, func() {
			cancelledAt = time.Now().Add(200 * time.Millisecond)
			time.AfterFunc(200*time.Millisecond, cancel)
		})
		if d := time.Since(cancelledAt); d > time.Second {
			t.Errorf("the listing ended %v after the cancellation", d)
		}
		if n != 30 {
			t.Errorf("%d tasks before the cancellation, want the 30 of the first pages", n)
		}
		var e *Error
		if !errors.Is(last, context.Canceled) || !errors.Is(last, ErrCancelled) || !errors.As(last, &e) {
			t.Fatalf("%v does not match context.Canceled and ErrCancelled", last)
		}
		if res.Places != nil {
			t.Errorf("a cancelled listing leaves the result empty, got %+v", res.Places)
		}
	})
	t.Run("AlreadyDone", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		before := emu.fleetStats(t).Requests
		if _, err := c.DescribeFleet(ctx, f, Query{}); !errors.Is(err, context.Canceled) {
			t.Errorf("DescribeFleet: %v", err)
		}
		if err := onlyError(t, c.FleetTasks(ctx, f, Query{}, nil)); !errors.Is(err, context.Canceled) || !errors.Is(err, ErrCancelled) {
			t.Errorf("FleetTasks: %v", err)
		}
		if sent := emu.fleetStats(t).Requests - before; sent != 0 {
			t.Errorf("a cancelled context sent %d requests", sent)
		}
	})
	t.Run("CloseInsideLoop", func(t *testing.T) {
		c := emu.client(t, nil)
		n, last := countUntilError(c.FleetTasks(context.Background(), Fleet{Regions: fleetRegions}, Query{MaxResults: 5}, nil), 3,
			func() { c.Close() })
		if !errors.Is(last, ErrClosed) || !errors.Is(last, ErrCancelled) {
			t.Errorf("after %d tasks: %v", n, last)
		}
		if _, err := c.DescribeFleet(context.Background(), Fleet{Regions: fleetRegions}, Query{}); !errors.Is(err, ErrClosed) {
			t.Errorf("DescribeFleet after Close: %v", err)
		}
	})
}

func TestFleetBadInput(t *testing.T) {
	emu := fleetEmulator(t)
	c := emu.client(t, nil)
	ctx := context.Background()
	before := emu.fleetStats(t).Requests
	for _, tc := range []struct {
		fleet   Fleet
		q       Query
		message string // what the message must say
	}{
		{Fleet{}, Query{}, "no region"},
		{Fleet{RoleARNs: []string{testRoleA}}, Query{}, "no region"},
		{Fleet{Regions: []string{"eu-west-3"}, AllRegions: true}, Query{}, "choose one"},
		{Fleet{Regions: []string{"EU WEST"}}, Query{}, "Fleet.Regions[0] was refused: "},
		{Fleet{Regions: []string{"eu-west-3", ""}}, Query{}, "Fleet.Regions[1] was refused: "},
		{Fleet{Regions: []string{"eu-west-3\x00"}}, Query{}, "Fleet.Regions[0] contains a NUL byte"},
		{Fleet{Regions: []string{"eu-west-3"}, RoleARNs: []string{"arn:aws:iam::1:role/x"}}, Query{}, "Fleet.RoleARNs[0] was refused: "},
		{Fleet{Regions: []string{"eu-west-3"}}, Query{NextToken: "abc"}, "NextToken"},
		{Fleet{Regions: []string{"eu-west-3"}}, Query{MaxResults: 500}, "max results"},
	} {
		res, err := c.DescribeFleet(ctx, tc.fleet, tc.q)
		e := checkError(t, err, ErrInvalidArgument, "", 0)
		if res != nil || !strings.Contains(e.Message, tc.message) {
			t.Errorf("%+v %+v: %v, want a message with %q", tc.fleet, tc.q, err, tc.message)
		}
		// The streaming form yields the same error, once, and nothing else.
		res2 := FleetResult{Places: []FleetPlace{{Region: "left over"}}}
		err = onlyError(t, c.FleetTasks(ctx, tc.fleet, tc.q, &res2))
		if e2 := checkError(t, err, ErrInvalidArgument, "", 0); e2.Message != e.Message {
			t.Errorf("FleetTasks: %q, DescribeFleet %q", e2.Message, e.Message)
		}
		if res2.Places != nil {
			t.Errorf("%+v: a failed call leaves the result empty, got %+v", tc.fleet, res2.Places)
		}
	}
	if sent := emu.fleetStats(t).Requests - before; sent != 0 {
		t.Errorf("bad input sent %d requests", sent)
	}
}

// The Go rendering of a result matches the library's for results that only Go can build.
func TestFleetResultJSON(t *testing.T) {
	var empty FleetResult
	if got := string(empty.JSON()); got != "{\n    \"Places\": []\n}\n" {
		t.Errorf("empty: %q", got)
	}
	r := FleetResult{Places: []FleetPlace{
		{Region: "eu-west-3", Tasks: []Task{{}}},
		{Region: "", Account: "111111111111", RoleARN: testRoleA, Err: fmt.Errorf("wrapped: %w", &Error{Status: StatusCredentials, Message: "no \"role\""})},
		{Region: "us-east-1", Err: errors.New("plain")},
	}}
	const want = `{
    "Places": [
        {
            "Region": "eu-west-3",
            "Account": null,
            "StoreImageTaskResults": [
                {}
            ]
        },
        {
            "Region": "",
            "Account": "111111111111",
            "RoleArn": "arn:aws:iam::111111111111:role/StoreTasksReader",
            "StoreImageTaskResults": [],
            "Error": {
                "Status": "STORETASKS_STATUS_CREDENTIALS",
                "Message": "no \"role\""
            }
        },
        {
            "Region": "us-east-1",
            "Account": null,
            "StoreImageTaskResults": [],
            "Error": {
                "Status": "STORETASKS_STATUS_UNKNOWN",
                "Message": "plain"
            }
        }
    ]
}
`
	if got := string(r.JSON()); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// A panic raised again from a fleet page callback leaves no call registered and no lock held.
func TestPanicInFleetPageCallback(t *testing.T) {
	emu := fleetEmulator(t)
	c := emu.client(t, nil)
	f := Fleet{Regions: fleetRegions[:3]}
	expectPanicAtSecondPage(t, "boom in a fleet page", func(page func() bool) {
		c.eachFleetPage(context.Background(), &f, &Query{MaxResults: 5}, func(FleetPage, <-chan struct{}) bool { return page() })
	})
	checkAfterPanic(t, c, "a fleet page callback", func() error {
		_, err := c.DescribeFleet(context.Background(), f, Query{})
		return err
	})
}
