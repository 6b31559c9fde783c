#!/bin/bash
# dracut module "cvminit": cvminit becomes /init, the whole initramfs program.
# There is no systemd, no udev and no shell in the image: the kernel runs
# cvminit as PID 1, it loads the kernel modules listed in
# /etc/cvminit/modules.load, verifies and unlocks the disk, and switch_roots
# into the launcher. See initramfs/README.md ("Distro integration").
#
#   dracut -m cvminit --kver KVER [--no-hostonly] [--reproducible] OUTPUT
#
# "-m cvminit" (or dracutmodules="cvminit" in a dracut.conf.d file) makes
# cvminit the only dracut module; check() returns 255, so the module is never
# picked by a generic "dracut" run, and install() refuses to share the image
# with a module that brings its own /init (base, systemd, ...).
#
# Build-time settings (the environment, or plain assignments in a
# /etc/dracut.conf.d/*.conf file, which dracut sources):
#   CVMINIT_CONFIG   the configuration, embedded as /etc/cvminit/cvminit.conf
#                    (default /etc/cvminit/cvminit.conf; required)
#   CVMINIT_INIT     the init binary (default <libdir>/init: the release build)
#   CVMINIT_MODULES  kernel module names, one per line, '#' comments, as for
#                    `cvminit initramfs build --modules-from` (default
#                    /etc/cvminit/modules if it exists, else <libdir>/modules)
#   CVMINIT_FILES    more files, space-separated SRC:DEST[:MODE] (MODE octal,
#                    at most 0777), e.g. test key files
#   CVMINIT_TOOL     the cvminit host tool that computes the module closure and
#                    load order (default: cvminit on PATH, else <bindir>/cvminit)
#
# This file is sourced by dracut's own bash: it sets no shell options
# (set -e/-u would change dracut's shell) and every function checks its own
# errors. A missing or unusable input stops the build (dfatal, exit 1): an
# initramfs without cvminit's configuration or modules would only fail at boot.

# dracut's globals used here: initdir kernel srcmods modules_loaded mods_to_load
# (and the functions dinfo dwarn dfatal inst_simple inst_dir instmods).
# shellcheck disable=SC2154

# make install-dracut rewrites these two lines for its PREFIX/BINDIR.
cvminit_libdir=/usr/lib/cvminit
cvminit_bindir=/usr/bin

# dracut modules that install their own /init or an init system.
cvminit_init_providers="base systemd systemd-initrd dracut-systemd"

cvminit_die() {
    dfatal "cvminit: $*"
    exit 1
}

cvminit_modules_file() {
    if [[ -n ${CVMINIT_MODULES-} ]]; then
        printf '%s\n' "$CVMINIT_MODULES"
    elif [[ -e /etc/cvminit/modules ]]; then
        printf '%s\n' /etc/cvminit/modules
    else
        printf '%s\n' "$cvminit_libdir/modules"
    fi
}

cvminit_tool() {
    local t=${CVMINIT_TOOL-}
    [[ -n $t ]] || t=$(command -v cvminit 2> /dev/null) || t=$cvminit_bindir/cvminit
    printf '%s\n' "$t"
}

# called by dracut: only when asked for (-m cvminit, --add cvminit,
# dracutmodules/add_dracutmodules), never in a generic image.
check() {
    return 255
}

# called by dracut
depends() {
    return 0
}

# called by dracut
install() {
    local conf=${CVMINIT_CONFIG:-/etc/cvminit/cvminit.conf}
    local init=${CVMINIT_INIT:-$cvminit_libdir/init}
    local m f rest src dest mode

    for m in $modules_loaded $mods_to_load; do
        [[ " $cvminit_init_providers " == *" $m "* ]] &&
            cvminit_die "dracut module '$m' brings its own /init: cvminit must be the only init (use 'dracut -m cvminit' or omit_dracutmodules+=\" $m \")"
    done
    for m in $modules_loaded $mods_to_load; do
        [[ $m == cvminit ]] || dwarn "cvminit: dracut module '$m' is in the image too; cvminit never runs its files"
    done

    [[ -f $init && -x $init ]] || cvminit_die "init binary $init missing or not executable (CVMINIT_INIT)"
    [[ -f $conf ]] || cvminit_die "configuration $conf missing (CVMINIT_CONFIG): the init would stop at boot without it"

    # /init is cvminit itself; base and systemd are not in the image.
    inst_simple "$init" /init || cvminit_die "cannot install $init as /init"
    chmod 0755 "$initdir/init"
    inst_dir /etc/cvminit
    inst_simple "$conf" /etc/cvminit/cvminit.conf || cvminit_die "cannot install $conf"
    chmod 0644 "$initdir/etc/cvminit/cvminit.conf"

    for f in ${CVMINIT_FILES-}; do
        rest=$f mode=""
        if [[ ${rest##*:} =~ ^0?[0-7]{3}$ && ${rest%:*} == *:* ]]; then
            mode=${rest##*:}
            rest=${rest%:*}
        fi
        dest=${rest##*:}
        src=${rest%:*}
        [[ $rest == *:* && $dest == /* && -n $src ]] ||
            cvminit_die "CVMINIT_FILES: '$f' is not SRC:DEST[:MODE] with an absolute DEST"
        [[ -f $src ]] || cvminit_die "CVMINIT_FILES: $src is not a file"
        inst_simple "$src" "$dest" || cvminit_die "cannot install $src as $dest"
        [[ -z $mode ]] || chmod "$mode" "$initdir$dest"
    done
}

# called by dracut (not with --no-kernel: then modules.load is absent and the
# init loads nothing, for kernels with everything built in)
installkernel() {
    local list tool closure line rel name
    local names=() rels=()
    list=$(cvminit_modules_file)
    tool=$(cvminit_tool)

    [[ -f $list ]] || cvminit_die "module list $list missing (CVMINIT_MODULES)"
    [[ -x $tool ]] || cvminit_die "cvminit host tool $tool missing (CVMINIT_TOOL): it computes the load order"
    # The closure (modules.dep + softdeps, kmod's rules) in load order, as
    # `cvminit initramfs build --modules-from` computes it; "builtin NAME"
    # lines are built into the kernel and need nothing.
    closure=$("$tool" initramfs closure --kernel-modules "$srcmods" --kver "$kernel" \
        --modules-from "$list") || cvminit_die "cvminit initramfs closure failed for $list (kernel $kernel, $srcmods)"
    while read -r line; do
        case $line in
            '' | 'builtin '*) continue ;;
        esac
        rel=${line#"$srcmods"/}
        name=${rel##*/}
        names+=("${name%%.ko*}")
        rels+=("$rel")
    done <<< "$closure"

    mkdir -p "$initdir/etc/cvminit" || cvminit_die "cannot create /etc/cvminit"
    : > "$initdir/etc/cvminit/modules.load" || cvminit_die "cannot write /etc/cvminit/modules.load"
    ((${#rels[@]} > 0)) || return 0

    # dracut's own installer brings each module with its dependencies and
    # firmware, whatever hostonly says (cvminit needs them on the target, not
    # on the build machine).
    hostonly='' instmods -c "${names[@]}" || cvminit_die "instmods failed for: ${names[*]}"
    for rel in "${rels[@]}"; do
        # a softdep dracut-install did not follow: install it by path
        [[ -e $initdir/lib/modules/$kernel/$rel ]] ||
            inst_simple "$srcmods/$rel" "/lib/modules/$kernel/$rel" ||
            cvminit_die "cannot install module $srcmods/$rel"
        printf '/lib/modules/%s/%s\n' "$kernel" "$rel" >> "$initdir/etc/cvminit/modules.load"
    done
    dinfo "cvminit: ${#rels[@]} modules in /etc/cvminit/modules.load"
}
