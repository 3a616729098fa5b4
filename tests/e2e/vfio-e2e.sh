#!/bin/bash
# vfio-e2e.sh BUILD_DIR [SCENARIO...]
#
# End-to-end tests of pcicap on real (emulated) PCI devices behind VFIO, inside
# a QEMU TCG guest: a Debian cloud kernel (fetched with apt-get download and
# unpacked, never installed), a busybox initramfs holding the VFIO modules,
# the library, its capability modules and the scenario programs, and a q35
# machine with an emulated VT-d (intel-iommu), an edu device (MSI) and an
# e1000e (MSI-X). The guest binds both devices to vfio-pci, runs each
# scenario and prints one "E2E RESULT <name> PASS|FAIL" line per scenario on
# its serial console; this script boots it, collects those lines and exits
# 0 only when every selected scenario passed.
#
# Scenarios are defined in tests/e2e/scenarios (format described there and
# in tests/e2e/README.md). Exit status: 0 all passed, 1 any failure,
# 77 skipped (no qemu-system-x86_64, busybox or cpio on this host, unless
# PCICAP_E2E_REQUIRED=1).
#
# Environment (all optional):
#   PCICAP_E2E_CACHE      kernel cache directory (default BUILD_DIR/e2e-cache)
#   PCICAP_E2E_KERNEL_PKG kernel image package (default: what linux-image-cloud-amd64 depends on)
#   PCICAP_E2E_OFFLINE=1  use the newest kernel of the cache without asking apt (saves ~0.7 s)
#   PCICAP_E2E_SCENARIOS  scenario file (default: the scenarios file next to this script)
#   PCICAP_E2E_TIMEOUT    overall limit in seconds for all boots (default 240)
#   PCICAP_E2E_SCENARIO_TIMEOUT  default per-scenario limit in the guest, seconds (default 60)
#   PCICAP_E2E_REQUIRED=1 fail instead of skipping when a host tool is missing
#   PCICAP_E2E_VERBOSE=1  stream the whole guest console while it runs
#   PCICAP_E2E_DRY_RUN=1  only check the scenarios and print the boots they need
#   PCICAP_E2E_QEMU       QEMU binary (default qemu-system-x86_64)
#   PCICAP_E2E_CONSOLE    where the guest console goes (default BUILD_DIR/e2e-console.log)
#
# The host's own PCI devices are never touched: everything VFIO does happens
# inside the guest.
#
# SPDX-License-Identifier: MIT

# bash is needed (associative arrays, EPOCHREALTIME); under sh, start again in bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"

set -u
set -o pipefail
export LC_ALL=C

prog=vfio-e2e
t_start=$EPOCHREALTIME

die() {
	echo "$prog: error: $*" >&2
	exit 1
}

skip() {
	if [ "${PCICAP_E2E_REQUIRED:-0}" = 1 ]; then
		die "$* (PCICAP_E2E_REQUIRED=1, so this is a failure)"
	fi
	echo "$prog: SKIP: $*"
	exit 77
}

note() {
	echo "$prog: $*"
}

# seconds from $1 to $2 (two $EPOCHREALTIME values), with two decimals
span() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'
}

# seconds since t_start (or since $1)
elapsed() {
	span "${1:-$t_start}" "$EPOCHREALTIME"
}

[ $# -ge 1 ] || {
	echo "usage: $0 BUILD_DIR [SCENARIO...]" >&2
	exit 2
}
[ -d "$1" ] || die "build directory '$1' does not exist"
build=$(cd "$1" && pwd -P) || die "cannot enter '$1'"
shift

here=$(cd "$(dirname "$0")" && pwd -P)
scen_file=${PCICAP_E2E_SCENARIOS:-$here/scenarios}
cache=${PCICAP_E2E_CACHE:-$build/e2e-cache}
timeout_all=${PCICAP_E2E_TIMEOUT:-240}
scen_timeout=${PCICAP_E2E_SCENARIO_TIMEOUT:-60}
qemu=${PCICAP_E2E_QEMU:-qemu-system-x86_64}
work=$build/e2e-work
console_log=${PCICAP_E2E_CONSOLE:-$build/e2e-console.log}

# ---------------------------------------------------------------- host tools

command -v "$qemu" >/dev/null 2>&1 || skip "$qemu not found (apt-get install qemu-system-x86)"
busybox=$(command -v busybox) || skip "busybox not found (apt-get install busybox-static)"
command -v cpio >/dev/null 2>&1 || skip "cpio not found (apt-get install cpio)"
for t in ldd timeout awk realpath; do
	command -v $t >/dev/null 2>&1 || die "$t not found"
done

# One run at a time per build directory (work dir, console log, cache).
if command -v flock >/dev/null 2>&1; then
	exec 9>"$build/e2e.lock"
	flock 9
fi

# ---------------------------------------------------------------- scenarios

# A scenario line: name [@option...] [VAR=value...] command [arg...]
# Words are separated by blanks; no quoting, and only the characters below,
# so that the guest shell runs them exactly as written.
[ -f "$scen_file" ] || die "scenario file $scen_file not found"

declare -A s_line s_cmd s_boot s_timeout s_words
s_order=()
lineno=0
while IFS= read -r line || [ -n "$line" ]; do
	lineno=$((lineno + 1))
	line=${line%%#*}
	read -r -a w <<<"$line"
	[ ${#w[@]} -eq 0 ] && continue
	where="$scen_file:$lineno"
	name=${w[0]}
	[[ $name =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]] || die "$where: bad scenario name '$name'"
	[ -z "${s_line[$name]+x}" ] || die "$where: scenario '$name' defined twice"
	intremap=on unsafe="" own="" tmo=$scen_timeout words=() cmd=""
	for x in "${w[@]:1}"; do
		[[ $x =~ ^[A-Za-z0-9_./=:,+@%-]+$ ]] ||
			die "$where: '$x': only letters, digits and _./=:,+@%- are allowed in a scenario"
		if [ -z "$cmd" ] && [ "${x:0:1}" = @ ]; then
			case $x in
			@unsafe-interrupts) unsafe=,unsafe-interrupts ;;
			@own-boot) own=",own-boot=$name" ;;
			@intremap=on | @intremap=off) intremap=${x#@intremap=} ;;
			@timeout=*)
				tmo=${x#@timeout=}
				[[ $tmo =~ ^[1-9][0-9]*$ ]] || die "$where: bad $x"
				;;
			*) die "$where: unknown option $x (known: @unsafe-interrupts @intremap=on|off @own-boot @timeout=SECONDS)" ;;
			esac
			continue
		fi
		[ -z "$cmd" ] && [[ ! $x =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] && cmd=$x
		words+=("$x")
	done
	[ -n "$cmd" ] || die "$where: scenario '$name' has no command"
	case $cmd in
	/* | ../* | */../*) die "$where: the command must be a path relative to the build directory: $cmd" ;;
	esac
	s_line[$name]=$lineno
	s_cmd[$name]=$cmd
	s_boot[$name]=intremap=$intremap$unsafe$own
	s_timeout[$name]=$tmo
	s_words[$name]="${words[*]}"
	s_order+=("$name")
done <"$scen_file"

if [ $# -gt 0 ]; then
	selected=()
	declare -A seen
	for name in "$@"; do
		[ -n "${s_line[$name]+x}" ] || die "unknown scenario '$name' (known: ${s_order[*]})"
		[ -z "${seen[$name]+x}" ] || die "scenario '$name' selected twice"
		seen[$name]=1
		selected+=("$name")
	done
else
	selected=("${s_order[@]}")
fi
[ ${#selected[@]} -gt 0 ] || die "no scenarios in $scen_file"

# Each selected scenario's program must have been built.
for name in "${selected[@]}"; do
	cmd=${s_cmd[$name]}
	[ -f "$build/$cmd" ] || die "scenario '$name' ($scen_file:${s_line[$name]}): $build/$cmd does not exist (not built? guest programs belong in e2e_guest_exes in tests/e2e/meson.build)"
	[ -x "$build/$cmd" ] || die "scenario '$name' ($scen_file:${s_line[$name]}): $build/$cmd is not executable"
done

# Scenarios with the same boot options share one boot; boots come in the
# order of their first scenario, scenarios in the order selected.
boots=()
declare -A boot_id boot_names s_bootid
for name in "${selected[@]}"; do
	b=${s_boot[$name]}
	if [ -z "${boot_id[$b]+x}" ]; then
		boot_id[$b]=${#boots[@]}
		boots+=("$b")
	fi
	s_bootid[$name]=${boot_id[$b]}
	boot_names[$b]="${boot_names[$b]:+${boot_names[$b]},}$name"
done

if [ "${PCICAP_E2E_DRY_RUN:-0}" = 1 ]; then
	for b in "${boots[@]}"; do
		note "boot ${boot_id[$b]} ($b): ${boot_names[$b]}"
	done
	exit 0
fi

# ---------------------------------------------------------------- kernel

# The kernel comes from a Debian package that is downloaded and unpacked into
# the cache, never installed. The cache keeps, per package version, only the
# kernel image, the VFIO modules (decompressed) and the kernel config.
vfio_modules=(irqbypass vfio vfio_iommu_type1 vfio_virqfd vfio-pci-core vfio-pci)

kernel_from_cache() {
	# newest complete entry, for when apt cannot tell the current package
	local d
	d=$(ls -1dt "$cache"/*/complete 2>/dev/null | head -n 1)
	[ -n "$d" ] && dirname "$d"
}

fetch_kernel() {
	local pkg=${PCICAP_E2E_KERNEL_PKG:-} ver="" kdir tmp deb kver m f dep
	if [ "${PCICAP_E2E_OFFLINE:-0}" = 1 ]; then
		kdir=$(kernel_from_cache) || die "PCICAP_E2E_OFFLINE=1 but $cache holds no kernel"
		echo "$kdir"
		return
	fi
	if [ -z "$pkg" ] && command -v apt-cache >/dev/null 2>&1; then
		# "Depends: linux-image-6.1.0-56-cloud-amd64 (= 6.1.192-2)": one
		# apt-cache call (they cost about 0.5 s each) gives name and version
		dep=$(apt-cache show --no-all-versions linux-image-cloud-amd64 2>/dev/null |
			awk '$1 == "Depends:" { print; exit }')
		if [[ $dep =~ (linux-image-[^ ,]*)( \(= ([^ \)]*)\))? ]]; then
			pkg=${BASH_REMATCH[1]}
			ver=${BASH_REMATCH[3]}
		fi
	fi
	if [ -z "$pkg" ]; then
		kdir=$(kernel_from_cache) || die "cannot find the Debian cloud kernel package (apt-cache show linux-image-cloud-amd64 gave nothing: run apt-get update?) and $cache holds no kernel"
		note "apt does not know linux-image-cloud-amd64; using the cached $(basename "$kdir")" >&2
		echo "$kdir"
		return
	fi
	[ -n "$ver" ] || ver=$(apt-cache policy "$pkg" 2>/dev/null | awk '$1 == "Candidate:" { print $2; exit }')
	if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
		kdir=$(ls -1dt "$cache/${pkg}_"*/complete 2>/dev/null | head -n 1)
		[ -n "$kdir" ] || die "apt has no candidate version of $pkg and $cache holds none"
		dirname "$kdir"
		return
	fi
	kdir=$cache/${pkg}_$ver
	if [ -f "$kdir/complete" ]; then
		echo "$kdir"
		return
	fi
	mkdir -p "$cache" || die "cannot create $cache"
	tmp=$(mktemp -d "$cache/.fetch.XXXXXX") || die "mktemp in $cache failed"
	note "downloading $pkg $ver into $cache (once)" >&2
	(cd "$tmp" && apt-get download "$pkg=$ver") >&2 ||
		{ rm -rf "$tmp"; die "apt-get download $pkg=$ver failed"; }
	deb=$(ls "$tmp"/*.deb 2>/dev/null | head -n 1)
	[ -n "$deb" ] || { rm -rf "$tmp"; die "apt-get download left no .deb"; }
	command -v dpkg-deb >/dev/null 2>&1 || { rm -rf "$tmp"; die "dpkg-deb not found"; }
	dpkg-deb -x "$deb" "$tmp/x" || { rm -rf "$tmp"; die "dpkg-deb -x $deb failed"; }
	mkdir -p "$tmp/k/modules"
	f=$(ls "$tmp"/x/boot/vmlinuz-* 2>/dev/null | head -n 1)
	[ -n "$f" ] || { rm -rf "$tmp"; die "$pkg has no /boot/vmlinuz-*"; }
	kver=${f##*/vmlinuz-}
	mv "$f" "$tmp/k/vmlinuz"
	cp "$tmp/x/boot/config-$kver" "$tmp/k/config" 2>/dev/null
	echo "$kver" >"$tmp/k/kver"
	local mdir=$tmp/x/lib/modules/$kver
	[ -d "$mdir" ] || mdir=$tmp/x/usr/lib/modules/$kver
	for m in "${vfio_modules[@]}"; do
		f=$(find "$mdir/kernel" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" \
			-o -name "$m.ko.gz" 2>/dev/null | head -n 1)
		if [ -z "$f" ]; then
			# built into the kernel (as vfio_virqfd is in later kernels)?
			if grep -q "/${m}.ko\$" "$mdir/modules.builtin" 2>/dev/null ||
				grep -q "/$(echo "$m" | tr _ -).ko\$" "$mdir/modules.builtin" 2>/dev/null; then
				continue
			fi
			rm -rf "$tmp"
			die "$pkg has no $m module"
		fi
		case $f in
		*.ko) cp "$f" "$tmp/k/modules/$m.ko" ;;
		*.xz) xz -dc "$f" >"$tmp/k/modules/$m.ko" ;;
		*.zst) zstd -qdc "$f" >"$tmp/k/modules/$m.ko" ;;
		*.gz) gzip -dc "$f" >"$tmp/k/modules/$m.ko" ;;
		esac || { rm -rf "$tmp"; die "cannot decompress $f"; }
	done
	echo "$pkg $ver" >"$tmp/k/package"
	touch "$tmp/k/complete"
	rm -rf "$kdir"
	mv "$tmp/k" "$kdir" || die "cannot move the kernel into $kdir"
	rm -rf "$tmp"
	echo "$kdir"
}

t_kernel=$EPOCHREALTIME
kdir=$(fetch_kernel) || exit 1
[ -f "$kdir/vmlinuz" ] || die "no kernel in $kdir"
note "kernel: $(cat "$kdir/package" 2>/dev/null) ($(elapsed "$t_kernel") s)"

# ---------------------------------------------------------------- initramfs

t_initrd=$EPOCHREALTIME
rm -rf "$work"
root=$work/root
mkdir -p "$root"/{bin,dev,proc,sys,tmp,e2e,lib/modules,lib/pcicap,pcicap} || die "cannot create $root"

declare -A copied

# guest path of a host file: files of the build tree go to /pcicap/<relative
# path> (so relative paths and $ORIGIN run paths work as on the host), other
# files keep their path.
guest_path() {
	local p
	p=$(realpath -s "$1")
	case $p in
	"$build"/*) echo "/pcicap/${p#"$build"/}" ;;
	*) echo "$p" ;;
	esac
}

# copy one file (following symlinks) to the guest path, once
put() {
	local src=$1 dst=$2
	[ -n "${copied[$dst]+x}" ] && return 0
	[ -e "$root$dst" ] && { copied[$dst]=1; return 0; }
	mkdir -p "$root$(dirname "$dst")" && cp -L "$src" "$root$dst" ||
		die "cannot copy $src into the initramfs"
	copied[$dst]=1
}

# copy a file and, if it is a dynamic ELF object, every library ldd finds for
# it (at its path) and the dynamic loader
put_with_deps() {
	local src=$1 dst=$2 out l p
	put "$src" "$dst"
	[ "$(head -c 4 "$src" | od -An -c | tr -d ' ')" = '177ELF' ] || return 0
	out=$(ldd "$src" 2>&1) || return 0 # static or not loadable: nothing to add
	while IFS= read -r l; do
		case $l in
		*"=> not found"*) die "$src: shared library ${l%% =>*} not found (ldd)" ;;
		*"=> /"*) p=${l#*=> }; p=${p%% (*} ;;
		*/*" ("*) p=${l%% (*}; p=${p#"${p%%[! 	]*}"} ;;
		*) continue ;;
		esac
		put "$p" "$(guest_path "$p")"
	done <<<"$out"
}

# busybox; /init makes the symlinks of its applets in the guest (one
# "busybox --install -s" there instead of 270 ln processes here)
put_with_deps "$busybox" /bin/busybox
ln -s busybox "$root/bin/sh"
applets=" $("$busybox" --list | tr '\n' ' ') "
for a in sh mount insmod poweroff timeout readlink cat sed cut env; do
	[[ $applets == *" $a "* ]] || die "$busybox lacks the '$a' applet"
done

# VFIO modules, in load order
modlist=()
for m in "${vfio_modules[@]}"; do
	[ -f "$kdir/modules/$m.ko" ] || continue
	cp "$kdir/modules/$m.ko" "$root/lib/modules/" || die "cannot copy $m.ko"
	modlist+=("$m")
done

# the library and its capability modules
libs=("$build"/lib/libpcicap.so*)
[ -e "${libs[0]}" ] || die "$build/lib/libpcicap.so* not found: build the project first"
mkdir -p "$root/pcicap/lib"
for f in "${libs[@]}"; do
	[ -d "$f" ] && continue
	cp -P "$f" "$root/pcicap/lib/" || die "cannot copy $f"
	copied[/pcicap/lib/${f##*/}]=1
done
for f in "${libs[@]}"; do
	[ -f "$f" ] && [ ! -L "$f" ] && put_with_deps "$f" "/pcicap/lib/${f##*/}"
done
mods=("$build"/cap_modules/pci_cap-0x*.so)
[ -e "${mods[0]}" ] || die "$build/cap_modules/pci_cap-0x*.so not found: build the project first"
for f in "${mods[@]}"; do
	put_with_deps "$f" "/lib/pcicap/${f##*/}"
done

# the scenarios' programs: the command must exist in the build tree; any
# argument or VAR=value value that names a file of the build tree comes too
for name in "${selected[@]}"; do
	read -r -a w <<<"${s_words[$name]}"
	cmd=""
	for x in "${w[@]}"; do
		v=$x
		if [ -z "$cmd" ] && [[ $x =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; then
			v=${x#*=}
		elif [ -z "$cmd" ]; then
			cmd=$x
		fi
		v=${v#./}
		[ -n "$v" ] && [ -f "$build/$v" ] && put_with_deps "$build/$v" "/pcicap/$v"
	done
done
# the guest's list: boot name timeout words...
for name in "${selected[@]}"; do
	printf '%s %s %s %s\n' "${s_bootid[$name]}" "$name" "${s_timeout[$name]}" "${s_words[$name]}" \
		>>"$root/e2e/scenarios"
done

# /init
cat >"$root/init" <<EOF
#!/bin/sh
# /init of the pcicap VFIO end-to-end guest, generated by tests/e2e/vfio-e2e.sh
export PATH=/bin
/bin/busybox --install -s /bin
MODULES="${modlist[*]}"
EOF
cat >>"$root/init" <<'EOF'
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "E2E INIT uptime $(cut -d' ' -f1 /proc/uptime) s"

# milliseconds of monotonic time (ns from timer_list, else 10 ms steps)
now_ms() {
	local ns
	ns=$(sed -n '3s/^now at \([0-9]*\) nsecs$/\1/p' /proc/timer_list 2>/dev/null)
	if [ -n "$ns" ] && [ ${#ns} -gt 6 ]; then
		echo "${ns%??????}"
	else
		local u
		u=$(cut -d' ' -f1 /proc/uptime)
		echo $(( ${u%.*} * 1000 + (1${u#*.} - 100) * 10 ))
	fi
}

boot="" unsafe=0
for w in $(cat /proc/cmdline); do
	case $w in
	pcicap_e2e.boot=*) boot=${w#*=} ;;
	pcicap_e2e.unsafe_interrupts=1) unsafe=1 ;;
	esac
done

for m in $MODULES; do
	arg=""
	[ "$m" = vfio_iommu_type1 ] && [ $unsafe = 1 ] && arg=allow_unsafe_interrupts=1
	insmod /lib/modules/$m.ko $arg || echo "E2E WARN insmod $m.ko $arg failed"
done
[ $unsafe = 1 ] && echo "E2E NOTE vfio_iommu_type1 allow_unsafe_interrupts=$(cat /sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts)"

# bind the first function with these IDs to vfio-pci; print its address
bind() {
	local d bdf drv grp
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat $d/vendor)" = "0x$1" ] && [ "$(cat $d/device)" = "0x$2" ] || continue
		bdf=${d##*/}
		echo vfio-pci >$d/driver_override
		if [ -e $d/driver ]; then
			drv=$(readlink $d/driver)
			[ "${drv##*/}" = vfio-pci ] || echo $bdf >$d/driver/unbind
		fi
		[ -e $d/driver ] || echo $bdf >/sys/bus/pci/drivers_probe
		drv=$(readlink $d/driver 2>/dev/null)
		grp=$(readlink $d/iommu_group 2>/dev/null)
		if [ "${drv##*/}" = vfio-pci ] && [ -c /dev/vfio/${grp##*/} ]; then
			echo "E2E BIND $1:$2 $bdf vfio-pci group ${grp##*/}" >&2
		else
			echo "E2E WARN $1:$2 $bdf: not bound to vfio-pci (driver '${drv##*/}', group '${grp##*/}')" >&2
		fi
		echo $bdf
		return 0
	done
	echo "E2E WARN no device $1:$2" >&2
}
export PCICAP_E2E_EDU=$(bind 1234 11e8)
export PCICAP_E2E_E1000E=$(bind 8086 10d3)
export PCI_HW_MODULE=vfio
export PCI_CAP_MODULE_DIR=/lib/pcicap
export PCICAP_RUNTIME_DIR=/tmp/pcicap
export LD_LIBRARY_PATH=/pcicap/lib
export HOME=/tmp
mkdir -p $PCICAP_RUNTIME_DIR

while read b name tmo words; do
	[ "$b" = "$boot" ] || continue
	echo "E2E RUN $name: $words"
	dmesg -c >/dev/null
	t0=$(now_ms)
	(cd /pcicap && exec timeout -s KILL $tmo env $words </dev/null)
	rc=$?
	ms=$(( $(now_ms) - t0 ))
	if [ $rc = 0 ]; then
		verdict="PASS ($ms ms)"
	elif [ $rc = 137 ] && [ $ms -ge $((tmo * 1000)) ]; then
		verdict="FAIL (timeout after $tmo s)"
	else
		verdict="FAIL (exit $rc)"
	fi
	# on failure, the kernel's messages of all levels since the scenario began
	[ $rc = 0 ] || dmesg | sed "s/^/E2E DMESG $name: /"
	echo "E2E RESULT $name $verdict"
done </e2e/scenarios
echo "E2E DONE"
poweroff -f
EOF
chmod 755 "$root/init"

(cd "$root" && find . | cpio -o -H newc -R 0:0 --quiet) >"$work/initramfs.cpio" ||
	die "cpio failed"
note "initramfs: $(du -k "$work/initramfs.cpio" | cut -f1) KiB, ${#copied[@]} files copied ($(elapsed "$t_initrd") s)"

# ---------------------------------------------------------------- boot

bios=()
for f in /usr/share/qemu/qboot.rom /usr/share/qboot/bios.bin; do
	[ -f "$f" ] && { bios=(-bios "$f"); break; }
done

: >"$console_log" || die "cannot write $console_log"
deadline=$(awk -v t="$t_start" -v n="$timeout_all" 'BEGIN { printf "%d", t + n }')
boot_failed=0
summary=()

for b in "${boots[@]}"; do
	names=${boot_names[$b]}
	intremap=on
	append="console=ttyS0 intel_iommu=on panic=-1 loglevel=4 pcicap_e2e.boot=${boot_id[$b]}"
	case ,$b, in *,intremap=off,*) intremap=off ;; esac
	case ,$b, in *,unsafe-interrupts,*) append="$append pcicap_e2e.unsafe_interrupts=1" ;; esac
	left=$((deadline - ${EPOCHREALTIME%.*}))
	if [ $left -le 0 ]; then
		note "TIMEOUT: the overall limit of ${timeout_all} s was reached before booting for: $names"
		boot_failed=1
		break
	fi
	qcmd=("$qemu" -machine q35 -accel tcg -cpu max -smp 1 -m 256M "${bios[@]}"
		-nodefaults -no-user-config -display none -serial stdio -no-reboot
		-device "intel-iommu,intremap=$intremap"
		-device edu
		-device e1000e,netdev=n0 -netdev user,id=n0,restrict=on
		-kernel "$kdir/vmlinuz" -initrd "$work/initramfs.cpio"
		-append "$append")
	echo "### boot ${boot_id[$b]}: $names ($b)" >>"$console_log"
	echo "### ${qcmd[*]}" >>"$console_log"
	t_boot=$EPOCHREALTIME
	t_init="" rc="" panicked="" done=""
	while IFS= read -r l || [ -n "$l" ]; do
		l=${l%$'\r'}
		if [[ $l =~ ^"### qemu exit status "([0-9]+)$ ]]; then
			rc=${BASH_REMATCH[1]}
		fi
		[ -z "$t_init" ] && [[ $l == "E2E INIT"* ]] && t_init=$EPOCHREALTIME
		[[ $l == "E2E DONE" ]] && done=1
		[ -z "$panicked" ] && [[ $l == *"Kernel panic - "* ]] && panicked=${l#*Kernel panic - }
		printf '%s\n' "$l" >>"$console_log"
		[ "${PCICAP_E2E_VERBOSE:-0}" = 1 ] && printf '%s\n' "$l"
	done < <(timeout --foreground -k 5 "$left" "${qcmd[@]}" </dev/null 2>&1; echo "### qemu exit status $?")
	t_end=$EPOCHREALTIME
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		note "TIMEOUT: QEMU killed after the overall limit of ${timeout_all} s (boot for: $names)"
		boot_failed=1
	elif [ "$rc" != 0 ]; then
		note "QEMU failed with exit status $rc (boot for: $names)"
		boot_failed=1
	fi
	if [ -n "$panicked" ]; then
		note "the guest kernel panicked: $panicked (boot for: $names)"
		boot_failed=1
	elif [ -z "$done" ] && [ "$rc" = 0 ]; then
		note "the guest stopped before the end of its /init (boot for: $names)"
		boot_failed=1
	fi
	to_init=never
	[ -n "$t_init" ] && to_init="$(span "$t_boot" "$t_init") s"
	summary+=("boot [$names]: QEMU start to /init $to_init, to exit $(span "$t_boot" "$t_end") s")
done

# ---------------------------------------------------------------- verdict

failed=0
echo
for name in "${selected[@]}"; do
	# (from "E2E RESULT" on: a scenario's last line may lack its newline)
	res=$(awk -v n="$name" 'i = index($0, "E2E RESULT ") {
		$0 = substr($0, i)
		if ($3 == n && ($4 == "PASS" || $4 == "FAIL")) print
	}' "$console_log")
	n=$(printf '%s' "$res" | grep -c .)
	if [ "$n" = 0 ]; then
		echo "E2E RESULT $name FAIL (no result line on the console)"
		failed=1
	elif [ "$n" != 1 ]; then
		printf '%s\n' "$res"
		echo "E2E RESULT $name FAIL ($n result lines on the console)"
		failed=1
	else
		echo "$res"
		[[ $res == "E2E RESULT $name PASS"* ]] || failed=1
	fi
done
[ $boot_failed = 0 ] || failed=1

if [ $failed != 0 ] && [ "${PCICAP_E2E_VERBOSE:-0}" != 1 ]; then
	echo
	echo "---- guest console ($console_log) ----"
	cat "$console_log"
	echo "---- end of guest console ----"
fi
echo
for s in "${summary[@]}"; do
	note "$s"
done
note "total wall time $(elapsed) s; console in $console_log"
if [ $failed != 0 ]; then
	note "FAILED"
	exit 1
fi
note "all ${#selected[@]} scenario(s) passed"
exit 0
