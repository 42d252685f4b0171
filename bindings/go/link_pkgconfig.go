//go:build !storetasks_intree && !storetasks_static

package storetasks

// The default: an installed libstoretasks found through pkg-config (storetasks.pc, which
// `make install` writes to PREFIX/lib/pkgconfig). Point PKG_CONFIG_PATH at that folder when the
// prefix is not one pkg-config searches already. The program then loads libstoretasks.so (on
// Windows, storetasks.dll) at run time: from the system's library path, LD_LIBRARY_PATH, or an
// rpath given at link time.

/*
#cgo pkg-config: storetasks
*/
import "C"
