package storetasks

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The emulator's default key pair and region.
const (
	testAccessKey = "AKIASTORETASKSLOCAL1"
	testSecretKey = "storetasks-local-secret-key-0000000000000"
	testRegion    = "us-east-1"
)

// emulator is a storetasks-emulator process serving one test.
type emulator struct {
	URL string // http://127.0.0.1:PORT, or https:// with --tls
	CA  string // with --tls DIR: DIR/ca.pem, the test CA its certificate comes from
	web *http.Client
}

// newEmulator is the emulator listening at addr (HOST:PORT), over TLS when args hold --tls: its
// control requests trust the test CA and go directly, whatever the proxy variables say.
func newEmulator(t testing.TB, addr string, args []string) *emulator {
	t.Helper()
	e := &emulator{URL: "http://" + addr, web: &http.Client{Transport: &http.Transport{}}}
	if i := slices.Index(args, "--tls"); i >= 0 && i+1 < len(args) {
		e.URL, e.CA = "https://"+addr, filepath.Join(args[i+1], "ca.pem")
		pem, err := os.ReadFile(e.CA)
		if err != nil {
			t.Fatal(err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			t.Fatalf("%s holds no certificate", e.CA)
		}
		e.web.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}
	}
	t.Cleanup(e.web.CloseIdleConnections)
	return e
}

func emulatorPath(t testing.TB) string {
	if p := os.Getenv("STORETASKS_EMULATOR"); p != "" {
		return p
	}
	p, err := filepath.Abs(filepath.Join("..", "..", "target", "release", "storetasks-emulator"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// startEmulator runs the emulator with args (after --port 0) until the test ends.
func startEmulator(t testing.TB, args ...string) *emulator {
	t.Helper()
	path := emulatorPath(t)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("emulator not found (build it, or set STORETASKS_EMULATOR): %v", err)
	}
	if runtime.GOOS == "windows" {
		return startEmulatorWindows(t, path, args)
	}
	cmd := exec.Command(path, append([]string{"--port", "0"}, args...)...)
	return newEmulator(t, startListening(t, "the emulator", cmd), args)
}

// startListening starts cmd, which prints "listening ADDR" once it accepts connections, stops it
// (SIGTERM) when the test ends, and returns ADDR.
func startListening(t testing.TB, what string, cmd *exec.Cmd) string {
	t.Helper()
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.Process.Signal(syscall.SIGTERM) != nil {
			_ = cmd.Process.Kill()
		}
		_ = cmd.Wait()
	})
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- s
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case s := <-line:
		addr, ok := strings.CutPrefix(strings.TrimSpace(s), "listening ")
		if !ok {
			t.Fatalf("%s printed %q", what, s)
		}
		return addr
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not start within 30s", what)
	}
	return ""
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

// startEmulatorWindows is startEmulator for Windows, where the emulator may be the Linux program
// run by Wine (under a name ending in .exe, which Go requires), which gets no pipe from a Windows
// parent, though it does get a file, and cannot open a Windows path: it picks its own port and
// writes its "listening ADDR" line into a temporary file read here, gets the tasks of a
// --tasks-file through its control endpoint, and is stopped through that endpoint.
func startEmulatorWindows(t testing.TB, path string, args []string) *emulator {
	t.Helper()
	if slices.Contains(args, "--tls") {
		t.Skip("--tls needs a folder the emulator can write, which a Windows path is not under Wine")
	}
	var tasks []byte
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "--tasks-file" {
			data, err := os.ReadFile(args[i+1])
			if err != nil {
				t.Fatal(err)
			}
			tasks = data
			args = append(args[:i:i], args[i+2:]...)
			break
		}
	}
	out, err := os.CreateTemp("", "storetasks-emulator-*.out")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Remove(out.Name()) })
	cmd := exec.Command(path, append([]string{"--port", "0"}, args...)...)
	cmd.Stdout = out
	cmd.Stderr = os.Stderr
	err = cmd.Start()
	out.Close()
	if err != nil {
		t.Fatal(err)
	}
	var addr string
	for deadline := time.Now().Add(30 * time.Second); addr == ""; time.Sleep(50 * time.Millisecond) {
		data, _ := os.ReadFile(out.Name())
		if line, _, complete := strings.Cut(string(data), "\n"); complete {
			var ok bool
			if addr, ok = strings.CutPrefix(strings.TrimSpace(line), "listening "); !ok {
				t.Fatalf("the emulator printed %q", line)
			}
		} else if time.Now().After(deadline) {
			t.Fatal("the emulator did not start within 30s")
		}
	}
	e := newEmulator(t, addr, args)
	answers := func() bool {
		resp, err := e.web.Get(e.URL + "/_emulator/stats")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	t.Cleanup(func() {
		if resp, err := e.web.Post(e.URL+"/_emulator/shutdown", "application/json", nil); err == nil {
			resp.Body.Close()
		}
		for i := 0; i < 200 && answers(); i++ {
			time.Sleep(25 * time.Millisecond)
		}
		_ = cmd.Process.Release()
	})
	if tasks != nil {
		resp, err := e.web.Post(e.URL+"/_emulator/tasks", "application/json", bytes.NewReader(tasks))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("the emulator refused the tasks (HTTP %d): %s", resp.StatusCode, body)
		}
	}
	return e
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

type emulatorStats struct {
	Requests    int `json:"requests"`
	Describe    int `json:"describe"`
	FaultsFired int `json:"faults_fired"`
}

func (e *emulator) control(t testing.TB, method, path string, body any, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.web.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %s: %s", method, path, resp.Status, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
}

func (e *emulator) stats(t testing.TB) emulatorStats {
	t.Helper()
	var s emulatorStats
	e.control(t, http.MethodGet, "/_emulator/stats", nil, &s)
	return s
}

func (e *emulator) addFaults(t testing.TB, specs ...string) {
	t.Helper()
	e.control(t, http.MethodPost, "/_emulator/faults", map[string][]string{"faults": specs}, nil)
}

func (e *emulator) clearFaults(t testing.TB) {
	t.Helper()
	e.control(t, http.MethodDelete, "/_emulator/faults", nil, nil)
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
type emulatorTask struct {
	AmiId                  *string
	TaskStartTime          *string
	Bucket                 *string
	S3objectKey            *string
	ProgressPercentage     *int32
	StoreTaskState         *string
	StoreTaskFailureReason *string
}

// tasks returns every task the emulator holds, hidden ones included, newest first.
func (e *emulator) tasks(t testing.TB) []emulatorTask {
	t.Helper()
	var out struct{ StoreImageTaskResults []emulatorTask }
	e.control(t, http.MethodGet, "/_emulator/tasks", nil, &out)
	return out.StoreImageTaskResults
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

func (et emulatorTask) String() string {
	return fmt.Sprintf("%s@%s", deref(et.AmiId), deref(et.TaskStartTime))
}
