#!/usr/bin/env bash
# Builds ahead_VERSION_ARCH.deb with dpkg-deb from a `cmake --install` into a
# staging directory. Usage: scripts/build-deb.sh [BUILD_DIR] [OUT_DIR]
# (defaults build-deb/ and BUILD_DIR); prints the .deb's path
# as its last line. Needs cmake, a C compiler, help2man and dpkg-deb;
# dpkg-shlibdeps (dpkg-dev) computes Depends from what the binary links,
# else the list below is used. Runs as any user: fakeroot when not root.
#
# The package: /usr/bin/ahead, /usr/share/man/man1/ahead*.1.gz,
# /etc/ahead/policy.ini (a conffile, from examples/host-policy.ini),
# /var/lib/ahead (owned by the system user `ahead`, made by postinst),
# /lib/systemd/system/ahead.service (enabled on install, started only when
# systemd is PID 1; stopped on remove; purge deletes /var/lib/ahead and the
# user).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath -m "${1:-$src/build-deb}")
out=$(realpath -m "${2:-$build}")
pkg=ahead
unit=ahead.service

for tool in cmake dpkg-deb; do
  command -v "$tool" >/dev/null || { echo "build-deb.sh: $tool not found" >&2; exit 1; }
done
command -v help2man >/dev/null || { echo "build-deb.sh: help2man not found (apt-get install help2man)" >&2; exit 1; }

# Configured for /usr: GNUInstallDirs fixes /etc and /var paths at configure
# time, so the prefix must be given here, not to `cmake --install`.
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
  -DAHEAD_MAN=ON -DAHEAD_SYSTEMD_UNIT_DIR=/lib/systemd/system -DAHEAD_STATE_DIR=/var/lib/ahead >/dev/null
cmake --build "$build" -j2 --target ahead_cli man >/dev/null
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
arch=$(dpkg --print-architecture)

stage=$(mktemp -d); trap 'rm -rf "$stage"' EXIT
root=$stage/root
DESTDIR=$root cmake --install "$build" --strip >/dev/null
# Debian policy: man pages and changelogs compressed with gzip -9n (no
# timestamp, reproducible); a copyright file per package.
gzip -9n "$root"/usr/share/man/man1/*.1
install -d "$root/usr/share/doc/$pkg"
install -m 0644 "$src/LICENSE" "$root/usr/share/doc/$pkg/copyright"
date_epoch=${SOURCE_DATE_EPOCH:-$(git -C "$src" log -1 --format=%ct 2>/dev/null || date +%s)}
printf '%s (%s) unstable; urgency=medium\n\n  * Built from the ahead source tree by scripts/build-deb.sh.\n\n -- %s  %s\n' \
  "$pkg" "$version" "ahead developers <ahead@localhost>" "$(date -u -R -d "@$date_epoch")" |
  gzip -9n > "$root/usr/share/doc/$pkg/changelog.gz"
for f in usr/bin/ahead etc/ahead/policy.ini var/lib/ahead lib/systemd/system/$unit; do
  [ -e "$root/$f" ] || { echo "build-deb.sh: $f missing from the install" >&2; exit 1; }
done

# Depends: the shared libraries the binary links, as dpkg-shlibdeps finds
# them (today sqlite, inih, jansson; with ahead serve also libmicrohttpd,
# libsystemd and libcurl, which bring gnutls). adduser: postinst makes the user.
if command -v dpkg-shlibdeps >/dev/null; then
  mkdir -p "$stage/shlibs/debian"
  printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$pkg" "$pkg" > "$stage/shlibs/debian/control"
  shlibs=$(cd "$stage/shlibs" && dpkg-shlibdeps -O "$root/usr/bin/ahead" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
else
  shlibs="libc6, libsqlite3-0, libinih1, libjansson4"
  for lib in libmicrohttpd12 libcurl3-gnutls libsystemd0 libgnutls30 libncursesw6 libtinfo6; do
    case $(objdump -p "$root/usr/bin/ahead" 2>/dev/null) in *"${lib%[0-9]*}"*) shlibs="$shlibs, $lib";; esac
  done
fi
[ -n "$shlibs" ] || { echo "build-deb.sh: could not compute Depends" >&2; exit 1; }

install -d -m 0755 "$root/DEBIAN"
cat > "$root/DEBIAN/control" <<EOF
Package: $pkg
Version: $version
Architecture: $arch
Maintainer: ahead developers <ahead@localhost>
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: $shlibs, adduser
Section: admin
Priority: optional
Description: predictive resource manager
 ahead hands out leases on pooled resources (cpu, memory, io, net and
 custom dimensions) under a policy of pools, priority classes and tenant
 quotas, sizes requests from each workload's usage history and forecasts,
 and serves all of it over an HTTP/JSON API (ahead serve, a systemd unit).
EOF
echo /etc/ahead/policy.ini > "$root/DEBIAN/conffiles"

# Maintainer scripts, in the shape debhelper's dh_installsystemd writes them:
# enabling is recorded with deb-systemd-helper (links only, safe without
# systemd); starting, stopping and daemon-reload only when systemd is PID 1
# (/run/systemd/system exists), so a chroot, container or image build works.
cat > "$root/DEBIAN/postinst" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
  if ! getent passwd ahead >/dev/null; then
    adduser --system --group --quiet --home /var/lib/ahead --no-create-home \
      --gecos "ahead daemon" ahead
  fi
  install -d -o ahead -g ahead -m 0750 /var/lib/ahead
fi
if [ "$1" = configure ] || [ "$1" = abort-upgrade ] || [ "$1" = abort-deconfigure ] || [ "$1" = abort-remove ]; then
  if command -v deb-systemd-helper >/dev/null; then
    deb-systemd-helper unmask ahead.service >/dev/null || true
    if deb-systemd-helper --quiet was-enabled ahead.service; then
      deb-systemd-helper enable ahead.service >/dev/null || true
    else
      deb-systemd-helper update-state ahead.service >/dev/null || true
    fi
  fi
  if [ -d /run/systemd/system ]; then
    systemctl --system daemon-reload >/dev/null || true
    if [ -n "$2" ]; then action=restart; else action=start; fi
    deb-systemd-invoke $action ahead.service >/dev/null || true
  fi
fi
exit 0
EOF
cat > "$root/DEBIAN/prerm" <<'EOF'
#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then
  deb-systemd-invoke stop ahead.service >/dev/null || true
fi
exit 0
EOF
cat > "$root/DEBIAN/postrm" <<'EOF'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
  systemctl --system daemon-reload >/dev/null || true
fi
if [ "$1" = remove ] && command -v deb-systemd-helper >/dev/null; then
  deb-systemd-helper mask ahead.service >/dev/null || true
fi
if [ "$1" = purge ]; then
  if command -v deb-systemd-helper >/dev/null; then
    deb-systemd-helper purge ahead.service >/dev/null || true
    deb-systemd-helper unmask ahead.service >/dev/null || true
  fi
  # the ledger, its shadow store and backups; DynamicUser-style leftovers too
  rm -rf /var/lib/ahead /var/lib/private/ahead
  if getent passwd ahead >/dev/null; then
    if command -v deluser >/dev/null; then deluser --system --quiet ahead || true
    else userdel ahead || true; fi
  fi
  if getent group ahead >/dev/null; then
    if command -v delgroup >/dev/null; then delgroup --system --quiet ahead || true
    else groupdel ahead || true; fi
  fi
fi
exit 0
EOF
chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"

mkdir -p "$out"
deb=$out/${pkg}_${version}_${arch}.deb
fr=""; [ "$(id -u)" -eq 0 ] || fr=fakeroot
# root:root ownership for every file (dpkg-deb --root-owner-group, dpkg >= 1.19).
$fr dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
