package storetaskstest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	storetasks "github.com/libstoretasks/libstoretasks/bindings/go"
	"github.com/libstoretasks/libstoretasks/bindings/go/storetaskstest"
)

func start(t *testing.T, args ...string) *storetaskstest.Emulator {
	t.Helper()
	return storetaskstest.Start(t, storetaskstest.Binary(storetaskstest.PathForTests(t)), storetaskstest.Args(args...))
}

func client(t *testing.T, emu *storetaskstest.Emulator, edit func(*storetasks.Config)) *storetasks.Client {
	t.Helper()
	cfg := storetasks.Config{Region: emu.Region, EndpointURL: emu.URL,
		AccessKeyID: emu.AccessKeyID, SecretAccessKey: emu.SecretAccessKey, CABundle: emu.CA}
	if edit != nil {
		edit(&cfg)
	}
	c, err := storetasks.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func count(t *testing.T, c *storetasks.Client) int {
	t.Helper()
	page, err := c.Collect(context.Background(), storetasks.Query{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	return len(page.Tasks)
}

func ptr[T any](v T) *T { return &v }

func TestAClientListsTheGeneratedTasks(t *testing.T) {
	emu := start(t, "--generate", "12", "--seed", "3")
	if !strings.HasPrefix(emu.URL, "http://127.0.0.1:") || emu.URL != "http://"+emu.Addr || emu.STSURL != "" || emu.CA != "" {
		t.Errorf("URL %q, Addr %q, STSURL %q, CA %q", emu.URL, emu.Addr, emu.STSURL, emu.CA)
	}
	if emu.Region != storetaskstest.Region || emu.AccountID != storetaskstest.AccountID ||
		emu.AccessKeyID != storetaskstest.AccessKeyID || emu.SecretAccessKey != storetaskstest.SecretAccessKey {
		t.Errorf("region %q, account %q, keys %q %q", emu.Region, emu.AccountID, emu.AccessKeyID, emu.SecretAccessKey)
	}
	if n := count(t, client(t, emu, nil)); n != 12 {
		t.Errorf("listed %d tasks, want 12", n)
	}
	stats, err := emu.Stats()
	if err != nil || stats.Describe != 1 || stats.ByPair["123456789012/us-east-1"].Describe != 1 {
		t.Errorf("stats %+v, %v", stats, err)
	}
}

func TestTheOptionsGivenSetTheFields(t *testing.T) {
	dir := t.TempDir()
	emu := start(t, "--region=eu-west-3", "--access-key", "AKIAOTHERKEY", "--secret-key", "other-secret",
		"--account-id", "210987654321", "--tls", dir, "--sts-port", "0")
	if emu.Region != "eu-west-3" || emu.AccountID != "210987654321" || emu.AccessKeyID != "AKIAOTHERKEY" ||
		emu.SecretAccessKey != "other-secret" || emu.CA != filepath.Join(dir, "ca.pem") {
		t.Errorf("region %q, account %q, keys %q %q, CA %q", emu.Region, emu.AccountID, emu.AccessKeyID, emu.SecretAccessKey, emu.CA)
	}
	if !strings.HasPrefix(emu.URL, "https://127.0.0.1:") || !strings.HasPrefix(emu.STSURL, "https://127.0.0.1:") || emu.STSURL == emu.URL {
		t.Errorf("URL %q, STSURL %q", emu.URL, emu.STSURL)
	}
	// The control endpoint trusts the test CA; a client given it lists over TLS.
	if err := emu.AddTasks(storetaskstest.Task{AmiId: ptr("ami-0123456789abcdef0")}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, client(t, emu, nil)); n != 1 {
		t.Errorf("listed %d tasks, want 1", n)
	}
}

func TestTasksFaultsAndTheClock(t *testing.T) {
	emu := start(t, "--now", "2026-11-20T12:00:00Z", "--progress-rate", "1", "--regions", "eu-west-3")
	task := storetaskstest.Task{AmiId: ptr("ami-0123456789abcdef0"), TaskStartTime: ptr("2026-11-20T11:00:00Z"),
		Bucket: ptr("my-bucket"), ProgressPercentage: ptr[int32](10), StoreTaskState: ptr("InProgress"),
		StoreTaskFailureReason: ptr("quota exceeded"), EmulatorFailAt: ptr[int32](40)}
	if err := emu.AddTasks(task); err != nil {
		t.Fatal(err)
	}
	if err := emu.AdvanceClock(45 * time.Second); err != nil {
		t.Fatal(err)
	}
	if now, err := emu.Now(); err != nil || now.Before(time.Date(2026, 11, 20, 12, 0, 45, 0, time.UTC)) {
		t.Errorf("Now() = %v, %v", now, err)
	}
	// The task is reported as it is now, and held as it was given.
	page, err := client(t, emu, nil).Describe(context.Background(), storetasks.Query{})
	if err != nil || len(page.Tasks) != 1 || page.Tasks[0].State != storetasks.StateFailed || page.Tasks[0].ProgressPercentage != 40 {
		t.Fatalf("Describe: %+v, %v", page.Tasks, err)
	}
	tasks, err := emu.Tasks()
	if err != nil || len(tasks) != 1 || *tasks[0].StoreTaskState != "InProgress" || *tasks[0].EmulatorFailAt != 40 {
		t.Fatalf("Tasks() = %v, %v", tasks, err)
	}
	if s := tasks[0].String(); s != "ami-0123456789abcdef0@2026-11-20T11:00:00.000Z" {
		t.Errorf("String() = %q", s)
	}
	// Every pair has tasks of its own.
	paris := emu.Pair("eu-west-3", "")
	if err := paris.AddTasks(task, storetaskstest.Task{AmiId: ptr("ami-0fedcba9876543210")}); err != nil {
		t.Fatal(err)
	}
	if got, err := paris.Tasks(); err != nil || len(got) != 2 {
		t.Errorf("eu-west-3 holds %v, %v", got, err)
	}
	if err := emu.ClearTasks(); err != nil {
		t.Fatal(err)
	}
	if got, err := emu.Tasks(); err != nil || len(got) != 0 {
		t.Errorf("after ClearTasks: %v, %v", got, err)
	}
	if err := paris.ClearTasks(); err != nil {
		t.Fatal(err)
	}

	if err := emu.AddFaults("throttle,count=2", "deny,region=eu-west-3"); err != nil {
		t.Fatal(err)
	}
	faults, err := emu.Faults()
	if err != nil || len(faults) != 2 || faults[0].Spec != "throttle,at=1,count=2" || faults[0].Remaining != 2 ||
		faults[1].Kind != "deny" || faults[1].Region != "eu-west-3" {
		t.Errorf("Faults() = %+v, %v", faults, err)
	}
	c := client(t, emu, func(cfg *storetasks.Config) { cfg.MaxAttempts = 1 })
	if _, err := c.Describe(context.Background(), storetasks.Query{}); !errors.Is(err, storetasks.ErrThrottled) {
		t.Errorf("with a throttle fault: %v", err)
	}
	if err := emu.ClearFaults(); err != nil {
		t.Fatal(err)
	}
	if n := count(t, c); n != 0 {
		t.Errorf("listed %d tasks, want 0", n)
	}
	if stats, err := emu.Stats(); err != nil || stats.FaultsFired != 1 || stats.Requests != 3 {
		t.Errorf("stats %+v, %v", stats, err)
	}
	err = emu.AddFaults("throttle", "bogus")
	if err == nil || !strings.Contains(err.Error(), "refused POST /_emulator/faults (400 Bad Request): unknown fault kind `bogus`") {
		t.Errorf("a bad spec: %v", err)
	}
}

func TestEnvPointsAProgramAtTheEmulator(t *testing.T) {
	t.Setenv("AWS_PROFILE", "somewhere-else")
	emu := start(t, "--sts-port", "0")
	env := map[string]string{}
	for _, kv := range emu.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	for k, want := range map[string]string{"AWS_ENDPOINT_URL": emu.URL, "AWS_ENDPOINT_URL_STS": emu.STSURL,
		"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": storetaskstest.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY": storetaskstest.SecretAccessKey, "AWS_CONFIG_FILE": os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull, "AWS_EC2_METADATA_DISABLED": "true", "AWS_PROFILE": "",
		"AWS_CA_BUNDLE": "", "PATH": os.Getenv("PATH")} {
		if env[k] != want {
			t.Errorf("%s=%q, want %q", k, env[k], want)
		}
	}
}

func TestFindLooksAtTheOptionThenTheVariableThenThePath(t *testing.T) {
	real := storetaskstest.PathForTests(t)
	onPath := t.TempDir()
	if err := os.Symlink(real, filepath.Join(onPath, storetaskstest.Program)); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", onPath)
	t.Setenv(storetaskstest.EnvVar, "")
	if got, err := storetaskstest.Find(""); err != nil || got != filepath.Join(onPath, storetaskstest.Program) {
		t.Errorf("from the PATH: %q, %v", got, err)
	}
	t.Setenv(storetaskstest.EnvVar, real)
	if got, err := storetaskstest.Find(""); err != nil || got != real {
		t.Errorf("from $%s: %q, %v", storetaskstest.EnvVar, got, err)
	}
	missing := filepath.Join(t.TempDir(), "none")
	_, err := storetaskstest.Find(missing)
	if !errors.Is(err, storetaskstest.ErrNotFound) || err.Error() !=
		"storetasks-emulator was not found at "+missing+", the path the Binary option gives" {
		t.Errorf("a missing Binary: %v", err)
	}
	t.Setenv(storetaskstest.EnvVar, missing)
	if _, err := storetaskstest.Find(""); !errors.Is(err, storetaskstest.ErrNotFound) ||
		!strings.Contains(err.Error(), "the path $STORETASKS_EMULATOR gives") {
		t.Errorf("a missing $%s: %v", storetaskstest.EnvVar, err)
	}
	t.Setenv(storetaskstest.EnvVar, "")
	t.Setenv("PATH", t.TempDir())
	_, err = storetaskstest.Launch()
	if !errors.Is(err, storetaskstest.ErrNotFound) || err.Error() != "storetasks-emulator was not found: "+
		"give its path with the Binary option or $STORETASKS_EMULATOR, or put it on the PATH" {
		t.Errorf("none at all: %v", err)
	}
}

func TestAnEmulatorThatCannotStartSaysWhy(t *testing.T) {
	var stderr strings.Builder
	_, err := storetaskstest.Launch(storetaskstest.Binary(storetaskstest.PathForTests(t)), storetaskstest.Args("--bogus"),
		storetaskstest.Stderr(&stderr))
	if err == nil || !strings.Contains(err.Error(), "stopped before it was listening (exit status 2): "+
		"storetasks-emulator: unknown argument `--bogus`") {
		t.Errorf("Launch: %v", err)
	}
	if !strings.Contains(stderr.String(), "unknown argument") {
		t.Errorf("stderr: %q", stderr.String())
	}
	// A program that never prints its line is given up on, and stopped.
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep program")
	}
	began := time.Now()
	_, err = storetaskstest.Launch(storetaskstest.Binary(sleep), storetaskstest.Args("30"),
		storetaskstest.StartTimeout(200*time.Millisecond))
	if err == nil || !strings.Contains(err.Error(), "did not start listening within 200ms") || time.Since(began) > 10*time.Second {
		t.Errorf("Launch: %v after %v", err, time.Since(began))
	}
}

func TestCloseStopsTheEmulator(t *testing.T) {
	emu, err := storetaskstest.Launch(storetaskstest.Binary(storetaskstest.PathForTests(t)))
	if err != nil {
		t.Fatal(err)
	}
	if err := emu.Close(); err != nil {
		t.Fatal(err)
	}
	if err := emu.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
	if _, err := emu.Stats(); err == nil || !strings.Contains(err.Error(), "did not answer GET /_emulator/stats") {
		t.Errorf("Stats after Close: %v", err)
	}
}
