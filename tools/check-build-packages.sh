#!/usr/bin/env bash
# Proves the Makefile's BUILD_APT_PACKAGES complete: every header that a C module under Sources/
# includes (its shim.h or include/*.h) and every library that a modulemap or the Makefile links belongs
# to a Debian package on the list, or to the Swift toolchain itself. Fails naming each missing package.
# Run after the packages are installed (the Makefile's check-build-packages does both).
# Usage: tools/check-build-packages.sh PACKAGE...
set -euo pipefail
cd "$(dirname "$0")/.."

listed=" $* "
toolchain=$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")   # e.g. /opt/swift/usr
clang=$toolchain/bin/clang
[ -x "$clang" ] || { echo "check-build-packages: no clang beside swift at $clang" >&2; exit 2; }

# The system include path as the toolchain's clang (the one Swift imports C modules with) searches it.
mapfile -t include_dirs < <("$clang" -E -x c -v - </dev/null 2>&1 |
    sed -n '/^#include <\.\.\.> search starts here:/,/^End of search list\./p' | sed '1d;$d;s/^ *//')

headers=$(cat Sources/*/shim.h Sources/*/include/*.h 2>/dev/null | sed -n 's/^[[:space:]]*#include[[:space:]]*<\([^>]*\)>.*/\1/p' | sort -u)
libraries=$( { sed -n 's/^[[:space:]]*link[[:space:]]*"\([^"]*\)".*/\1/p' Sources/*/module.modulemap
               grep -o -- '-Xlinker -l[A-Za-z0-9_+-]*' Makefile | sed 's/.*-l//'; } | sort -u)

# The Debian package that owns a file, or nothing. Debian 12 merges /lib into /usr/lib, and dpkg knows
# a file by the path its package installed it under: try both.
owner() {
    local path
    for path in "$1" "/usr$1" "$(realpath "$(dirname "$1")")/$(basename "$1")"; do
        dpkg -S "$path" 2>/dev/null | head -1 | sed 's/: .*//; s/:[a-z0-9_]*$//' && return 0
    done
    return 0
}

failures=()
# check WHAT PATH: PATH is where WHAT was found ("" if nowhere).
check() {
    local what=$1 path=$2 package
    if [ -z "$path" ]; then
        failures+=("$what: not found on this machine; install the package that has it and add that package to BUILD_APT_PACKAGES")
    elif [[ $path == "$toolchain"/* ]]; then
        echo "  $what: the Swift toolchain ($path)"
    else
        package=$(owner "$path")
        if [ -z "$package" ]; then
            failures+=("$what: $path belongs to no Debian package")
        elif [[ $listed == *" $package "* ]]; then
            echo "  $what: $package"
        else
            failures+=("$what: $package is not in BUILD_APT_PACKAGES")
        fi
    fi
}

for header in $headers; do
    found=""
    for dir in "${include_dirs[@]}"; do
        if [ -e "$dir/$header" ]; then found=$(realpath -s "$dir/$header"); break; fi
    done
    check "<$header>" "$found"
done
for library in $libraries; do
    found=$("$clang" -print-file-name="lib$library.so")
    [ "$found" = "lib$library.so" ] && found="" || found=$(realpath -s "$found")
    check "-l$library" "$found"
done

if ((${#failures[@]})); then
    printf 'check-build-packages: %s\n' "${failures[@]}" >&2
    exit 1
fi
echo "check-build-packages: every included header and linked library comes from BUILD_APT_PACKAGES or the toolchain"
