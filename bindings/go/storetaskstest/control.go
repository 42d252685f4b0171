package storetaskstest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Task is a task in the emulator's tasks-file shape, which is the AWS CLI's JSON output: each
// field is the member of that name (as aws-sdk-go-v2's ec2 types name it), absent when nil.
type Task struct {
	AmiId                  *string `json:",omitempty"`
	TaskStartTime          *string `json:",omitempty"` // RFC 3339
	Bucket                 *string `json:",omitempty"`
	S3objectKey            *string `json:",omitempty"`
	ProgressPercentage     *int32  `json:",omitempty"`
	StoreTaskState         *string `json:",omitempty"` // InProgress, Completed or Failed
	StoreTaskFailureReason *string `json:",omitempty"`
	// EmulatorFailAt is not an AWS member: an InProgress task that has it turns Failed when its
	// progress reaches that percent (see the emulator's --progress-rate).
	EmulatorFailAt *int32 `json:",omitempty"`
}

// String is AMI@START, such as "ami-0123456789abcdef0@2026-11-20T12:00:00.123Z".
func (t Task) String() string {
	var ami, start string
	if t.AmiId != nil {
		ami = *t.AmiId
	}
	if t.TaskStartTime != nil {
		start = *t.TaskStartTime
	}
	return ami + "@" + start
}

// Stats are the emulator's counters (GET /_emulator/stats).
type Stats struct {
	Requests           int                  `json:"requests"`             // EC2 API requests, faulted and refused ones included
	Describe           int                  `json:"describe"`             // DescribeStoreImageTasks requests among them
	FaultsFired        int                  `json:"faults_fired"`         // EC2 API requests a fault hit
	AssumeRoleRequests int                  `json:"assume_role_requests"` // STS requests
	AssumeRoleFaults   int                  `json:"assume_role_faults"`   // STS requests a fault hit
	InFlight           int                  `json:"in_flight"`            // EC2 API requests being answered now
	MaxInFlight        int                  `json:"max_in_flight"`        // the most at one time
	UserAgents         []string             `json:"user_agents"`          // distinct User-Agent headers, sorted
	Arrivals           map[string]int       `json:"arrivals"`             // by "PORT/SERVICE": main/ec2, sts/sts...
	ByPair             map[string]PairStats `json:"by_pair"`              // by "ACCOUNT/REGION"
}

// PairStats are the counters of one (account, region) pair.
type PairStats struct {
	Requests    int `json:"requests"`
	Describe    int `json:"describe"`
	Faults      int `json:"faults"`
	MaxInFlight int `json:"max_in_flight"`
}

// Fault is a fault waiting for requests (GET /_emulator/faults).
type Fault struct {
	Spec        string `json:"spec"` // the spec as installed, with its defaults spelled out
	Kind        string `json:"kind"`
	StartsAfter int    `json:"starts_after"` // watched requests before its next hit
	Remaining   int    `json:"remaining"`    // requests it still hits
	MS          int    `json:"ms"`
	Service     string `json:"service"` // ec2 or sts
	Region      string `json:"region,omitempty"`
	Account     string `json:"account,omitempty"`
}

// connect reads the emulator's addresses from the lines it printed ("listening ADDR", then
// "sts ADDR" with --sts-port) and makes the HTTP client of its control endpoint: it trusts the
// test CA with --tls and goes directly, whatever the proxy variables say.
func (e *Emulator) connect(lines []string) error {
	addr, ok := strings.CutPrefix(lines[0], "listening ")
	if !ok {
		return fmt.Errorf("%s printed %q where its listening line was expected", e.Path, lines[0])
	}
	scheme, transport := "http://", &http.Transport{}
	if e.CA != "" {
		scheme = "https://"
		pem, err := os.ReadFile(e.CA)
		if err != nil {
			return err
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return fmt.Errorf("%s holds no certificate", e.CA)
		}
		transport.TLSClientConfig = &tls.Config{RootCAs: roots}
	}
	e.Addr, e.URL, e.web = addr, scheme+addr, &http.Client{Transport: transport}
	if len(lines) > 1 {
		sts, ok := strings.CutPrefix(lines[1], "sts ")
		if !ok {
			return fmt.Errorf("%s printed %q where its sts line was expected", e.Path, lines[1])
		}
		e.STSURL = scheme + sts
	}
	return nil
}

// Control sends a request to the emulator's control endpoint, such as
// Control("GET", "/_emulator/stats", nil, &stats): body, unless nil, is sent as JSON
// (json.RawMessage as it is), and the JSON answer is decoded into out unless out is nil. The
// error of a refused request holds the emulator's reason.
func (e *Emulator) Control(method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("the body of %s %s is not JSON: %w", method, path, err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, e.URL+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.web.Do(req)
	if err != nil {
		return fmt.Errorf("%s at %s did not answer %s %s: %w", Program, e.Addr, method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s at %s broke off its answer to %s %s: %w", Program, e.Addr, method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		reason := strings.TrimSpace(string(data))
		var refusal struct{ Error string }
		if json.Unmarshal(data, &refusal) == nil && refusal.Error != "" {
			reason = refusal.Error
		}
		return fmt.Errorf("%s at %s refused %s %s (%s): %s", Program, e.Addr, method, path, resp.Status, reason)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s at %s answered %s %s with unexpected JSON: %w", Program, e.Addr, method, path, err)
		}
	}
	return nil
}

// Stats returns the emulator's counters.
func (e *Emulator) Stats() (Stats, error) {
	var s Stats
	err := e.Control(http.MethodGet, "/_emulator/stats", nil, &s)
	return s, err
}

// AddFaults installs faults, all or none, each a spec as the emulator's --fault takes it:
// KIND[,at=K][,count=N][,ms=D][,region=R][,account=A][,service=ec2|sts], such as
// "throttle,count=2", "delay,ms=500", "drop,region=eu-west-3".
func (e *Emulator) AddFaults(specs ...string) error {
	return e.Control(http.MethodPost, "/_emulator/faults", map[string][]string{"faults": specs}, nil)
}

// Faults returns the faults still waiting for requests.
func (e *Emulator) Faults() ([]Fault, error) {
	var out struct{ Faults []Fault }
	err := e.Control(http.MethodGet, "/_emulator/faults", nil, &out)
	return out.Faults, err
}

// ClearFaults removes every fault.
func (e *Emulator) ClearFaults() error {
	return e.Control(http.MethodDelete, "/_emulator/faults", nil, nil)
}

// Now returns the emulator's clock (--now at start-up, then real time and AdvanceClock's moves).
func (e *Emulator) Now() (time.Time, error) {
	var out struct{ Now string }
	if err := e.Control(http.MethodGet, "/_emulator/clock", nil, &out); err != nil {
		return time.Time{}, err
	}
	return time.Parse(time.RFC3339Nano, out.Now)
}

// AdvanceClock moves the emulator's clock forward by d: progress (--progress-rate) and the
// 31-day window of DescribeStoreImageTasks follow it.
func (e *Emulator) AdvanceClock(d time.Duration) error {
	return e.Control(http.MethodPost, "/_emulator/clock", map[string]float64{"advance_seconds": d.Seconds()}, nil)
}

// Pair is the tasks of one (account, region) pair that the emulator serves.
type Pair struct {
	e     *Emulator
	query string
}

// Pair returns the pair of region and account; "" stands for the emulator's home region
// (--region) or account (--account-id).
func (e *Emulator) Pair(region, account string) Pair {
	v := url.Values{}
	if region != "" {
		v.Set("region", region)
	}
	if account != "" {
		v.Set("account", account)
	}
	p := Pair{e: e, query: "/_emulator/tasks"}
	if len(v) > 0 {
		p.query += "?" + v.Encode()
	}
	return p
}

// Tasks returns every task of the pair, newest first, as it was loaded or added (its progress
// and state as given, its EmulatorFailAt kept), not as DescribeStoreImageTasks reports it now;
// tasks older than the 31 days that call reports are included.
func (p Pair) Tasks() ([]Task, error) {
	var out struct{ StoreImageTaskResults []Task }
	err := p.e.Control(http.MethodGet, p.query, nil, &out)
	return out.StoreImageTaskResults, err
}

// AddTasks adds tasks to the pair; the progress of InProgress ones counts from now.
func (p Pair) AddTasks(tasks ...Task) error {
	if tasks == nil {
		tasks = []Task{}
	}
	return p.e.Control(http.MethodPost, p.query, map[string][]Task{"StoreImageTaskResults": tasks}, nil)
}

// ClearTasks removes every task of the pair.
func (p Pair) ClearTasks() error {
	return p.e.Control(http.MethodDelete, p.query, nil, nil)
}

// Tasks returns every task of the home pair (see Pair.Tasks).
func (e *Emulator) Tasks() ([]Task, error) { return e.Pair("", "").Tasks() }

// AddTasks adds tasks to the home pair (see Pair.AddTasks).
func (e *Emulator) AddTasks(tasks ...Task) error { return e.Pair("", "").AddTasks(tasks...) }

// ClearTasks removes every task of the home pair.
func (e *Emulator) ClearTasks() error { return e.Pair("", "").ClearTasks() }
