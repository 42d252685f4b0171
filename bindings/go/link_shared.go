//go:build !storetasks_static

package storetasks

// The shared library built in the repository, found at run time through an rpath. CGO_LDFLAGS
// come before these flags on the link line, so an installed copy given there wins. On Windows,
// CGO_LDFLAGS=-L<folder holding libstoretasks.dll.a> (make windows lays one out), and
// storetasks.dll goes next to the program or on the PATH.

/*
#cgo !windows LDFLAGS: -L${SRCDIR}/../../target/release -lstoretasks -Wl,-rpath,${SRCDIR}/../../target/release
#cgo windows LDFLAGS: -lstoretasks
*/
import "C"
