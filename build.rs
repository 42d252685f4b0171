// Link-time identity of the shared library.
// - ELF systems: the SONAME, libstoretasks.so.<major>, so that packagers and the dynamic linker can
//   tell ABI-compatible releases apart.
// - Windows with the GNU toolchain (MinGW-w64, native or cross): a version resource (what
//   Explorer's Properties and `GetFileVersionInfo` show), compiled with windres.
use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=WINDRES");
    let target_os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let target_env = env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    let version = |part: &str| env::var(format!("CARGO_PKG_VERSION_{part}")).expect("cargo sets the version");
    if matches!(target_os.as_str(), "linux" | "freebsd" | "netbsd" | "openbsd") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libstoretasks.so.{}", version("MAJOR"));
    }
    if target_os == "windows" && target_env == "gnu" {
        let (major, minor, patch) = (version("MAJOR"), version("MINOR"), version("PATCH"));
        let full = env::var("CARGO_PKG_VERSION").expect("cargo sets the version");
        let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
        let rc = out.join("storetasks-version.rc");
        let obj = out.join("storetasks-version.o");
        std::fs::write(&rc, version_resource(&major, &minor, &patch, &full)).expect("write the version resource");
        let windres = env::var("WINDRES").unwrap_or_else(|_| {
            let host = env::var("HOST").unwrap_or_default();
            if host.contains("windows") { "windres".to_owned() } else { "x86_64-w64-mingw32-windres".to_owned() }
        });
        let ran = Command::new(&windres).arg(&rc).arg("-O").arg("coff").arg("-o").arg(&obj).status();
        match ran {
            Ok(s) if s.success() => println!("cargo:rustc-cdylib-link-arg={}", obj.display()),
            Ok(s) => panic!("{windres} failed on {} ({s})", rc.display()),
            Err(e) => panic!("cannot run {windres} (set WINDRES to the resource compiler): {e}"),
        }
    }
}

fn version_resource(major: &str, minor: &str, patch: &str, full: &str) -> String {
    format!(
        r#"#include <winver.h>
VS_VERSION_INFO VERSIONINFO
FILEVERSION {major},{minor},{patch},0
PRODUCTVERSION {major},{minor},{patch},0
FILEOS VOS_NT_WINDOWS32
FILETYPE VFT_DLL
BEGIN
  BLOCK "StringFileInfo"
  BEGIN
    BLOCK "040904B0"
    BEGIN
      VALUE "CompanyName", "libstoretasks"
      VALUE "FileDescription", "libstoretasks: Amazon EC2 DescribeStoreImageTasks for C"
      VALUE "FileVersion", "{full}"
      VALUE "InternalName", "storetasks"
      VALUE "LegalCopyright", "Apache-2.0"
      VALUE "OriginalFilename", "storetasks.dll"
      VALUE "ProductName", "libstoretasks"
      VALUE "ProductVersion", "{full}"
    END
  END
  BLOCK "VarFileInfo"
  BEGIN
    VALUE "Translation", 0x409, 1200
  END
END
"#
    )
}
