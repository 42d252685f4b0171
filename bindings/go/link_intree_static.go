//go:build storetasks_intree && storetasks_static

package storetasks

// -tags storetasks_intree,storetasks_static: the checkout's static archive
// (target/release/libstoretasks.a), so the binary needs no libstoretasks.so at run time, and the
// system libraries the Rust code in it needs: the list rustc prints, kept in
// packaging/native-static-libs.txt (a test checks this line against it). Linux only.

/*
#cgo CFLAGS: -I${SRCDIR}/../../include -DSTORETASKS_STATIC
#cgo LDFLAGS: ${SRCDIR}/../../target/release/libstoretasks.a -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
*/
import "C"
