#!/usr/bin/env bash
# Assembles the image's root filesystem: the runnel binary, exactly the shared libraries `ldd` lists for
# it (with the dynamic loader), a non-root user, the data directory and /tmp. Nothing else: no shell,
# no package manager. Usage: assemble-rootfs.sh BINARY OUT_DIR
# OUT_DIR (the docker build context) gets root/, the filesystem, and data/, the empty data directory:
# docker's COPY chowns a directory to the broker's user only when it creates it, so it comes apart.
set -euo pipefail
binary=$1
out=$2
root=$out/root

rm -rf "$out"
mkdir -p "$root/usr/local/bin" "$root/etc" "$root/var/lib" "$root/tmp" "$out/data"
chmod 1777 "$root/tmp"
# Symbols only serve debuggers; the image keeps the code.
strip --strip-unneeded -o "$root/usr/local/bin/runnel" "$binary"

# ldd lines: "libz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x…)", "/lib64/ld-linux-x86-64.so.2 (0x…)",
# and the kernel's "linux-vdso.so.1 (0x…)", which has no file.
libraries=$(ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u)
if ldd "$binary" | grep -q "not found"; then
    echo "assemble-rootfs: missing libraries:" >&2
    ldd "$binary" | grep "not found" >&2
    exit 1
fi
for library in $libraries; do
    mkdir -p "$root$(dirname "$library")"
    cp -L "$library" "$root$library"   # the file behind a symlink, under the name the binary asks for
done

cat > "$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/usr/sbin/nologin
runnel:x:10001:10001:Runnel broker:/var/lib/runnel:/usr/sbin/nologin
PASSWD
cat > "$root/etc/group" <<'GROUP'
root:x:0:
runnel:x:10001:
GROUP
# Host names: /etc/hosts (docker writes it), then docker's DNS.
echo "hosts: files dns" > "$root/etc/nsswitch.conf"

# The image must stay small (issue 5: at most 40 MB). The usual way to break that is an `import Foundation`
# in a target the broker links: Foundation brings ICU and its 34 MB of data (use FoundationEssentials).
if nm "$binary" 2>/dev/null | grep -q ' icudt[0-9]*_dat$'; then
    echo "assemble-rootfs: $binary links ICU's data (an 'import Foundation' in a target it links;" \
        "use FoundationEssentials)" >&2
    exit 1
fi
bytes=$(du -sb "$root" | cut -f1)
if ((bytes > ${IMAGE_BYTES_MAX:-40000000})); then
    echo "assemble-rootfs: $bytes bytes is over the image limit of ${IMAGE_BYTES_MAX:-40000000}" >&2
    exit 1
fi
echo "rootfs: $bytes bytes in $root; libraries:" $libraries
