# shellcheck shell=bash
# Sourced by bundle-libs.sh and check-self-contained.sh: the base set, i.e. the shared
# libraries the self-contained packages (npm, Maven, NuGet) expect on the machine instead of
# carrying them. docs/packaging.md explains the choice. Everything else libparley needs is
# bundled next to it.
#
#   glibc           libc6: the C library, the dynamic loader, libm, libpthread, libdl, ...
#   C++ runtime     libstdc++6, libgcc-s1 (the host's own runtime must be the one in use)
#   HTTP and TLS    libcurl4 (OpenSSL flavour), libssl3, zlib1g: certificates, TLS policy
#                   and security fixes must come from the distribution, not from us
#
# plus whatever those packages themselves depend on (libcurl4's nghttp2, idn2, krb5, ...):
# a package manager installs them with libcurl4, so a bundled copy would never be used.

PARLEY_BASE_SONAMES=(
  # glibc (Debian: libc6)
  linux-vdso.so.1 ld-linux-x86-64.so.2 ld-linux-aarch64.so.1
  libc.so.6 libm.so.6 libmvec.so.1 libdl.so.2 libpthread.so.0 librt.so.1 libresolv.so.2
  libutil.so.1 libanl.so.1 libnsl.so.1 libBrokenLocale.so.1 libthread_db.so.1
  # the C++ runtime (libstdc++6, libgcc-s1)
  libstdc++.so.6 libgcc_s.so.1
  # HTTP and TLS (libcurl4, libssl3, zlib1g)
  libcurl.so.4 libssl.so.3 libcrypto.so.3 libz.so.1
)

# is_base SONAME: true when SONAME is one of the base set's own libraries.
is_base() {
  local soname
  for soname in "${PARLEY_BASE_SONAMES[@]}"; do
    [[ "$1" == "$soname" ]] && return 0
  done
  return 1
}

# base_closure: prints the sonames of the base set and of everything the base set's
# libraries load on this machine (one per line, sorted). These may resolve outside a
# package: on a target machine they come with the base packages.
base_closure() {
  local soname path
  {
    printf '%s\n' "${PARLEY_BASE_SONAMES[@]}"
    for soname in "${PARLEY_BASE_SONAMES[@]}"; do
      path="$(system_library_path "$soname")" || continue
      LD_LIBRARY_PATH="" ldd "$path" 2>/dev/null | awk '$2 == "=>" { print $1 } $2 != "=>" && NF >= 2 { n = split($1, p, "/"); print p[n] }'
    done
  } | sort -u
}

# system_library_path SONAME: where the dynamic loader's cache says SONAME is (this
# machine's architecture only); fails when it is not installed.
system_library_path() {
  local machine
  case "$(uname -m)" in
    x86_64) machine="x86-64" ;;
    aarch64) machine="AArch64" ;;
    *) machine="" ;;
  esac
  local path
  path="$(ldconfig -p | awk -v name="$1" -v machine="$machine" \
    '$1 == name && (machine == "" || index($0, machine)) { print $NF; exit }')"
  [[ -n "$path" && -e "$path" ]] || return 1
  echo "$path"
}

# is_elf FILE: true when FILE is an ELF object.
is_elf() {
  [[ -f "$1" && ! -L "$1" ]] && [[ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" == '177ELF' ]]
}

# needed_sonames ELF: the ELF's direct DT_NEEDED entries, one per line.
needed_sonames() {
  readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'
}
