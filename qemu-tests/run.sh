#!/bin/bash
# Runs QEMU scenarios: qemu-tests/scenarios/NAME.sh, all of them (sorted) when
# no NAME is given. Each runs in a fresh build/qemu/NAME/ (its output, console
# log and images stay there), and is reported as exactly one line
#   ok - qemu/NAME        or        not ok - qemu/NAME
# (a scenario passes when it exits 0), its "# " diagnostics above that line.
# Ends with "N passed, N failed"; exits 1 if any failed.
#
#   qemu-tests/run.sh [-v] [-j N] [NAME...]
#       -v    show each scenario's full output
#       -j N  run up to N scenarios at once (default $QEMU_JOBS or 1); the
#             output order stays the order of the names
#
# Needs: the kernel (make kernel), build/standin, build/init-test,
# build/cvminit (make qemu-check builds them all first).
set -u
here=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$here/.." && pwd)
export REPO
cd "$REPO" || exit 2

verbose=0
jobs=${QEMU_JOBS:-1}
scenario_timeout=${SCENARIO_TIMEOUT:-600}   # a whole scenario, builds included
while [ $# -gt 0 ]; do
	case "$1" in
	-v) verbose=1; shift ;;
	-j) jobs=$2; shift 2 ;;
	-j*) jobs=${1#-j}; shift ;;
	*) break ;;
	esac
done
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: -j wants a positive number" >&2; exit 2; }

if [ $# -eq 0 ]; then
	set --
	for f in "$here"/scenarios/*.sh; do
		[ -e "$f" ] && set -- "$@" "$(basename "$f" .sh)"
	done
fi

kdir=$("$here/kernel.sh" dir)
kver=$("$here/kernel.sh" kver)
export KERNEL_VER=${KERNEL_VER:-$kver}
export KERNEL_IMAGE=${KERNEL_IMAGE:-$kdir/vmlinuz}
export KERNEL_MODDIR=${KERNEL_MODDIR:-$kdir/lib/modules/$kver}
export INIT_TEST=${INIT_TEST:-$REPO/build/init-test}
export INIT_RELEASE=${INIT_RELEASE:-$REPO/build/init}
export CVMINIT=${CVMINIT:-$REPO/build/cvminit}
export STANDIN=${STANDIN:-$REPO/build/standin}
if [ ! -f "$KERNEL_IMAGE" ]; then
	echo "# kernel $KERNEL_IMAGE missing: run 'make kernel'"
fi

# run_one NAME: runs one scenario; its exit status goes to WORK/rc.
run_one() {
	local name=$1 work="$REPO/build/qemu/$1" t0 rc
	t0=$EPOCHREALTIME
	(cd "$work" && WORK="$work" NAME="$name" timeout -k 10 "$scenario_timeout" \
		bash "$here/scenarios/$name.sh") >"$work/scenario.out" 2>&1
	rc=$?
	[ "$rc" -eq 124 ] && echo "# $name: stopped after ${scenario_timeout} s (SCENARIO_TIMEOUT)" >>"$work/scenario.out"
	awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f\n", b - a }' > "$work/seconds"
	echo "$rc" > "$work/rc"
}

# report NAME: prints the scenario's result line (and diagnostics if it failed).
report() {
	local name=$1 work="$REPO/build/qemu/$1" rc
	rc=$(cat "$work/rc" 2>/dev/null || echo 99)
	if [ "$verbose" = 1 ]; then
		sed 's/^/# /; s/^# # /# /' "$work/scenario.out"
	elif [ "$rc" -ne 0 ]; then
		# the scenario's diagnostics; anything else it printed stays in scenario.out
		grep '^#' "$work/scenario.out" || tail -n 15 "$work/scenario.out" | sed 's/^/# /'
	fi
	if [ "$rc" -eq 0 ]; then
		echo "ok - qemu/$name"
		passed=$((passed + 1))
	else
		echo "# qemu/$name: exit $rc after $(cat "$work/seconds" 2>/dev/null || echo ?) s; see build/qemu/$name/"
		echo "not ok - qemu/$name"
		failed=$((failed + 1))
	fi
}

passed=0 failed=0
names=()
for name in "$@"; do
	if [ ! -f "$here/scenarios/$name.sh" ]; then
		echo "# no scenario qemu-tests/scenarios/$name.sh"
		echo "not ok - qemu/$name"
		failed=$((failed + 1))
		continue
	fi
	[[ " ${names[*]-} " == *" $name "* ]] && continue   # once each
	names+=("$name")
	# fresh work dirs, before any scenario starts (the parallel runner looks
	# for each one's rc file)
	rm -rf "$REPO/build/qemu/$name"
	mkdir -p "$REPO/build/qemu/$name"
done

if [ "$jobs" -le 1 ]; then
	for name in ${names[@]+"${names[@]}"}; do
		run_one "$name"
		report "$name"
	done
else
	# Up to $jobs VMs at once (TCG runs each on one host thread); results are
	# printed in the given order as soon as each one and those before it ended.
	next=0
	running=0
	for i in "${!names[@]}"; do
		if [ "$running" -ge "$jobs" ]; then
			wait -n
			running=$((running - 1))
		fi
		run_one "${names[$i]}" &
		running=$((running + 1))
		while [ "$next" -lt "${#names[@]}" ] && [ -f "$REPO/build/qemu/${names[$next]}/rc" ]; do
			report "${names[$next]}"
			next=$((next + 1))
		done
	done
	wait
	while [ "$next" -lt "${#names[@]}" ]; do
		report "${names[$next]}"
		next=$((next + 1))
	done
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
