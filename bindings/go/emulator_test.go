package storetasks

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libstoretasks/libstoretasks/bindings/go/internal/listening"
	"github.com/libstoretasks/libstoretasks/bindings/go/storetaskstest"
)

// The emulator's default key pair and region.
const (
	testAccessKey = storetaskstest.AccessKeyID
	testSecretKey = storetaskstest.SecretAccessKey
	testRegion    = storetaskstest.Region
)

// emulator is a storetasks-emulator process serving one test.
type emulator struct {
	*storetaskstest.Emulator
}

// startEmulator runs the emulator with args until the test ends: $STORETASKS_EMULATOR, by
// default the checkout's build.
func startEmulator(t testing.TB, args ...string) *emulator {
	t.Helper()
	if runtime.GOOS == "windows" && slices.Contains(args, "--tls") {
		t.Skip("--tls needs a folder the emulator can write, which a Windows path is not under Wine")
	}
	path := os.Getenv(storetaskstest.EnvVar)
	if path == "" {
		path = filepath.Join("..", "..", "target", "release", storetaskstest.Program)
	}
	return &emulator{storetaskstest.Start(t, storetaskstest.Binary(path), storetaskstest.Args(args...))}
}

// tasksEmulator runs the emulator (as startEmulator does) serving the tasks in data, a tasks file
// in the AWS CLI's output shape, with args after "--tasks-file FILE".
func tasksEmulator(t testing.TB, data []byte, args ...string) *emulator {
	t.Helper()
	file := filepath.Join(tempDir(t), "tasks.json")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return startEmulator(t, append([]string{"--tasks-file", file}, args...)...)
}

// startListening starts cmd, which prints "listening ADDR" once it accepts connections, stops it
// (SIGTERM) when the test ends, and returns ADDR.
func startListening(t testing.TB, what string, cmd *exec.Cmd) string {
	t.Helper()
	cmd.Stderr = os.Stderr
	p, lines, err := listening.Start(cmd, 1, 30*time.Second)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	t.Cleanup(func() { _ = p.Stop(10 * time.Second) })
	addr, ok := strings.CutPrefix(lines[0], "listening ")
	if !ok {
		t.Fatalf("%s printed %q", what, lines[0])
	}
	return addr
}

// tempDir is t.TempDir, except on Windows, where the folder is removed file by file: under Wine,
// os.RemoveAll (which t.TempDir's cleanup uses) fails on every folder with "Invalid function",
// while os.Remove works.
func tempDir(t testing.TB) string {
	t.Helper()
	if runtime.GOOS != "windows" {
		return t.TempDir()
	}
	dir, err := os.MkdirTemp("", "storetasks-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		var paths []string
		_ = filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
			if err == nil {
				paths = append(paths, p)
			}
			return nil
		})
		// Deepest first: a folder's entries come after it in the walk.
		for i := len(paths) - 1; i >= 0; i-- {
			if err := os.Remove(paths[i]); err != nil {
				t.Logf("cleaning up: %v", err)
			}
		}
	})
	return dir
}

// config is a Config for this emulator with the default key pair.
func (e *emulator) config() Config {
	return Config{
		Region:          testRegion,
		EndpointURL:     e.URL,
		STSEndpointURL:  e.URL, // the emulator answers STS on its EC2 port
		AccessKeyID:     testAccessKey,
		SecretAccessKey: testSecretKey,
	}
}

// client returns a client for this emulator, changed by edit, closed when the test ends.
func (e *emulator) client(t testing.TB, edit func(*Config)) *Client {
	t.Helper()
	c := e.unclosedClient(t, edit)
	t.Cleanup(func() { c.Close() })
	return c
}

// unclosedClient returns a client for this emulator, changed by edit, that nothing closes when
// the test ends: for the tests of Close and of the finalizer.
func (e *emulator) unclosedClient(t testing.TB, edit func(*Config)) *Client {
	t.Helper()
	cfg := e.config()
	if edit != nil {
		edit(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type emulatorStats = storetaskstest.Stats

// noError ends the test when err is not nil: for the emulator's control calls.
func noError(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (e *emulator) control(t testing.TB, method, path string, body any, out any) {
	t.Helper()
	noError(t, e.Control(method, path, body, out))
}

func (e *emulator) stats(t testing.TB) emulatorStats {
	t.Helper()
	s, err := e.Stats()
	noError(t, err)
	return s
}

func (e *emulator) addFaults(t testing.TB, specs ...string) {
	t.Helper()
	noError(t, e.AddFaults(specs...))
}

func (e *emulator) clearFaults(t testing.TB) {
	t.Helper()
	noError(t, e.ClearFaults())
}

// forwardProxy is tests/fixtures/forward_proxy.py serving one test.
type forwardProxy struct {
	Addr string // 127.0.0.1:PORT
}

// startForwardProxy runs the forward proxy with args until the test ends.
func startForwardProxy(t testing.TB, args ...string) *forwardProxy {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("the forward proxy needs python3")
	}
	cmd := exec.Command(python, append([]string{filepath.Join("..", "..", "tests", "fixtures", "forward_proxy.py")}, args...)...)
	return &forwardProxy{Addr: startListening(t, "the forward proxy", cmd)}
}

// url is the proxy's URL with userinfo ("user:password", or "" for none).
func (p *forwardProxy) url(userinfo string) string {
	if userinfo == "" {
		return "http://" + p.Addr
	}
	return "http://" + userinfo + "@" + p.Addr
}

// tunnels is the number of CONNECT tunnels the proxy has opened so far.
func (p *forwardProxy) tunnels(t testing.TB) int {
	t.Helper()
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Get("http://" + p.Addr + "/_proxy/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var stats struct{ Connect map[string]int }
	if err := json.NewDecoder(resp.Body).Decode(&stats); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range stats.Connect {
		n += c
	}
	return n
}

// emulatorTask is a task in the emulator's tasks-file shape.
type emulatorTask = storetaskstest.Task

// tasks returns every task the emulator holds, hidden ones included, newest first.
func (e *emulator) tasks(t testing.TB) []emulatorTask {
	t.Helper()
	tasks, err := e.Tasks()
	noError(t, err)
	return tasks
}

// visibleTasks returns the tasks DescribeStoreImageTasks reports: those started within the
// last 31 days of emulator time (now is the emulator's --now).
func (e *emulator) visibleTasks(t testing.TB, now time.Time) []emulatorTask {
	t.Helper()
	cutoff := now.Add(-31 * 24 * time.Hour)
	var out []emulatorTask
	for _, task := range e.tasks(t) {
		if task.TaskStartTime != nil {
			ts, err := time.Parse(time.RFC3339Nano, *task.TaskStartTime)
			if err != nil {
				t.Fatal(err)
			}
			if ts.Before(cutoff) {
				continue
			}
		}
		out = append(out, task)
	}
	return out
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
