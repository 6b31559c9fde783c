#!/bin/bash
# Builds the pinned static musl dependency stack of deps/lock into
#   $CVMINIT_CACHE/deps-<key>/release   tpm2-tss with the device TCTI (the init)
#   $CVMINIT_CACHE/deps-<key>/swtpm     same, tpm2-tss with the swtpm TCTI (host tests)
# each holding include/, lib/*.a and lib/pkgconfig (relocatable .pc files).
# <key> = first 16 hex digits of the SHA-256 over the files listed in KEY_FILES,
# so any change to them builds a new stack. The build runs in a temp dir that
# is renamed into place; the stamp file is written last, so a half-finished
# build is never reused. Logs: $CVMINIT_CACHE/logs/deps-<key>/<component>.log.
#
#   deps/build.sh            build unless the stamp exists
#   deps/build.sh --key      print <key>
#   deps/build.sh --dir      print $CVMINIT_CACHE/deps-<key>
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
CACHE="${CVMINIT_CACHE:-$HOME/.cache/cvminit}"
# Everything that decides the result. (deps.mk computes the same list.)
KEY_FILES="lock build.sh fetch.sh musl-cc"

key=$(cd "$here" && cat $KEY_FILES | sha256sum | cut -c1-16)
DIR="$CACHE/deps-$key"
case "${1:-}" in
	--key) echo "$key"; exit 0;;
	--dir) echo "$DIR"; exit 0;;
	"") ;;
	*) echo "usage: $0 [--key|--dir]" >&2; exit 2;;
esac

if [ -f "$DIR/stamp" ]; then
	echo "deps: up to date: $DIR"
	exit 0
fi
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)   # the jobs change directories
export CVMINIT_CACHE="$CACHE"
DIR="$CACHE/deps-$key"
# One build per key at a time (CI jobs may share the cache).
exec 9>"$CACHE/deps-$key.lock"
if ! flock -n 9; then
	echo "deps: another build of deps-$key is running; waiting for it"
	flock 9
	if [ -f "$DIR/stamp" ]; then echo "deps: up to date: $DIR"; exit 0; fi
fi

LOGS="$CACHE/logs/deps-$key"
JOBS=$(nproc)
MUSL_CC="$here/musl-cc"
t0=$SECONDS

mkdir -p "$CACHE" "$LOGS"
rm -f "$LOGS"/*.log
"$here/fetch.sh"

W=$(mktemp -d "$CACHE/deps-$key.tmp.XXXXXX")
# On failure the temp dir goes (the logs stay), unless CVMINIT_DEPS_KEEP=1.
trap 'rc=$?; [ $rc -eq 0 ] || [ "${CVMINIT_DEPS_KEEP:-0}" = 1 ] || rm -rf "$W"' EXIT

# --- environment: nothing from the host's libraries, same flags everywhere ---
DEST="$W/stage"           # sysroot of finished libraries; prefix /usr inside
STAGE="$DEST/usr"
mkdir -p "$STAGE/lib/pkgconfig" "$STAGE/include"
unset CFLAGS CPPFLAGS LDFLAGS LIBS CXXFLAGS PKG_CONFIG_PATH MAKEFLAGS MFLAGS MAKELEVEL
export LC_ALL=C TZ=UTC
export CC="$MUSL_CC"
export PKG_CONFIG_LIBDIR="$STAGE/lib/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$DEST"
# -Os and per-function sections: the init links with --gc-sections.
# The prefix map keeps this machine's temp paths out of __FILE__ strings.
CFLAGS_COMMON="-Os -ffunction-sections -fdata-sections -fstack-protector-strong -fstack-clash-protection -ffile-prefix-map=$W/=deps/"
AC_ENV=(CC="$MUSL_CC" CFLAGS="$CFLAGS_COMMON" CPPFLAGS="-I$STAGE/include" LDFLAGS="-static -L$STAGE/lib")
AC_DIRS=(--prefix=/usr --libdir=/usr/lib --sysconfdir=/etc --localstatedir=/var --runstatedir=/run
	--disable-shared --enable-static)
CMAKE_COMMON=(-DCMAKE_C_COMPILER="$MUSL_CC" -DCMAKE_BUILD_TYPE=None -DCMAKE_C_FLAGS="$CFLAGS_COMMON"
	-DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_INSTALL_LIBDIR=lib -DBUILD_SHARED_LIBS=OFF
	-DCMAKE_POSITION_INDEPENDENT_CODE=ON)

# Components build as background jobs in two phases (configure scripts are
# serial, so this keeps the cores busy). Each job installs into its own
# DESTDIR, $W/inst/<job>, merged into the stage when its phase is done.
declare -A JOB_PID=() JOB_T0=()
job() {  # job NAME FUNCTION
	local name=$1 fn=$2
	mkdir -p "$W/inst/$name"
	JOB_T0[$name]=$SECONDS
	( INST="$W/inst/$name"; cd "$W"; "$fn"; echo $((SECONDS - JOB_T0[$name])) > "$W/inst/$name.secs" ) \
		>"$LOGS/$name.log" 2>&1 &
	JOB_PID[$name]=$!
}
wait_jobs() {  # waits for every job; reports each; fails if any failed
	local name failed=()
	for name in "${!JOB_PID[@]}"; do
		if wait "${JOB_PID[$name]}"; then
			echo "deps:   $name ok ($(cat "$W/inst/$name.secs") s)"
		else
			failed+=("$name")
		fi
	done
	JOB_PID=() JOB_T0=()
	for name in "${failed[@]}"; do
		echo "deps: FAILED building $name; last lines of $LOGS/$name.log:" >&2
		tail -n 40 "$LOGS/$name.log" | sed 's/^/  | /' >&2
	done
	if [ ${#failed[@]} -gt 0 ]; then
		echo "deps: FAILED building: ${failed[*]} (full logs in $LOGS)" >&2
		return 1
	fi
}
# merge NAME...: adds each job's installed headers, static libs and .pc files to the stage.
merge() {
	local n
	for n in "$@"; do
		[ -d "$W/inst/$n/usr" ] || continue
		find "$W/inst/$n" -name '*.la' -delete
		cp -a "$W/inst/$n/usr/." "$STAGE/"
	done
}

unpack() { "$here/fetch.sh" --unpack "$1" "$W/src/$2"; cd "$W/src/$2"; }

# --- util-linux: libuuid only ---
b_libuuid() {
	unpack util-linux util-linux
	./configure "${AC_ENV[@]}" "${AC_DIRS[@]}" \
		--disable-all-programs --enable-libuuid --disable-libuuid-force-uuidd \
		--disable-nls --disable-asciidoc --disable-bash-completion --disable-poman \
		--without-python --without-systemd --without-udev --without-tinfo \
		--without-ncurses --without-ncursesw --without-readline --without-cap-ng \
		--without-libmagic --without-econf
	make -j"$JOBS" V=1 libuuid.la
	make install-uuidincHEADERS install-usrlib_execLTLIBRARIES install-pkgconfigDATA DESTDIR="$INST"
}

# --- json-c (cmake) ---
b_json_c() {
	unpack json-c json-c
	cmake -S . -B build "${CMAKE_COMMON[@]}" -DBUILD_STATIC_LIBS=ON -DBUILD_TESTING=OFF \
		-DBUILD_APPS=OFF -DDISABLE_WERROR=ON -DDISABLE_EXTRA_LIBS=ON -DENABLE_THREADING=OFF
	make -C build -j"$JOBS"
	make -C build install DESTDIR="$INST"
}

# --- mbedtls 3.6 (cmake; library only, default configuration) ---
b_mbedtls() {
	unpack mbedtls mbedtls
	cmake -S . -B build "${CMAKE_COMMON[@]}" -DENABLE_PROGRAMS=OFF -DENABLE_TESTING=OFF \
		-DUSE_STATIC_MBEDTLS_LIBRARY=ON -DUSE_SHARED_MBEDTLS_LIBRARY=OFF \
		-DMBEDTLS_FATAL_WARNINGS=OFF -DGEN_FILES=OFF
	make -C build -j"$JOBS"
	make -C build install DESTDIR="$INST"
	# 3rdparty helpers only used when enabled in the config (they are not).
	rm -f "$INST"/usr/lib/libeverest.a "$INST"/usr/lib/libp256m.a
}

# --- lvm2: libdevmapper only, no udev sync, no libaio ---
b_libdevmapper() {
	unpack lvm2 lvm2
	# (lvm2's configure knows no --enable-static; --disable-shared is its own option)
	./configure "${AC_ENV[@]}" --prefix=/usr --libdir=/usr/lib --sysconfdir=/etc \
		--localstatedir=/var --runstatedir=/run --enable-static_link \
		--disable-udev_sync --disable-udev_rules --without-udev --without-systemd \
		--disable-selinux --disable-blkid_wiping --without-blkid --disable-readline \
		--disable-nls --enable-pkgconfig --disable-dmeventd --disable-cmdlib \
		--disable-systemd-journal --disable-app-machineid --disable-sd-notify \
		--disable-nvme-wwid --without-libnvme --with-thin=none --with-cache=none \
		--with-vdo=none --with-writecache=none --with-integrity=none
	make -j"$JOBS" V=1 device-mapper
	make -C libdm install_static install_include install_pkgconfig DESTDIR="$INST"
}

# --- cryptsetup: libcryptsetup only, mbedtls backend, internal Argon2 ---
p_cryptsetup() {  # phase 1: generate configure (the tarball is a git snapshot)
	unpack cryptsetup cryptsetup
	./autogen.sh
}
b_libcryptsetup() {
	cd "$W/src/cryptsetup"
	./configure "${AC_ENV[@]}" "${AC_DIRS[@]}" \
		--with-crypto_backend=mbedtls \
		--disable-cryptsetup --disable-veritysetup --disable-integritysetup \
		--disable-ssh-token --disable-external-tokens --disable-asciidoc --disable-nls \
		--disable-selinux --disable-udev --disable-blkid --disable-hw-opal \
		--disable-pwquality --disable-passwdqc --disable-fuzz-targets \
		--with-tmpfilesdir=no \
		ac_cv_lib_popt_poptConfigFileToString=yes
	make -j"$JOBS" V=1 libcryptsetup.la
	make install-libLTLIBRARIES install-includeHEADERS install-pkgconfigDATA DESTDIR="$INST"
}

# --- tpm2-tss: ESYS, SYS, MU, RC, tctildr (no dlopen) and one TCTI ---
p_tpm2_tss() {  # phase 1: generate configure (git snapshot tarball)
	unpack tpm2-tss tpm2-tss
	# bootstrap takes the version from git; the tarball has no .git.
	awk '$1 == "tpm2-tss" { print $4 }' "$here/lock" > VERSION
	sed '/git describe/d' bootstrap > bootstrap.cvminit
	sh ./bootstrap.cvminit
	# tpm2-tss 4.1.3's mbedtls backend writes the ECDH secret Z with its
	# leading zero bytes trimmed; the TPM's KDFe uses Z padded to the curve
	# size, so one salted session in 256 fails its HMAC check ("authorization
	# HMAC check failed"). Pad Z to the size of the curve's prime.
	local f=src/tss2-esys/esys_crypto_mbed.c
	grep -q 'Z->size = mbedtls_mpi_size(&ecp_z);' "$f" || {
		echo "tpm2-tss: the ECDH Z fix no longer applies to $f: check upstream" >&2; return 1; }
	sed -i 's/Z->size = mbedtls_mpi_size(&ecp_z);/Z->size = mbedtls_mpi_size(\&ecp_group.P); \/\* cvminit: padded Z \*\//' "$f"
	grep -q 'cvminit: padded Z' "$f" || { echo "tpm2-tss: the ECDH Z fix did not apply" >&2; return 1; }
}
tss_configure() {  # tss_configure TCTI
	local tcti
	case $1 in
		device) tcti=(--enable-tcti-device --disable-tcti-swtpm);;
		swtpm) tcti=(--disable-tcti-device --enable-tcti-swtpm);;
	esac
	mkdir -p "$W/build/tpm2-tss-$1"
	cd "$W/build/tpm2-tss-$1"
	"$W/src/tpm2-tss/configure" "${AC_ENV[@]}" "${AC_DIRS[@]}" \
		--with-crypto=mbed --enable-nodl --disable-fapi --disable-policy \
		"${tcti[@]}" --disable-tcti-mssim --disable-tcti-pcap --disable-tcti-libtpms \
		--disable-tcti-cmd --disable-tcti-spi-helper --disable-tcti-spi-ltt2go \
		--disable-tcti-spidev --disable-tcti-spi-ftdi --disable-tcti-i2c-helper \
		--disable-tcti-i2c-ftdi --disable-doxygen-doc --disable-unit --disable-integration \
		--with-maxloglevel=error --disable-log-file \
		--with-sysusersdir=no --with-tmpfilesdir=no --with-udevrulesdir=/usr/lib/udev/rules.d
}
b_tpm2_tss() {  # release: device TCTI
	tss_configure device
	make -j"$JOBS" V=1
	make install DESTDIR="$INST"
}
# The swtpm variant: configured with the swtpm TCTI instead of the device one,
# which changes only the TCTI itself and the TCTI loader (tctildr-nodl.c holds
# the list of compiled-in TCTIs; without dlopen ESYS compiles the loader in).
# Phase 2 builds just those; phase 3 takes the release install and swaps them
# in (checked: the two config.h differ only in TCTI_* lines, and the final
# ESYS references the swtpm TCTI and not the device one).
TSS_NODL_ESYS=tss2_esys_libtss2_esys_la-tctildr-nodl
b_tpm2_tss_swtpm() {
	tss_configure swtpm
	make -j"$JOBS" V=1 src/tss2-tcti/libtss2-tcti-swtpm.la src/tss2-tcti/libtss2-tctildr.la \
		"src/tss2-tcti/$TSS_NODL_ESYS.lo"
}
a_tpm2_tss_swtpm() {
	local b="$W/build/tpm2-tss-swtpm" r="$W/build/tpm2-tss-device" u="$INST/usr" obj syms
	if ! diff <(grep -v 'TCTI_' "$r/config.h") <(grep -v 'TCTI_' "$b/config.h"); then
		echo "tpm2-tss: device and swtpm configurations differ beyond TCTI_*: cannot share ESYS" >&2
		return 1
	fi
	cp -a "$W/inst/tpm2-tss/usr" "$INST/"
	rm -f "$u/lib/libtss2-tcti-device.a" "$u/lib/pkgconfig/tss2-tcti-device.pc" \
		"$u/include/tss2/tss2_tcti_device.h"
	cp "$b/src/tss2-tcti/.libs/libtss2-tcti-swtpm.a" "$b/src/tss2-tcti/.libs/libtss2-tctildr.a" "$u/lib/"
	cp "$b/lib/tss2-tcti-swtpm.pc" "$b/lib/tss2-tctildr.pc" "$u/lib/pkgconfig/"
	cp "$W/src/tpm2-tss/include/tss2/tss2_tcti_swtpm.h" "$u/include/tss2/"
	obj="$b/src/tss2-tcti/$TSS_NODL_ESYS.o"
	[ -f "$obj" ] || obj="$b/src/tss2-tcti/.libs/$TSS_NODL_ESYS.o"
	grep -qx "$TSS_NODL_ESYS.o" <<<"$(ar t "$u/lib/libtss2-esys.a")" || {
		echo "tpm2-tss: libtss2-esys.a has no member $TSS_NODL_ESYS.o" >&2; return 1; }
	ar rD "$u/lib/libtss2-esys.a" "$obj"
	syms=$(nm "$u/lib/libtss2-esys.a")
	grep -q ' U Tss2_Tcti_Swtpm_Init$' <<<"$syms" && ! grep -q 'Tss2_Tcti_Device_Init' <<<"$syms" || {
		echo "tpm2-tss: swapped ESYS does not reference exactly the swtpm TCTI" >&2; return 1; }
}

# make_prefix DIR JOB...: the stage plus these jobs' files, as a relocatable prefix.
make_prefix() {
	local d=$1 n; shift
	mkdir -p "$d"
	cp -a "$STAGE/include" "$STAGE/lib" "$d/"
	for n in "$@"; do
		find "$W/inst/$n" -name '*.la' -delete
		cp -a "$W/inst/$n/usr/include" "$W/inst/$n/usr/lib" "$d/"
	done
	rm -rf "$d/lib/cmake" "$d/lib/udev" "$d/share"
	find "$d" \( -name '*.so*' -o -name '*.la' \) -exec rm -f {} +
	# .pc files: prefix relative to their own location, so the tree can move.
	local f
	for f in "$d"/lib/pkgconfig/*.pc; do
		sed -i -e 's|^prefix=.*|prefix=${pcfiledir}/../..|' \
			-e 's|^exec_prefix=/usr$|exec_prefix=${prefix}|' \
			-e 's|^libdir=/usr/lib$|libdir=${prefix}/lib|' \
			-e 's|^includedir=/usr/include$|includedir=${prefix}/include|' "$f"
		if grep -q '=/usr' "$f"; then echo "deps: $f still names /usr" >&2; return 1; fi
	done
}

echo "deps: building the static musl stack (logs: $LOGS)"
job mbedtls b_mbedtls
job libuuid b_libuuid
job json-c b_json_c
job libdevmapper b_libdevmapper
job cryptsetup-autogen p_cryptsetup
job tpm2-tss-bootstrap p_tpm2_tss
wait_jobs
merge mbedtls libuuid json-c libdevmapper
job libcryptsetup b_libcryptsetup
job tpm2-tss b_tpm2_tss
job tpm2-tss-swtpm b_tpm2_tss_swtpm
wait_jobs
merge libcryptsetup
job tpm2-tss-swtpm-assemble a_tpm2_tss_swtpm
wait_jobs

OUT="$W/out"
make_prefix "$OUT/release" tpm2-tss
make_prefix "$OUT/swtpm" tpm2-tss-swtpm-assemble

{
	echo "key $key"
	sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$here/lock" | awk '{ print "component", $1, $4 }'
	echo "cc $(musl-gcc --version | sed -n 1p)"
	echo "musl $(dpkg-query -W -f='${Version}' musl-dev 2>/dev/null || echo unknown)"
	echo "built-in-seconds $((SECONDS - t0))"
} > "$OUT/build-info"

# Into place: rename, then the stamp, last.
rm -rf "$DIR"
mv -T "$OUT" "$DIR"
date -u +%Y-%m-%dT%H:%M:%SZ > "$DIR/stamp"
rm -rf "$W"
echo "deps: done in $((SECONDS - t0)) s: $DIR"
