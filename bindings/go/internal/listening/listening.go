// Package listening runs a server program that prints where it listens on its standard output
// ("listening 127.0.0.1:PORT", perhaps followed by more such lines) once it accepts connections,
// and stops it with SIGTERM: storetasks-emulator for storetaskstest, and the forward proxy of
// the storetasks tests.
package listening

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// ErrKilled is Stop's error when the program did not exit in time after SIGTERM.
var ErrKilled = errors.New("was killed")

// ExitError is Start's error when the program exits before it has printed its lines.
type ExitError struct {
	Path   string
	Status error // what exec.Cmd.Wait returned
}

func (e *ExitError) Error() string {
	return fmt.Sprintf("%s stopped before it was listening (%v)", e.Path, e.Status)
}

// A Process is a running server program.
type Process struct {
	cmd    *exec.Cmd
	waited chan error // cmd.Wait's result
}

// Start starts cmd, whose standard output it reads (cmd.Stdout must be nil), and returns once
// the program has printed n lines, each without the white space around it; what it prints after
// them is discarded. When the program cannot be started, exits first (the error is an
// *ExitError) or prints fewer lines within timeout, the error says so, and the program has
// been killed.
func Start(cmd *exec.Cmd, n int, timeout time.Duration) (*Process, []string, error) {
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("%s could not be started: %w", cmd.Path, err)
	}
	p := &Process{cmd: cmd, waited: make(chan error, 1)}
	go func() { p.waited <- cmd.Wait() }()
	lines := make(chan string, n)
	go func() {
		r := bufio.NewReader(out)
		for range n {
			line, err := r.ReadString('\n')
			if err != nil {
				break
			}
			lines <- strings.TrimSpace(line)
		}
		close(lines)
		_, _ = io.Copy(io.Discard, r)
	}()
	var got []string
	deadline := time.After(timeout)
	for len(got) < n {
		select {
		case line, ok := <-lines:
			if !ok {
				status := <-p.waited
				return nil, nil, &ExitError{Path: cmd.Path, Status: status}
			}
			got = append(got, line)
		case <-deadline:
			_ = cmd.Process.Kill()
			<-p.waited
			return nil, nil, fmt.Errorf("%s did not start listening within %v", cmd.Path, timeout)
		}
	}
	return p, got, nil
}

// Stop sends the program SIGTERM (kills it where there are no signals) and waits for it to
// exit, for timeout at the most: then it kills it and the error matches ErrKilled. Otherwise
// the error is the program's failure, as exec.Cmd.Wait returns it. Stop is called once.
func (p *Process) Stop(timeout time.Duration) error {
	if p.cmd.Process.Signal(syscall.SIGTERM) != nil {
		_ = p.cmd.Process.Kill()
	}
	select {
	case err := <-p.waited:
		return err
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.waited
		return fmt.Errorf("did not stop within %v of SIGTERM and %w", timeout, ErrKilled)
	}
}
