# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# fetch-deb.sh: sourced by scripts/setup.sh and scripts/build-peers.sh.
# Downloads Debian packages of other suites WITHOUT installing them or
# touching the system's apt sources: a private sources list and list
# directory under $apt_dir, `apt-get download`, and a pinned SHA-256.
#
# The caller sets $cache, defines say() and die(), and has sourced
# kernel-patches/guest-kernel.env; $EXTRA_SUITES (optional, space-separated)
# adds binary suites to the private view.

apt_dir=$cache/apt
apt_opts=(-o "Dir::Etc::sourcelist=$apt_dir/sources.list"
          -o Dir::Etc::sourceparts=/dev/null
          -o "Dir::State::Lists=$apt_dir/lists"
          -o "Dir::Cache=$apt_dir/cache"
          -o APT::Sandbox::User=root -q=2)
apt_ready=0
private_apt() {
  [ $apt_ready -eq 1 ] && return
  local suites s
  suites=$(printf '%s\n' "$GUEST_KERNEL_SUITE" "${OLDEST_KERNEL_SUITE:-}" "$BPFTOOL_SUITE" ${EXTRA_SUITES:-} | awk 'NF && !seen[$0]++')
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/dl"
  {
    for s in $suites; do echo "deb http://deb.debian.org/debian $s main"; done
    echo "deb-src http://deb.debian.org/debian $LIBBPF_SRC_SUITE main"
  } >"$apt_dir/sources.list"
  say "refreshing private package lists ($(echo $suites), $LIBBPF_SRC_SUITE sources)"
  apt-get "${apt_opts[@]}" update || die "cannot read Debian's package lists for $(echo $suites): check network access to deb.debian.org."
  apt_ready=1
}

# fetch_deb PKG VERSION SHA256 [ARCH]: sets $deb to the verified .deb in
# $apt_dir/dl. ARCH is amd64 unless given (arch-independent packages: all).
fetch_deb() {
  local pkg=$1 ver=$2 sum=$3 arch=${4:-amd64} f
  f=$apt_dir/dl/${pkg}_${ver//:/%3a}_${arch}.deb
  if [ ! -f "$f" ] || ! echo "$sum  $f" | sha256sum -c --status; then
    private_apt
    (cd "$apt_dir/dl" && apt-get "${apt_opts[@]}" download "$pkg=$ver") \
      || die "cannot download $pkg=$ver: it may have left the archive; pick a newer version and update its pin (kernel-patches/guest-kernel.env or bench/peers/peers.env)."
  fi
  echo "$sum  $f" | sha256sum -c --status \
    || die "SHA-256 mismatch for $f (expected $sum): refusing to use it."
  deb=$f
}
