// describe_tasks lists the progress of AMI store-to-S3 tasks with the storetasks Go package.
//
//	describe_tasks [--region R] [--endpoint-url URL] [--profile P] [--ca-bundle PEM]
//	               [--proxy URL] [--no-proxy RULES]
//	               [--image-id ami-...]... [--filter Name=task-state,Values=InProgress,Failed]...
//	               [--max-results N] [--all] [--dry-run] [--json]
//
// Credentials come from the usual places (environment, shared files, SSO, instance role).
// Without --json it prints a table; with --json --all it prints what
// `aws ec2 describe-store-image-tasks --output json` prints. An image id is "ami-" and 8 or 17
// lowercase hex digits. Exits 0 on success (and for --help), 1 when the call fails, 2 for a bad
// command line (nothing is sent then).
//
// Build it against an installed libstoretasks (PKG_CONFIG_PATH=PREFIX/lib/pkgconfig go build),
// or, in the checkout, against target/release (go build -tags storetasks_intree). Its go.mod
// points the module github.com/libstoretasks/libstoretasks/bindings/go at ../../../bindings/go.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"

	storetasks "github.com/libstoretasks/libstoretasks/bindings/go"
)

const usage = `usage: describe_tasks [--region R] [--endpoint-url URL] [--profile P] [--ca-bundle PEM]
                      [--proxy URL] [--no-proxy RULES]
                      [--image-id ID]... [--filter Name=N,Values=V1,V2]...
                      [--max-results N] [--all] [--dry-run] [--json]
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// isAMIID reports whether s is an AMI id as EC2 writes it: "ami-" and 8 (older images) or 17
// lowercase hex digits.
func isAMIID(s string) bool {
	digits, ok := strings.CutPrefix(s, "ami-")
	if !ok || (len(digits) != 8 && len(digits) != 17) {
		return false
	}
	return strings.Trim(digits, "0123456789abcdef") == ""
}

// parseFilter reads "Name=task-state,Values=InProgress,Failed".
func parseFilter(spec string) (storetasks.Filter, error) {
	name, values, ok := strings.Cut(spec, ",Values=")
	name, hasName := strings.CutPrefix(name, "Name=")
	if !ok || !hasName || name == "" || values == "" {
		return storetasks.Filter{}, fmt.Errorf("--filter takes Name=NAME,Values=V1[,V2...], not %s", spec)
	}
	return storetasks.Filter{Name: name, Values: strings.Split(values, ",")}, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var cfg storetasks.Config
	var q storetasks.Query
	var all, asJSON bool
	fs := flag.NewFlagSet("describe_tasks", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {} // printed below: on stdout for --help, on stderr after an error
	fs.StringVar(&cfg.Region, "region", "", "AWS region")
	fs.StringVar(&cfg.EndpointURL, "endpoint-url", "", "EC2 endpoint URL")
	fs.StringVar(&cfg.Profile, "profile", "", "shared config profile")
	fs.StringVar(&cfg.CABundle, "ca-bundle", "", "PEM file of certificates to trust besides the system's")
	fs.Func("proxy", "proxy for every request (\"\": none, whatever the environment says)", func(s string) error {
		cfg.Proxy, cfg.DisableProxy = s, s == ""
		return nil
	})
	fs.StringVar(&cfg.NoProxy, "no-proxy", "", "hosts reached without the proxy (NO_PROXY syntax)")
	fs.Func("image-id", "an AMI id (repeatable)", func(s string) error {
		q.ImageIDs = append(q.ImageIDs, s)
		return nil
	})
	fs.Func("filter", "Name=N,Values=V1,V2 (repeatable)", func(s string) error {
		f, err := parseFilter(s)
		if err == nil {
			q.Filters = append(q.Filters, f)
		}
		return err
	})
	fs.Func("max-results", "page size, 1 to 200", func(s string) error {
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return fmt.Errorf("--max-results takes a number, not %s", s)
		}
		q.MaxResults = int32(n)
		return nil
	})
	fs.BoolVar(&all, "all", false, "follow NextToken to the end")
	fs.BoolVar(&q.DryRun, "dry-run", false, "only check permissions")
	fs.BoolVar(&asJSON, "json", false, "print the AWS CLI's JSON")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return 0
		}
		fmt.Fprint(stderr, usage)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "error: unexpected argument %s\n", fs.Arg(0))
		fmt.Fprint(stderr, usage)
		return 2
	}
	for _, id := range q.ImageIDs {
		if !isAMIID(id) {
			fmt.Fprintf(stderr, "error: --image-id takes an AMI id (ami- and 8 or 17 lowercase hex digits), not \"%s\"\n", id)
			return 2
		}
	}

	client, err := storetasks.NewClient(cfg)
	if err != nil {
		code := report(stdout, stderr, err)
		if errors.Is(err, storetasks.ErrInvalidArgument) {
			code = 2 // a value of the command line was refused before anything was sent
		}
		return code
	}
	defer client.Close()

	switch {
	case asJSON:
		var page storetasks.Page
		if all {
			page, err = client.Collect(ctx, q, 0)
		} else {
			page, err = client.Describe(ctx, q)
		}
		if err != nil {
			return report(stdout, stderr, err)
		}
		stdout.Write(page.CLIJSON())
	case all:
		// Streamed: a listing of any size is printed one page at a time.
		printHeader(stdout)
		n := 0
		for task, err := range client.All(ctx, q) {
			if err != nil {
				return report(stdout, stderr, err)
			}
			printTask(stdout, &task)
			n++
		}
		printCount(stdout, n)
	default:
		page, err := client.Describe(ctx, q)
		if err != nil {
			return report(stdout, stderr, err)
		}
		printHeader(stdout)
		for i := range page.Tasks {
			printTask(stdout, &page.Tasks[i])
		}
		printCount(stdout, len(page.Tasks))
		if page.NextToken != "" {
			fmt.Fprintf(stdout, "NextToken: %s\n", page.NextToken)
		}
	}
	return 0
}

// report prints a failed call's details and returns the exit status.
func report(stdout, stderr io.Writer, err error) int {
	if errors.Is(err, storetasks.ErrDryRunOK) {
		fmt.Fprintln(stdout, "Dry run: the request would have succeeded.")
		return 0
	}
	var e *storetasks.Error
	if !errors.As(err, &e) {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 1
	}
	code := ""
	if e.Code != "" {
		code = " (" + e.Code + ")"
	}
	fmt.Fprintf(stderr, "error: %s%s: %s\n", e.Status, code, e.Message)
	return 1
}

const row = "%-21s  %-10s  %8s  %-19s  %-24s  %s\n"

func printHeader(w io.Writer) {
	fmt.Fprintf(w, row, "AMI", "STATE", "PROGRESS", "STARTED (UTC)", "BUCKET", "OBJECT KEY / FAILURE")
}

func printTask(w io.Writer, t *storetasks.Task) {
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	started, progress := "-", "-"
	if !t.TaskStartTime.IsZero() {
		started = t.TaskStartTime.UTC().Format("2006-01-02 15:04:05")
	}
	if t.HasProgressPercentage {
		progress = fmt.Sprintf("%d%%", t.ProgressPercentage)
	}
	detail := dash(t.S3ObjectKey)
	if t.State == storetasks.StateFailed && t.FailureReason != "" {
		detail = t.FailureReason
	}
	fmt.Fprintf(w, row, dash(t.AmiID), dash(string(t.State)), progress, started, dash(t.Bucket), detail)
}

func printCount(w io.Writer, n int) {
	plural := "s"
	if n == 1 {
		plural = ""
	}
	fmt.Fprintf(w, "%d task%s\n", n, plural)
}
