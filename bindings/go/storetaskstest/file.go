package storetaskstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"
)

// startViaFile runs the emulator with its standard output in a temporary file, reads the first n
// lines from there, and sets e.stop to stop it through its control endpoint: what Windows needs
// (see viaFile). The Linux program run by Wine cannot open a Windows path either, so a
// --tasks-file is left out of its options and loaded through the control endpoint once it
// listens (Launch does that), and --tls is refused.
func (e *Emulator) startViaFile(s settings, n int) ([]string, error) {
	if _, ok := lastValues(e.Args)["--tls"]; ok {
		return nil, fmt.Errorf("%s cannot serve --tls on Windows, where it cannot write the folder given", Program)
	}
	out, err := os.CreateTemp("", "storetasks-emulator-*.out")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(e.Path, withoutFlag(e.Args, "--tasks-file")...)
	cmd.Stdout = out
	cmd.Stderr = s.stderr
	err = cmd.Start()
	out.Close()
	if err != nil {
		_ = os.Remove(out.Name())
		return nil, fmt.Errorf("%s could not be started: %w", e.Path, err)
	}
	e.stop = func() error {
		defer os.Remove(out.Name())
		defer cmd.Process.Release()
		if e.web == nil {
			return cmd.Process.Kill()
		}
		if resp, err := e.web.Post(e.URL+"/_emulator/shutdown", "application/json", nil); err == nil {
			resp.Body.Close()
		}
		for deadline := time.Now().Add(stopTimeout); e.answers(); time.Sleep(25 * time.Millisecond) {
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				return fmt.Errorf("%s at %s still answered %v after its shutdown request and was killed", Program, e.Addr, stopTimeout)
			}
		}
		return nil
	}
	for deadline := time.Now().Add(s.timeout); ; time.Sleep(50 * time.Millisecond) {
		data, _ := os.ReadFile(out.Name())
		if lines := strings.Split(string(data), "\n"); len(lines) > n {
			for i := range lines {
				lines[i] = strings.TrimSpace(lines[i])
			}
			return lines[:n], nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s did not start listening within %v", e.Path, s.timeout)
		}
	}
}

// answers says whether the emulator still answers its control endpoint.
func (e *Emulator) answers() bool {
	resp, err := e.web.Get(e.URL + "/_emulator/stats")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// withoutFlag is args without the option flag and its value.
func withoutFlag(args []string, flag string) []string {
	var kept []string
	for i := 0; i < len(args); i++ {
		switch {
		case args[i] == flag:
			i++
		case strings.HasPrefix(args[i], flag+"="):
		default:
			kept = append(kept, args[i])
		}
	}
	return kept
}

// loadTasksFile adds the tasks of file (none when "") through the control endpoint.
func (e *Emulator) loadTasksFile(file string) error {
	if file == "" {
		return nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	return e.Control(http.MethodPost, "/_emulator/tasks", json.RawMessage(data), nil)
}
