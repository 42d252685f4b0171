//go:build storetasks_intree && !storetasks_static

package storetasks

// -tags storetasks_intree: the header and the shared library of the checkout this package sits
// in (include/ and target/release/), the library found at run time through an rpath; this is
// how the repository's own tests link. CGO_CFLAGS and CGO_LDFLAGS come before these flags on
// the command lines, so a build elsewhere (another cargo target directory) given there wins. On
// Windows, CGO_LDFLAGS=-L<folder holding libstoretasks.dll.a>, and storetasks.dll goes next to
// the program or on the PATH.

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#cgo !windows LDFLAGS: -L${SRCDIR}/../../target/release -lstoretasks -Wl,-rpath,${SRCDIR}/../../target/release
#cgo windows LDFLAGS: -lstoretasks
*/
import "C"
