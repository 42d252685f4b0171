// Gives the shared library its SONAME, libstoretasks.so.<major>, so that packagers and the
// dynamic linker can tell ABI-compatible releases apart.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" || target_os == "freebsd" || target_os == "netbsd" || target_os == "openbsd" {
        let major = std::env::var("CARGO_PKG_VERSION_MAJOR").expect("cargo sets the version");
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libstoretasks.so.{major}");
    }
}
