#!/bin/sh
# Checks what the named make targets need (packaging/prerequisites.txt) and installs what is
# missing: Debian's packages when this user may install them (root, or sudo without a password),
# rustup targets, toolchains and components, and cargo tools. When it may not, or when told not
# to, it installs nothing, prints the one command that would, and fails before anything is built.
#   sh packaging/prerequisites.sh GROUP...        (build, test, dist, windows, fuzz, miri)
#   STORETASKS_PREREQUISITES=install   the default: install what is missing
#   STORETASKS_PREREQUISITES=check     install nothing; fail with the command when something is missing
#   STORETASKS_PREREQUISITES=skip      check nothing (a machine set up some other way)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
mode=${STORETASKS_PREREQUISITES:-install}
case $mode in
    install | check) ;;
    skip) exit 0 ;;
    *) echo "packaging/prerequisites.sh: STORETASKS_PREREQUISITES must be install, check or skip, not '$mode'" >&2; exit 2 ;;
esac
[ $# -gt 0 ] || { echo "usage: sh packaging/prerequisites.sh GROUP..." >&2; exit 2; }
# Go as the machine image ships it, when it is not on the PATH yet.
[ -x /usr/local/go/bin/go ] && PATH=$PATH:/usr/local/go/bin
PYTHON=${PYTHON:-python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

present() {
    case $1 in
        cmd:*) command -v "${1#cmd:}" >/dev/null 2>&1 ;;
        file:*) [ -e "${1#file:}" ] ;;
        m32) printf 'int main(void) { return 0; }\n' > "$tmp/m32.c" &&
            ${CC:-cc} -m32 "$tmp/m32.c" -o "$tmp/m32" >/dev/null 2>&1 ;;
        rpkg:*) command -v Rscript >/dev/null 2>&1 &&
            Rscript -e "quit(status = if (requireNamespace('${1#rpkg:}', quietly = TRUE)) 0 else 1)" >/dev/null 2>&1 ;;
        venv) "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1 ;;
        toolchain:*) rustup toolchain list 2>/dev/null | grep -q "^${1#toolchain:}" ;;
        target:*) rustup target list --installed 2>/dev/null | grep -qx "${1#target:}" ;;
        component:*) c=${1#component:}
            rustup component list --installed --toolchain "${c%%:*}" 2>/dev/null | grep -q "^${c#*:}" ;;
        *) echo "packaging/prerequisites.txt: unknown check '$1'" >&2; exit 2 ;;
    esac
}

apt_pkgs=''
others=''   # one install a line: rustup:... or cargo:...
whys=''
for group in "$@"; do
    grep -q "^$group[[:space:]]" "$here/prerequisites.txt" ||
        { echo "packaging/prerequisites.sh: no group '$group' in packaging/prerequisites.txt" >&2; exit 2; }
done
while read -r group check how why; do
    case $group in '' | '#'*) continue ;; esac
    wanted=false
    for g in "$@"; do [ "$g" = "$group" ] && wanted=true; done
    $wanted || continue
    present "$check" && continue
    case $how in
        apt:*) case " $apt_pkgs " in *" ${how#apt:} "*) continue ;; esac
            apt_pkgs="$apt_pkgs ${how#apt:}" ;;
        rustup:* | cargo:*) case "$others" in *"$how"*) continue ;; esac
            others="$others$how
" ;;
        *) echo "packaging/prerequisites.txt: unknown install '$how'" >&2; exit 2 ;;
    esac
    whys="$whys  $(echo "${how#*:}" | tr ',' ' '): $why
"
done < "$here/prerequisites.txt"

[ -z "$apt_pkgs" ] && [ -z "$others" ] && exit 0
printf 'Missing for the groups %s of packaging/prerequisites.txt:\n%s' "$*" "$whys" >&2

# The commands, as words a shell can run.
commands=''
sudo=''
if [ -n "$apt_pkgs" ]; then
    if [ "$(id -u)" -ne 0 ]; then sudo='sudo '; fi
    commands="${sudo}apt-get update && ${sudo}apt-get install -y$apt_pkgs"
fi
for how in $others; do
    case $how in
        rustup:*) c="rustup $(echo "${how#rustup:}" | tr ',' ' ')" ;;
        cargo:*) c="cargo install --locked ${how#cargo:}" ;;
    esac
    commands="${commands:+$commands && }$c"
done

may_install=true
if [ "$mode" = check ]; then
    may_install=false
elif [ -n "$apt_pkgs" ]; then
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "This machine has no apt-get: install the packages above (Debian names) with its own package manager." >&2
        may_install=false
    elif [ -n "$sudo" ] && ! sudo -n true >/dev/null 2>&1; then
        may_install=false
    fi
fi
if ! $may_install; then
    echo "Nothing was built. Install them with:" >&2
    echo "  $commands" >&2
    echo "(or set STORETASKS_PREREQUISITES=skip to build without this check)" >&2
    exit 1
fi
echo "Installing: $commands" >&2
if [ -n "$apt_pkgs" ]; then
    # shellcheck disable=SC2086
    ${sudo}apt-get update -qq && ${sudo}env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $apt_pkgs
fi
for how in $others; do
    case $how in
        rustup:*) # shellcheck disable=SC2046
            rustup $(echo "${how#rustup:}" | tr ',' ' ') ;;
        cargo:*) cargo install --locked "${how#cargo:}" ;;
    esac
done
