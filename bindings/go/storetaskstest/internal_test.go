package storetaskstest

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/libstoretasks/libstoretasks/bindings/go/internal/listening"
)

// PathForTests is the emulator the tests run: $STORETASKS_EMULATOR, by default the checkout's
// build.
func PathForTests(t *testing.T) string {
	t.Helper()
	if p := os.Getenv(EnvVar); p != "" {
		return p
	}
	p, err := filepath.Abs(filepath.Join("..", "..", "..", "target", "release", Program))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOptionsAreReadInBothSpellingsTheLastOneWinning(t *testing.T) {
	args := []string{"--region", "eu-west-3", "--generate=5", "--tasks-file", "a.json", "--region=ap-south-1",
		"--tasks-file=b.json", "--seed", "7"}
	got := lastValues(args)
	if got["--region"] != "ap-south-1" || got["--generate"] != "5" || got["--tasks-file"] != "b.json" || got["--seed"] != "7" {
		t.Errorf("lastValues = %v", got)
	}
	if kept := withoutFlag(args, "--tasks-file"); !slices.Equal(kept, []string{"--region", "eu-west-3", "--generate=5",
		"--region=ap-south-1", "--seed", "7"}) {
		t.Errorf("withoutFlag = %q", kept)
	}
}

// The way Windows needs, tried here: the listening lines come from a file, a --tasks-file is
// loaded through the control endpoint, and Close stops the emulator through it.
func TestTheWindowsWayWorksToo(t *testing.T) {
	viaFile = true
	t.Cleanup(func() { viaFile = runtime.GOOS == "windows" })
	file := filepath.Join(t.TempDir(), "tasks.json")
	data := `{"StoreImageTaskResults": [{"AmiId": "ami-0123456789abcdef0", "TaskStartTime": "2026-11-20T11:00:00Z"}]}`
	if err := os.WriteFile(file, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	emu, err := Launch(Binary(PathForTests(t)), Args("--tasks-file", file, "--now", "2026-11-20T12:00:00Z", "--sts-port", "0"))
	if err != nil {
		t.Fatal(err)
	}
	if tasks, err := emu.Tasks(); err != nil || len(tasks) != 1 || *tasks[0].AmiId != "ami-0123456789abcdef0" {
		t.Errorf("Tasks() = %v, %v", tasks, err)
	}
	if !strings.HasPrefix(emu.STSURL, "http://127.0.0.1:") {
		t.Errorf("STSURL %q", emu.STSURL)
	}
	if err := emu.Close(); err != nil {
		t.Fatal(err)
	}
	if emu.answers() {
		t.Error("the emulator still answers after Close")
	}
	_, err = Launch(Binary(PathForTests(t)), Args("--tls", t.TempDir()))
	if err == nil || err.Error() != "storetasks-emulator cannot serve --tls on Windows, where it cannot write the folder given" {
		t.Errorf("--tls: %v", err)
	}
}

func TestTheLastLineOfStderrIsKeptWhateverPiecesItComesIn(t *testing.T) {
	l := &lastLine{}
	for _, piece := range []string{"first line\n\nstoretasks-emulator: ", "unknown argument", " `--bogus`\n", "  \n"} {
		if _, err := l.Write([]byte(piece)); err != nil {
			t.Fatal(err)
		}
	}
	err := exited(&listening.ExitError{Path: "emu", Status: errors.New("exit status 2")}, l)
	if err.Error() != "emu stopped before it was listening (exit status 2): storetasks-emulator: unknown argument `--bogus`" {
		t.Errorf("%v", err)
	}
}
