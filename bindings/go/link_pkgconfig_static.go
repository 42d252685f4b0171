//go:build !storetasks_intree && storetasks_static

package storetasks

// The installed static archive, through pkg-config's storetasks-static.pc: its Libs name
// PREFIX/lib/libstoretasks.a and every system library the Rust code in it needs (the list rustc
// prints, packaging/native-static-libs.txt), and its Cflags define STORETASKS_STATIC. The
// binary then needs no libstoretasks.so at run time.

/*
#cgo pkg-config: --static storetasks-static
*/
import "C"
