//go:build storetasks_static

package storetasks

// The static archive built in the repository: the binary then needs no libstoretasks.so at run
// time. The Rust standard library inside it needs libm, libdl, libpthread and libgcc_s.

/*
#cgo LDFLAGS: ${SRCDIR}/../../target/release/libstoretasks.a -lm -ldl -lpthread -lgcc_s
*/
import "C"
