// Package bench compares listing store tasks through the storetasks package (libstoretasks)
// with aws-sdk-go-v2's DescribeStoreImageTasks paginator, against the same emulator data.
//
//	cd bindings/go/bench && go test -tags storetasks_intree -bench . -benchtime 20x
//
// STORETASKS_EMULATOR names the emulator (default ../../../target/release/storetasks-emulator);
// STORETASKS_BENCH_TASKS the number of generated tasks (default 10000). Pages hold 200 tasks.
package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	storetasks "github.com/libstoretasks/libstoretasks/bindings/go"
	"github.com/libstoretasks/libstoretasks/bindings/go/storetaskstest"
)

const (
	accessKey = storetaskstest.AccessKeyID
	secretKey = storetaskstest.SecretAccessKey
	region    = storetaskstest.Region
	pageSize  = 200
)

var (
	emuOnce  sync.Once
	emu      *storetaskstest.Emulator
	emuTasks int
	emuErr   error
)

// emulator starts one emulator for the whole run; TestMain stops it.
func emulator(tb testing.TB) (string, int) {
	emuOnce.Do(func() {
		emuTasks = 10000
		if s := os.Getenv("STORETASKS_BENCH_TASKS"); s != "" {
			if emuTasks, emuErr = strconv.Atoi(s); emuErr != nil {
				return
			}
		}
		opts := []storetaskstest.Option{storetaskstest.Args("--generate", strconv.Itoa(emuTasks), "--seed", "11",
			"--now", "2026-11-20T12:00:00Z")}
		if os.Getenv(storetaskstest.EnvVar) == "" {
			path, _ := filepath.Abs(filepath.Join("..", "..", "..", "target", "release", storetaskstest.Program))
			opts = append(opts, storetaskstest.Binary(path))
		}
		emu, emuErr = storetaskstest.Launch(opts...)
	})
	if emuErr != nil {
		tb.Fatal(emuErr)
	}
	return emu.URL, emuTasks
}

func TestMain(m *testing.M) {
	code := m.Run()
	if emu != nil {
		if err := emu.Close(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	os.Exit(code)
}

// report adds the throughput, the figure to compare between the clients.
func report(b *testing.B, tasks int) {
	b.ReportMetric(float64(tasks)*float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
}

func newClient(tb testing.TB, url string) *storetasks.Client {
	c, err := storetasks.NewClient(storetasks.Config{
		Region: region, EndpointURL: url, AccessKeyID: accessKey, SecretAccessKey: secretKey,
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// timeListing times list, which lists every task once and returns how many it saw: each run must
// see all n. It reports the throughput.
func timeListing(b *testing.B, n int, list func(ctx context.Context) (int, error)) {
	ctx := context.Background()
	for b.Loop() {
		got, err := list(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if got != n {
			b.Fatalf("%d tasks, want %d", got, n)
		}
	}
	report(b, n)
}

// BenchmarkStoretasksAll streams the listing task by task (Client.All, one page in flight).
func BenchmarkStoretasksAll(b *testing.B) {
	url, n := emulator(b)
	c := newClient(b, url)
	timeListing(b, n, func(ctx context.Context) (int, error) {
		got := 0
		for _, err := range c.All(ctx, storetasks.Query{MaxResults: pageSize}) {
			if err != nil {
				return got, err
			}
			got++
		}
		return got, nil
	})
}

// BenchmarkStoretasksCollect gathers the listing into one Page (storetasks_client_describe_all).
func BenchmarkStoretasksCollect(b *testing.B) {
	url, n := emulator(b)
	c := newClient(b, url)
	timeListing(b, n, func(ctx context.Context) (int, error) {
		p, err := c.Collect(ctx, storetasks.Query{MaxResults: pageSize}, 0)
		return len(p.Tasks), err
	})
}

// bufferedTransport reads each response body whole before the SDK decodes it. Decoding straight
// from the connection, the SDK fails now and then against the emulator after a few hundred
// requests on one keep-alive connection ("use of closed network connection" in the middle of a
// body, reported as "XML syntax error: invalid UTF-8"); read whole, it never did in our runs.
type bufferedTransport struct{ next http.RoundTripper }

func (t bufferedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

func newSDKClient(url string) *ec2.Client {
	return ec2.New(ec2.Options{
		Region:       region,
		BaseEndpoint: aws.String(url),
		HTTPClient:   &http.Client{Transport: bufferedTransport{awshttp.NewBuildableClient().GetTransport()}},
		Credentials: aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey, Source: "bench"}, nil
		})),
	})
}

// BenchmarkSDKPaginator lists the same data with aws-sdk-go-v2's paginator.
func BenchmarkSDKPaginator(b *testing.B) {
	url, n := emulator(b)
	client := newSDKClient(url)
	timeListing(b, n, func(ctx context.Context) (int, error) {
		got := 0
		p := ec2.NewDescribeStoreImageTasksPaginator(client, &ec2.DescribeStoreImageTasksInput{
			MaxResults: aws.Int32(pageSize),
		})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return got, err
			}
			for _, t := range out.StoreImageTaskResults {
				if aws.ToString(t.AmiId) == "" {
					return got, fmt.Errorf("a task without AmiId")
				}
				got++
			}
		}
		return got, nil
	})
}

// TestSameTasks checks that both clients see the same tasks in the same order, so the
// benchmarks compare the same work.
func TestSameTasks(t *testing.T) {
	url, n := emulator(t)
	c := newClient(t, url)
	var ours []string
	for task, err := range c.All(context.Background(), storetasks.Query{MaxResults: pageSize}) {
		if err != nil {
			t.Fatal(err)
		}
		ours = append(ours, task.AmiID+"|"+task.TaskStartTime.Format(time.RFC3339Nano)+"|"+string(task.State))
	}
	client := newSDKClient(url)
	var theirs []string
	p := ec2.NewDescribeStoreImageTasksPaginator(client, &ec2.DescribeStoreImageTasksInput{MaxResults: aws.Int32(pageSize)})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, t := range out.StoreImageTaskResults {
			theirs = append(theirs, aws.ToString(t.AmiId)+"|"+aws.ToTime(t.TaskStartTime).UTC().Format(time.RFC3339Nano)+"|"+aws.ToString(t.StoreTaskState))
		}
	}
	if len(ours) != n || strings.Join(ours, "\n") != strings.Join(theirs, "\n") {
		t.Fatalf("storetasks listed %d tasks, the SDK %d, want %d each, identical", len(ours), len(theirs), n)
	}
}
