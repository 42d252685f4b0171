// Package storetaskstest runs storetasks-emulator, the local Amazon EC2 endpoint that comes with
// libstoretasks, for the tests of a program that calls DescribeStoreImageTasks, whether through
// the storetasks package, aws-sdk-go-v2 or the AWS CLI:
//
//	func TestReport(t *testing.T) {
//		emu := storetaskstest.Start(t, storetaskstest.Args("--generate", "50", "--seed", "7"))
//		c, err := storetasks.NewClient(storetasks.Config{
//			Region: emu.Region, EndpointURL: emu.URL,
//			AccessKeyID: emu.AccessKeyID, SecretAccessKey: emu.SecretAccessKey,
//		})
//		...
//		if err := emu.AddFaults("throttle,count=3"); err != nil {
//			t.Fatal(err)
//		}
//	}
//
// The emulator program is the one the Binary option names, else the one $STORETASKS_EMULATOR
// names, else storetasks-emulator on the PATH. Its options, control endpoint and faults are
// described in emulator/README.md of the libstoretasks repository. This package uses only the
// standard library: it needs neither cgo nor libstoretasks.
package storetaskstest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libstoretasks/libstoretasks/bindings/go/internal/listening"
)

// The emulator's defaults: the key pair it accepts, its home region and the account of that key.
// Options given to it (--access-key, --secret-key, --region, --account-id) change them, and the
// fields of an Emulator then hold the values given.
const (
	AccessKeyID     = "AKIASTORETASKSLOCAL1"
	SecretAccessKey = "storetasks-local-secret-key-0000000000000"
	Region          = "us-east-1"
	AccountID       = "123456789012"
)

const (
	// Program is the emulator's name on the PATH.
	Program = "storetasks-emulator"
	// EnvVar names the environment variable holding the emulator's path.
	EnvVar = "STORETASKS_EMULATOR"
)

// ErrNotFound is the error of Find, Launch and Start when there is no emulator to run.
var ErrNotFound = errors.New(Program + " was not found")

// stopTimeout is how long Close waits for the emulator to exit before killing it.
const stopTimeout = 10 * time.Second

// viaFile says whether the emulator writes its listening line into a file and is stopped through
// its control endpoint: on Windows, where the emulator may be the Linux program run by Wine,
// which gets no pipe from a Windows parent, though it does get a file. Tests set it elsewhere.
var viaFile = runtime.GOOS == "windows"

type settings struct {
	binary  string
	args    []string
	stderr  io.Writer
	timeout time.Duration
}

// An Option changes how Launch and Start run the emulator.
type Option func(*settings)

// Binary runs the emulator at path rather than the one $STORETASKS_EMULATOR or the PATH gives.
func Binary(path string) Option {
	return func(s *settings) { s.binary = path }
}

// Args adds options to the emulator's command line, in order: Args("--generate", "50"),
// Args("--tasks-file", "testdata/tasks.json", "--now", "2026-11-20T12:00:00Z"),
// Args("--fault", "throttle,count=2"). Without any, it serves no tasks on a free port.
func Args(args ...string) Option {
	return func(s *settings) { s.args = append(s.args, args...) }
}

// Stderr sends what the emulator writes on its standard error to w (default os.Stderr).
func Stderr(w io.Writer) Option {
	return func(s *settings) { s.stderr = w }
}

// StartTimeout bounds the wait for the emulator to accept connections (default 30 seconds).
func StartTimeout(d time.Duration) Option {
	return func(s *settings) { s.timeout = d }
}

// Emulator is a running storetasks-emulator.
type Emulator struct {
	URL    string // http://127.0.0.1:PORT, or https://... with --tls: the EC2 (and STS) endpoint
	Addr   string // 127.0.0.1:PORT
	STSURL string // with --sts-port, the URL of the port that serves STS alone; else ""
	CA     string // with --tls DIR, DIR/ca.pem: the test CA a client must trust; else ""

	// What clients sign with: the defaults above, or the values the options gave.
	Region          string
	AccountID       string
	AccessKeyID     string
	SecretAccessKey string

	Path string   // the program that runs
	Args []string // its options

	web       *http.Client
	stop      func() error
	closeOnce sync.Once
	closeErr  error
}

// Find returns the absolute path of the emulator: path when it is not "", else
// $STORETASKS_EMULATOR when set, else storetasks-emulator on the PATH. The error matches
// ErrNotFound when there is none.
func Find(path string) (string, error) {
	from := "the Binary option"
	if path == "" {
		path, from = os.Getenv(EnvVar), "$"+EnvVar
	}
	if path == "" {
		found, err := exec.LookPath(Program)
		if err != nil {
			return "", fmt.Errorf("%w: give its path with the Binary option or $%s, or put it on the PATH", ErrNotFound, EnvVar)
		}
		path = found
	} else if info, err := os.Stat(path); err != nil || info.IsDir() {
		return "", fmt.Errorf("%w at %s, the path %s gives", ErrNotFound, path, from)
	}
	return filepath.Abs(path)
}

// Launch starts the emulator and returns once it accepts connections; Close stops it. Tests
// use Start, which stops it when the test ends; Launch serves an emulator shared by a whole
// package, started once and closed in TestMain.
func Launch(opts ...Option) (*Emulator, error) {
	s := settings{stderr: os.Stderr, timeout: 30 * time.Second}
	for _, o := range opts {
		o(&s)
	}
	path, err := Find(s.binary)
	if err != nil {
		return nil, err
	}
	e := &Emulator{Path: path, Args: s.args, Region: Region, AccountID: AccountID,
		AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey}
	given := lastValues(s.args)
	for flag, field := range map[string]*string{"--region": &e.Region, "--account-id": &e.AccountID,
		"--access-key": &e.AccessKeyID, "--secret-key": &e.SecretAccessKey} {
		if v, ok := given[flag]; ok {
			*field = v
		}
	}
	if dir, ok := given["--tls"]; ok {
		e.CA = filepath.Join(dir, "ca.pem")
	}
	lines := 1
	if _, ok := given["--sts-port"]; ok {
		lines = 2 // "listening ADDR", then "sts ADDR"
	}
	var start func(settings, int) ([]string, error)
	if viaFile {
		start = e.startViaFile
	} else {
		start = e.startViaPipe
	}
	got, err := start(s, lines)
	if err == nil {
		err = e.connect(got)
	}
	if err == nil && viaFile {
		err = e.loadTasksFile(given["--tasks-file"])
	}
	if err != nil {
		if e.stop != nil {
			_ = e.Close()
		}
		return nil, err
	}
	return e, nil
}

// Start is Launch for one test: a failure to start ends the test (t.Fatal), and the emulator is
// stopped when the test and its subtests have ended (t.Cleanup), where an emulator that had
// exited with an error makes the test fail.
func Start(t testing.TB, opts ...Option) *Emulator {
	t.Helper()
	e, err := Launch(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Error(err)
		}
	})
	return e
}

// Close stops the emulator (SIGTERM, or its control endpoint's shutdown on Windows) and waits
// for it to exit; the error says when it had failed. It is safe to call more than once.
func (e *Emulator) Close() error {
	e.closeOnce.Do(func() {
		e.closeErr = e.stop()
		if e.web != nil {
			e.web.CloseIdleConnections()
		}
	})
	return e.closeErr
}

// Env is the environment for a program under test that finds EC2 through the usual AWS
// variables, such as the AWS CLI or an aws-sdk-go-v2 program: this process's environment without
// its AWS_ variables, plus the emulator's endpoint (AWS_ENDPOINT_URL, and AWS_ENDPOINT_URL_STS
// with --sts-port), region, key pair, test CA (AWS_CA_BUNDLE, with --tls), no shared config or
// credentials files and no instance metadata. Use it as an exec.Cmd's Env.
func (e *Emulator) Env() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(strings.ToUpper(kv), "AWS_") {
			env = append(env, kv)
		}
	}
	env = append(env, "AWS_ENDPOINT_URL="+e.URL, "AWS_REGION="+e.Region, "AWS_DEFAULT_REGION="+e.Region,
		"AWS_ACCESS_KEY_ID="+e.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+e.SecretAccessKey,
		"AWS_CONFIG_FILE="+os.DevNull, "AWS_SHARED_CREDENTIALS_FILE="+os.DevNull, "AWS_EC2_METADATA_DISABLED=true")
	if e.STSURL != "" {
		env = append(env, "AWS_ENDPOINT_URL_STS="+e.STSURL)
	}
	if e.CA != "" {
		env = append(env, "AWS_CA_BUNDLE="+e.CA)
	}
	return env
}

// lastValues maps each --flag of the emulator's options (all of which take a value, as
// "--flag value" or "--flag=value") to the last value given.
func lastValues(args []string) map[string]string {
	values := map[string]string{}
	for i := 0; i < len(args); i++ {
		if flag, value, ok := strings.Cut(args[i], "="); ok && strings.HasPrefix(flag, "--") {
			values[flag] = value
		} else if strings.HasPrefix(args[i], "--") && i+1 < len(args) {
			values[args[i]] = args[i+1]
			i++
		}
	}
	return values
}

// lastLine keeps the last line written to it, whatever pieces it comes in: the emulator's
// reason when it exits at once.
type lastLine struct {
	mu      sync.Mutex
	partial []byte // what came after the last newline
	line    string // the last complete line that is not blank
}

func (l *lastLine) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		if s := strings.TrimSpace(string(l.partial[:i])); s != "" {
			l.line = s
		}
		l.partial = l.partial[i+1:]
	}
}

// exited adds to err, for an emulator that stopped before it was listening, the last line it
// wrote on its standard error: its reason.
func exited(err *listening.ExitError, stderr *lastLine) error {
	stderr.mu.Lock()
	defer stderr.mu.Unlock()
	last := stderr.line
	if s := strings.TrimSpace(string(stderr.partial)); s != "" {
		last = s
	}
	if last == "" {
		return err
	}
	return fmt.Errorf("%w: %s", err, last)
}

// startViaPipe runs the emulator with its standard output on a pipe, reads the first n lines,
// and sets e.stop to stop it with SIGTERM.
func (e *Emulator) startViaPipe(s settings, n int) ([]string, error) {
	cmd := exec.Command(e.Path, e.Args...)
	stderr := &lastLine{}
	cmd.Stderr = io.MultiWriter(s.stderr, stderr)
	p, lines, err := listening.Start(cmd, n, s.timeout)
	var exit *listening.ExitError
	if errors.As(err, &exit) {
		return nil, exited(exit, stderr)
	}
	if err != nil {
		return nil, err
	}
	e.stop = func() error {
		err := p.Stop(stopTimeout)
		if errors.Is(err, listening.ErrKilled) {
			return fmt.Errorf("%s at %s %w", Program, e.Addr, err)
		}
		if err != nil {
			return fmt.Errorf("%s at %s failed: %w", Program, e.Addr, err)
		}
		return nil
	}
	return lines, nil
}
