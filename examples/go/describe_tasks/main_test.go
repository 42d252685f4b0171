package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// startEmulator runs storetasks-emulator with args until the test ends and returns its URL.
func startEmulator(t *testing.T, args ...string) string {
	t.Helper()
	path := os.Getenv("STORETASKS_EMULATOR")
	if path == "" {
		path, _ = filepath.Abs("../../../target/release/storetasks-emulator")
	}
	cmd := exec.Command(path, append([]string{"--port", "0"}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if err != nil || !ok {
		t.Fatalf("emulator: %q, %v", line, err)
	}
	return "http://" + addr
}

// cExample is the C example's binary, in $STORETASKS_BUILD (default: the repository's build/).
// `make test` builds it before this test runs, so a missing binary fails the test; only
// STORETASKS_NO_C_EXAMPLE=1, which says it was left unbuilt on purpose, skips the comparison
// (and then cExample returns "").
func cExample(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("STORETASKS_BUILD")
	if dir == "" {
		dir = "../../../build"
	}
	p, _ := filepath.Abs(filepath.Join(dir, "describe_tasks"))
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("STORETASKS_NO_C_EXAMPLE") == "1" {
			t.Logf("STORETASKS_NO_C_EXAMPLE=1: output not compared with the C example")
			return ""
		}
		t.Fatalf("the C example is missing (%v): run `make examples`, or set STORETASKS_NO_C_EXAMPLE=1 "+
			"to leave the comparison out", err)
	}
	return p
}

func withoutToken(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.Contains(l, "NextToken") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func TestMatchesTheCExample(t *testing.T) {
	url := startEmulator(t, "--generate", "120", "--seed", "7", "--now", "2026-11-20T12:00:00Z")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIASTORETASKSLOCAL1")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "storetasks-local-secret-key-0000000000000")
	// --proxy without --no-proxy keeps the environment's bypass rules: none here.
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
	cBin := cExample(t)
	for _, tc := range []struct {
		args string
		code int
		want string // a line stdout must hold
	}{
		{"--help", 0, "usage: describe_tasks [--region R]"},
		{"-h", 0, "usage: describe_tasks [--region R]"},
		{"--image-id ami-0123456789abcdef0 --image-id ami-01234567 --json", 0, `"StoreImageTaskResults": [`},
		{"--image-id ami-0123", 2, ""},
		{"--image-id AMI-0123456789abcdef0", 2, ""},
		{"--image-id ami-0123456789ABCDEF0", 2, ""},
		{"--image-id ami-0123456789abcdef0 --image-id i-0123456789abcdef0", 2, ""},
		{"--all --json", 0, `"StoreImageTaskResults": [`},
		{"--all", 0, "120 tasks"},
		{"--max-results 5", 0, "NextToken: "},
		{"--max-results 5 --json", 0, `"NextToken": "`},
		{"--filter Name=task-state,Values=Failed,Completed --all", 0, " tasks"},
		{"--dry-run", 0, "Dry run: the request would have succeeded."},
		{"--filter Name=bogus,Values=x", 1, ""},
		{"--max-results 500", 1, ""},
		{"--filter bogus", 2, ""},
		{"--max-results x", 2, ""},
		{"--ca-bundle /nonexistent/autorité.pem", 1, ""},
		{"--proxy socks5://u:secret@h:1", 2, ""},
		{"--proxy http://u:secret@:8080", 2, ""},
		{"--no-proxy localhost", 2, ""},
		{"--proxy http://u:secret@127.0.0.1:1", 1, ""},
		{"--proxy http://u:secret@127.0.0.1:1 --no-proxy 127.0.0.1 --max-results 5", 0, "NextToken: "},
	} {
		args := append([]string{"--region", "us-east-1", "--endpoint-url", url}, strings.Fields(tc.args)...)
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), args, &stdout, &stderr)
		if code != tc.code || !strings.Contains(stdout.String(), tc.want) {
			t.Errorf("%s: exit %d, want %d; stdout:\n%s\nstderr:\n%s", tc.args, code, tc.code, stdout.String(), stderr.String())
			continue
		}
		if strings.Contains(stderr.String(), "u:secret") {
			t.Errorf("%s: stderr shows the proxy's password:\n%s", tc.args, stderr.String())
		}
		if cBin == "" || (code == 2 && !strings.Contains(tc.args, "--image-id")) {
			continue // usage messages differ between Go's flag package and the C example (not for ids)
		}
		cmd := exec.Command(cBin, args...)
		var cOut, cErr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &cOut, &cErr
		cmd.Run()
		if cmd.ProcessState.ExitCode() != code || withoutToken(cOut.String()) != withoutToken(stdout.String()) || cErr.String() != stderr.String() {
			t.Errorf("%s: the C example differs (exit %d):\n%s%s\nGo:\n%s%s", tc.args, cmd.ProcessState.ExitCode(),
				cOut.String(), cErr.String(), stdout.String(), stderr.String())
		}
	}
}
