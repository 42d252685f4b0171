//go:build !storetasks_static

package storetasks

// The shared library built in the repository, found at run time through an rpath. CGO_LDFLAGS
// come before these flags on the link line, so an installed copy given there wins.

/*
#cgo LDFLAGS: -L${SRCDIR}/../../target/release -lstoretasks -Wl,-rpath,${SRCDIR}/../../target/release
*/
import "C"
