#!/usr/bin/env python3
"""make bench's report: reads the console logs of the boots bench/bench.sh
made (build/bench/runs/VARIANT-N.log), prints the table and writes
build/bench/bench.json. Exit 1 when a boot's result is unusable, the two
inits did not end in the same state, or the size budget is exceeded.

Clocks. Each init prints "[ secs ] <who>: <stage>: done in N ms" lines in
CLOCK_MONOTONIC. The launcher (bench/stamp.c) prints
"BENCH: stamp mono_ns=.. launcher_us=.. run_init_us=.. unpack_start_us=..
unpack_end_us=..": launcher_us and run_init_us are kernel-log timestamps of
its own record and of the kernel's "Run /init as init process"; mono_ns is
CLOCK_MONOTONIC just before its record, which ties the two clocks together.

stdlib only.
"""
import argparse
import datetime
import gzip
import json
import os
import platform
import re
import statistics
import subprocess
import sys

INIT_BUDGET = 1536 * 1024           # stripped build/init: 1.5 MiB
INITRAMFS_BUDGET = 700 * 1024       # compressed initramfs without modules: 700 KiB

STAGES = ['early', 'config', 'modules', 'tee', 'partitions', 'verity', 'measure', 'attest', 'root',
          'jobstore', 'mounts', 'harden']
TS = r'^\[\s*(\d+)\.(\d+)\] '
RE_DONE = re.compile(TS + r'(cvminit|baseline): ([a-z_]+): done in ([0-9.]+) ms$')
RE_STAMP = re.compile(r'^BENCH: stamp (.*)$')
RE_MOUNT = re.compile(r'^STANDIN: mount (\S+) (\S+) (\S+) (\S+)$')
# bench/stamp.c: one line per device-mapper device the init left
RE_DM = re.compile(r'^BENCH: dm (\S+) (\S+) read=(.*)$')
# every variant must leave two dm-verity and two LUKS2 volumes that read
DM_WANTED = {'CRYPT-VERITY': 2, 'CRYPT-LUKS2': 2}
RE_FATAL = re.compile(r'(cvminit|baseline): FATAL: .*')
# Sub-steps, in ms. The baseline prints "baseline: <stage>: step <name>: N ms".
RE_STEP_BASE = re.compile(TS + r'baseline: [a-z_]+: step (unlock|preverify)-([a-z]+): ([0-9.]+) ms$')
# cvminit: its root/jobstore line on opening a LUKS2 volume, e.g.
#   "root: /dev/vda3 opened as /dev/mapper/cvm-root (LUKS2, key from keyfile, 304 ms)"
# and its verity line on a full check before activation, e.g.
#   "config: /dev/vda4 verified against its root hash (full check, 527 ms)"
# (looser alternatives: "unlocked ... in N ms", "pre-verified ... in N ms").
RE_STEP_CVM = [
    ('unlock', re.compile(TS + r'cvminit: (root|jobstore): .*(?:\(LUKS2\b.*, |\bunlock\w*\b.*\bin )([0-9.]+) ms\)?$')),
    ('preverify', re.compile(TS + r'cvminit: (verity): .*(?:\(full check, |\bpre-?verif\w*\b.*\bin )([0-9.]+) ms\)?$')),
]
MARKERS = ['STANDIN: cat /boot/BOOT-MARKER: cvm-boot marker',
           'STANDIN: cat /opt/nvflare/config/CONFIG-MARKER: cvm-config marker',
           'STANDIN: cat /opt/nvflare/jobs/JOBS-MARKER: cvm-jobs marker',
           'STANDIN: cat /opt/nvflare/data/DATA-MARKER: cvm-data marker']
# one line per module in list order (init/modules.c), e.g.
#   "modules: ext4: loaded in 412.3 ms", "modules: sev_guest: no such device here (...) in 9.1 ms"
RE_MODULE = re.compile(TS + r'cvminit: modules: (\w+): (?:loaded|no such device here.*) in ([0-9.]+) ms')
# variants compared with cvminit besides the baseline: a reference build of
# cvminit (BENCH_REF_INIT) and the anchors (BENCH_ANCHORS=yes)
OTHER_WHO = {'cvminit-ref': 'cvminit', 'cvminit-nopv': 'cvminit', 'dracut': 'anchor', 'initramfs-tools': 'anchor'}
ESC = re.compile(r'\x1b\[[0-9;?!]*[A-Za-z]|\x1b\][^\a]*\a|\x1b[c78]')


def console_lines(path):
    with open(path, 'rb') as f:
        text = f.read().decode('utf-8', 'replace')
    return [ESC.sub('', l).rstrip('\r') for l in text.split('\n')]


def ts_s(m):
    return int(m.group(1)) + int(m.group(2)) / 10 ** len(m.group(2))


def parse_run(path, who, disk):
    """The figures of one boot, or raises ValueError saying what is missing."""
    lines = console_lines(path)
    stages, steps, stamp, mounts, last_done = {}, {}, None, set(), None
    root_devs = []
    first = None
    modules = {}
    dm = {}
    for l in lines:
        m = RE_DM.match(l)
        if m:
            dm[m.group(1)] = {'type': m.group(2), 'read': m.group(3)}
            continue
        m = RE_MODULE.match(l)
        if m:
            modules[m.group(3)] = float(m.group(4))
            continue
        m = RE_DONE.match(l)
        if m and m.group(3) == who:
            stages[m.group(4)] = float(m.group(5))
            last_done = ts_s(m)
            if first is None:
                first = (ts_s(m), float(m.group(5)))
            continue
        m = RE_STAMP.match(l)
        if m:
            stamp = {k: int(v) for k, v in (kv.split('=', 1) for kv in m.group(1).split())}
            continue
        m = RE_MOUNT.match(l)
        if m:
            if m.group(2) == '/':
                root_devs.append(m.group(1))
            opts = m.group(4)
            if m.group(3) == 'devtmpfs':  # sized from the free memory at mount time
                opts = ','.join(o for o in opts.split(',') if not o.startswith(('size=', 'nr_inodes=')))
            mounts.add((m.group(2), m.group(3), opts))
            continue
        if who == 'baseline':
            m = RE_STEP_BASE.match(l)
            if m:
                steps.setdefault(m.group(3), 0.0)
                steps[m.group(3)] += float(m.group(5))
        else:
            for name, rx in RE_STEP_CVM:
                m = rx.match(l)
                if m:
                    steps.setdefault(name, 0.0)
                    steps[name] += float(m.group(4))
    fatal = [l for l in lines if RE_FATAL.search(l)]
    if fatal:
        raise ValueError('FATAL: ' + fatal[0])
    if stamp is None or stamp.get('launcher_us', -1) < 0 or stamp.get('run_init_us', -1) < 0:
        raise ValueError('no usable "BENCH: stamp" line (the launcher did not run, or no kernel log)')
    if disk == 'protected':
        unread = ['%s (%s)' % (n, x['read']) for n, x in sorted(dm.items()) if x['read'] != 'ok']
        if unread:
            raise ValueError('the launcher could not read the dm device(s) ' + ', '.join(unread))
        for t, want in DM_WANTED.items():
            got = sorted(n for n, x in dm.items() if x['type'] == t)
            if len(got) != want:
                raise ValueError('%d %s volume(s) after the init, not %d: %s'
                                 % (len(got), t, want, ' '.join(got) or '-'))
    if who == 'anchor':  # dracut/initramfs-tools: no stage lines, the root mount only
        if not any(d.startswith(('/dev/mapper/', '/dev/dm-')) for d in root_devs):
            raise ValueError('the root is not a device-mapper volume: %s' % (' '.join(root_devs) or 'no / mount'))
    else:
        missing = [s for s in STAGES if s not in stages]
        if missing:
            raise ValueError('no "done in" line for stage(s) ' + ' '.join(missing))
        missing = [mk for mk in MARKERS if mk not in lines]
        if missing:
            raise ValueError('the launcher did not read ' + missing[0].split(':')[1].split()[1])
    # kernel-log clock minus monotonic, from the stamp's two readings
    offset_us = stamp['launcher_us'] - stamp['mono_ns'] / 1000.0
    run_init_mono_s = (stamp['run_init_us'] - offset_us) / 1e6
    total = (stamp['launcher_us'] - stamp['run_init_us']) / 1000.0
    if who == 'anchor':
        startup = tail = between = None
    else:
        startup = round((first[0] - first[1] / 1000.0 - run_init_mono_s) * 1000.0, 1)
        tail = round((stamp['mono_ns'] / 1e9 - last_done) * 1000.0, 1)
        between = round(total - startup - sum(stages[s] for s in STAGES) - tail, 1)
    r = {
        'total_ms': round(total, 1),
        'stages_ms': {s: stages[s] for s in STAGES if s in stages},
        'modules_ms': modules,
        'dm': dm,
        'startup_ms': startup,
        'switch_root_ms': tail,
        'between_stages_ms': between,
        'steps_ms': {k: round(v, 1) for k, v in steps.items()},
        'kernel_to_launcher_ms': round(stamp['launcher_us'] / 1000.0, 1),
        'initramfs_unpack_ms': (round((stamp['unpack_end_us'] - stamp['unpack_start_us']) / 1000.0, 1)
                                if stamp.get('unpack_end_us', -1) >= 0 and stamp.get('unpack_start_us', -1) >= 0
                                else None),
    }
    if 'unlock' in steps:
        r['total_excl_unlock_ms'] = round(total - steps['unlock'], 1)
    return r, mounts


def summary(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {'median': round(statistics.median(values), 1), 'min': round(min(values), 1),
            'max': round(max(values), 1)}


def split_plain_cpio(data):
    """(bytes of the uncompressed newc archives at the start, the rest): an
    initramfs may begin with plain archives (initramfs-tools' early cpio)."""
    i = 0
    while data[i:i + 6] in (b'070701', b'070702'):
        while True:
            h = data[i:i + 110]
            size, namesize = int(h[54:62], 16), int(h[94:102], 16)
            name = data[i + 110:i + 110 + namesize - 1]
            i = (i + 110 + namesize + 3) & ~3
            i = (i + size + 3) & ~3
            if name == b'TRAILER!!!':
                break
        while i < len(data) and data[i] == 0:
            i += 1
    return i, data[i:]


def compression(data):
    plain, rest = split_plain_cpio(data)
    head = rest[:6]
    kind = ('gzip' if head[:2] == b'\x1f\x8b' else 'xz' if head == b'\xfd7zXZ\x00'
            else 'zstd' if head[:4] == b'\x28\xb5\x2f\xfd' else 'none' if not rest else head.hex())
    return kind + (' after a %d-byte plain cpio' % plain if plain and rest else '')


def img_sizes(path):
    with open(path, 'rb') as f:
        data = f.read()
    plain, rest = split_plain_cpio(data)
    if not rest:
        raw = 0
    elif rest[:2] == b'\x1f\x8b':
        raw = len(gzip.decompress(rest))
    else:
        tool = 'xz' if rest[:6] == b'\xfd7zXZ\x00' else 'zstd'
        raw = len(subprocess.run([tool, '-dc'], input=rest, capture_output=True, check=True).stdout)
    return {'compressed': len(data), 'uncompressed': plain + raw}


def cmd_first_line(argv):
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=20)
        out = (p.stdout or p.stderr).strip().split('\n')
        return out[0].strip() if out else None
    except (OSError, subprocess.SubprocessError):
        return None


def host_info():
    cpu = None
    try:
        with open('/proc/cpuinfo') as f:
            for l in f:
                if l.startswith('model name'):
                    cpu = l.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    debian = None
    try:
        with open('/etc/debian_version') as f:
            debian = f.read().strip()
    except OSError:
        pass
    return {'kernel': platform.release(), 'machine': platform.machine(), 'cpu': cpu,
            'cpus': os.cpu_count(), 'loadavg_at_end': [round(x, 2) for x in os.getloadavg()],
            'debian': debian, 'qemu': cmd_first_line(['qemu-system-x86_64', '--version']),
            'accel': 'tcg'}


def read_env(path):
    """KEY='value' lines (bench/anchors.sh's anchors.env)."""
    env = {}
    with open(path) as f:
        for l in f:
            k, _, v = l.strip().partition('=')
            if k:
                env[k] = v.strip("'")
    return env


ANCHOR_WHAT = {
    'dracut': 'dracut + systemd in the initrd (generator defaults, no host-only image): /etc/crypttab with '
              'key files for p3/p5 (systemd-cryptsetup), /etc/veritytab with hash-offset= for p2/p4 '
              '(systemd-veritysetup), root=/dev/mapper/cvm-root',
    'initramfs-tools': 'initramfs-tools + cryptsetup-initramfs (defaults: MODULES=most, udev, busybox): '
                       '/etc/crypttab with key files for p3/p5, a local-top script running veritysetup for '
                       'p2/p4, root=/dev/mapper/cvm-root',
}
ANCHOR_CHROOT = {'dracut': 'dracut_systemd', 'initramfs-tools': 'initramfs_tools_cryptsetup'}


def ratio(a, b):
    return round(a / b, 3) if a is not None and b else None


def fmt_kib(n):
    return '%d (%.1f KiB)' % (n, n / 1024.0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dir', required=True)
    ap.add_argument('--runs', type=int, required=True)
    ap.add_argument('--disk', required=True)
    ap.add_argument('--variants', required=True)
    ap.add_argument('--kernel-ver', required=True)
    ap.add_argument('--init', required=True)
    ap.add_argument('--init-test', required=True)
    ap.add_argument('--payload-bytes', type=int, required=True)
    ap.add_argument('--payload-libs', type=int, required=True)
    ap.add_argument('--busybox', required=True)
    ap.add_argument('--cryptsetup', required=True)
    ap.add_argument('--bench-seconds', type=float, required=True)
    ap.add_argument('--failed', type=int, default=0)
    ap.add_argument('--anchors-env', help='bench/anchors.sh\'s anchors.env (BENCH_ANCHORS=yes)')
    a = ap.parse_args()
    d = a.dir
    variants = a.variants.split()
    problems = []

    res = {}
    mounts = {}
    for v in variants:
        who = 'baseline' if v == 'baseline' else OTHER_WHO.get(v, 'cvminit')
        runs = []
        for i in range(1, a.runs + 1):
            log = os.path.join(d, 'runs', '%s-%d.log' % (v, i))
            entry = {'run': i, 'console': log}
            try:
                with open(os.path.join(d, 'runs', '%s-%d.json' % (v, i))) as f:
                    entry['wall_s'] = json.load(f).get('seconds')
            except (OSError, ValueError):
                entry['wall_s'] = None
            try:
                fig, mnt = parse_run(log, who, a.disk)
                entry.update(fig)
                mounts.setdefault(v, mnt)
            except (OSError, ValueError) as e:
                entry['error'] = str(e)
                problems.append('%s run %d: %s' % (v, i, e))
            runs.append(entry)
        ok = [r for r in runs if 'error' not in r]
        agg = {'runs_ok': len(ok)}
        for key in ['total_ms', 'total_excl_unlock_ms', 'startup_ms', 'switch_root_ms', 'between_stages_ms',
                    'kernel_to_launcher_ms', 'initramfs_unpack_ms', 'wall_s']:
            agg[key] = summary([r.get(key) for r in ok])
        agg['stages_ms'] = {s: summary([r['stages_ms'].get(s) for r in ok]) for s in STAGES}
        mnames = [k for r in ok for k in r['modules_ms']]
        agg['modules_ms'] = {k: summary([r['modules_ms'].get(k) for r in ok]) for k in dict.fromkeys(mnames)}
        names = sorted({k for r in ok for k in r['steps_ms']})
        agg['steps_ms'] = {k: summary([r['steps_ms'].get(k) for r in ok]) for k in names}
        res[v] = {'initramfs': os.path.join(d, v + '.img'), 'runs': runs, 'summary': agg}

    if 'cvminit' in mounts and 'cvminit-ref' in mounts and mounts['cvminit'] != mounts['cvminit-ref']:
        problems.append('cvminit and its reference build left different mounts')
    # the two inits must have left the same mounts (devices aside: dm names differ)
    if 'cvminit' in mounts and 'baseline' in mounts and mounts['cvminit'] != mounts['baseline']:
        only_c = sorted(mounts['cvminit'] - mounts['baseline'])
        only_b = sorted(mounts['baseline'] - mounts['cvminit'])
        problems.append('the launcher saw different mounts: only after cvminit: %s; only after the baseline: %s'
                        % (only_c or '-', only_b or '-'))

    def med(v, key, sub=None):
        s = res.get(v, {}).get('summary', {})
        x = s.get(key) if sub is None else (s.get(key) or {}).get(sub)
        return x['median'] if x else None

    # paired ratios: run i of cvminit against run i of the baseline (same host spell)
    paired = []
    if 'cvminit' in res and 'baseline' in res:
        for rc, rb in zip(res['cvminit']['runs'], res['baseline']['runs']):
            if 'error' not in rc and 'error' not in rb and rb['total_ms']:
                paired.append(rc['total_ms'] / rb['total_ms'])

    sizes = {
        'init_stripped': None,
        'init_test_stripped': os.path.getsize(a.init_test),
        'cvminit_initramfs': img_sizes(os.path.join(d, 'cvminit.img')),
        'baseline_initramfs': img_sizes(os.path.join(d, 'baseline.img')),
        'cvminit_initramfs_no_modules': img_sizes(os.path.join(d, 'release-nomod.img')),
        'baseline_initramfs_no_modules': img_sizes(os.path.join(d, 'baseline-nomod.img')),
        'baseline_programs': a.payload_bytes,
        'baseline_shared_libraries': a.payload_libs,
        'compression': 'gzip -9 (the builder\'s default), both',
    }
    stripped = os.path.join(d, 'init.stripped')
    subprocess.run(['strip', '--strip-all', '-o', stripped, a.init], check=True)
    sizes['init_stripped'] = os.path.getsize(stripped)
    os.unlink(stripped)

    cs, bs = sizes['cvminit_initramfs'], sizes['baseline_initramfs']
    cn, bn = sizes['cvminit_initramfs_no_modules'], sizes['baseline_initramfs_no_modules']
    ratios = {
        'total_ms': ratio(med('cvminit', 'total_ms'), med('baseline', 'total_ms')),
        'total_ms_paired_median': round(statistics.median(paired), 3) if paired else None,
        'total_excl_unlock_ms': ratio(med('cvminit', 'total_excl_unlock_ms'), med('baseline', 'total_excl_unlock_ms')),
        'stages_ms': {s: ratio(med('cvminit', 'stages_ms', s), med('baseline', 'stages_ms', s)) for s in STAGES},
        'initramfs_compressed': ratio(cs['compressed'], bs['compressed']),
        'initramfs_uncompressed': ratio(cs['uncompressed'], bs['uncompressed']),
        'initramfs_no_modules_compressed': ratio(cn['compressed'], bn['compressed']),
        'initramfs_no_modules_uncompressed': ratio(cn['uncompressed'], bn['uncompressed']),
    }
    # cvminit against every other variant of the run (same pairing by run)
    others = {}
    for v in variants:
        if v in ('cvminit', 'baseline'):
            continue
        pv = [rc['total_ms'] / ro['total_ms'] for rc, ro in zip(res['cvminit']['runs'], res[v]['runs'])
              if 'error' not in rc and 'error' not in ro and ro['total_ms']] if 'cvminit' in res else []
        others[v] = {
            'total_ms': ratio(med('cvminit', 'total_ms'), med(v, 'total_ms')),
            'total_ms_paired_median': round(statistics.median(pv), 3) if pv else None,
            'stages_ms': {s: ratio(med('cvminit', 'stages_ms', s), med(v, 'stages_ms', s)) for s in STAGES},
            'initramfs_compressed': ratio(cs['compressed'], img_sizes(res[v]['initramfs'])['compressed'])
            if os.path.exists(res[v]['initramfs']) else None,
        }
    anchors = None
    if a.anchors_env:
        env = read_env(a.anchors_env)
        anchors = {}
        for v in ('dracut', 'initramfs-tools'):
            if v not in res:
                continue
            sz = img_sizes(res[v]['initramfs'])
            with open(res[v]['initramfs'], 'rb') as f:
                kind = compression(f.read())
            anchors[v] = {
                'what': ANCHOR_WHAT[v],
                'packages': env.get('ANCHOR_PACKAGES_' + ANCHOR_CHROOT[v]),
                'kernel_cmdline': 'console=ttyS0 panic=-1 ' + env.get('ANCHOR_CMDLINE_' + v.replace('-', '_'), ''),
                'initramfs': sz,
                'compression': kind,
                'ratio_cvminit_over': {
                    'total_ms': others[v]['total_ms'],
                    'total_ms_paired_median': others[v]['total_ms_paired_median'],
                    'initramfs_unpack_ms': ratio(med('cvminit', 'initramfs_unpack_ms'), med(v, 'initramfs_unpack_ms')),
                    'kernel_to_launcher_ms': ratio(med('cvminit', 'kernel_to_launcher_ms'),
                                                   med(v, 'kernel_to_launcher_ms')),
                    'initramfs_compressed': ratio(cs['compressed'], sz['compressed']),
                    'initramfs_uncompressed': ratio(cs['uncompressed'], sz['uncompressed']),
                },
            }
    preverify = {
        'cvminit_logged_ms': med('cvminit', 'steps_ms', 'preverify'),
        'cvminit_by_difference_ms': (round(med('cvminit', 'stages_ms', 'verity') - med('cvminit-nopv', 'stages_ms', 'verity'), 1)
                                     if 'cvminit-nopv' in res and med('cvminit-nopv', 'stages_ms', 'verity') is not None
                                     and med('cvminit', 'stages_ms', 'verity') is not None else None),
        'baseline_ms': med('baseline', 'steps_ms', 'preverify'),
        'what': 'VERITY_PREVERIFY=config: every block of p4 checked before activation '
                '(baseline: veritysetup verify)',
    } if a.disk == 'protected' else None
    warnings = []
    if a.disk == 'protected':
        for key, what in [('unlock', 'LUKS2 unlock time ("(LUKS2, ..., N ms)")'),
                          ('preverify', 'pre-verification time ("(full check, N ms)")')]:
            if 'cvminit' in res and med('cvminit', 'steps_ms', key) is None:
                warnings.append('cvminit printed no %s: that figure is missing (see RE_STEP_CVM in bench/report.py)'
                                % what)
    budget = {
        'init_stripped': {'bytes': sizes['init_stripped'], 'limit': INIT_BUDGET,
                          'ok': sizes['init_stripped'] <= INIT_BUDGET, 'file': a.init},
        'initramfs_no_modules_compressed': {'bytes': cn['compressed'], 'limit': INITRAMFS_BUDGET,
                                            'ok': cn['compressed'] <= INITRAMFS_BUDGET,
                                            'file': os.path.join(d, 'release-nomod.img')},
    }
    try:
        rev = subprocess.run(['git', 'rev-parse', '--short=12', 'HEAD'], capture_output=True, text=True).stdout.strip()
        dirty = bool(subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no'], capture_output=True,
                                    text=True).stdout.strip())
    except OSError:
        rev, dirty = None, None
    doc = {
        'schema': 1,
        'date': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'),
        'git_rev': rev, 'git_dirty': dirty,
        'disk': a.disk,
        'runs_per_variant': a.runs,
        'variants': {
            'cvminit': 'build/init-test (a test build: no TEE here) + modules + configuration'
                       + (' + key files' if a.disk == 'protected' else ''),
            'baseline': 'bench/baseline-init.sh: busybox-static + Debian veritysetup/cryptsetup (dynamic) '
                        '+ the same modules, configuration' + (' and key files' if a.disk == 'protected' else ''),
            'cvminit-nopv': 'cvminit with VERITY_PREVERIFY=none (pre-verification cost by difference)',
            'dracut': ANCHOR_WHAT['dracut'],
            'initramfs-tools': ANCHOR_WHAT['initramfs-tools'],
        },
        'guest_kernel': a.kernel_ver,
        'kernel_cmdline': 'console=ttyS0 panic=-1 quiet',
        'host': host_info(),
        'tools': {'busybox': cmd_first_line([a.busybox]), 'cryptsetup': cmd_first_line([a.cryptsetup, '--version'])},
        'results': res,
        'ratios_cvminit_over_baseline': ratios,
        'ratios_cvminit_over': others,
        'anchors': anchors,
        'verity_preverify': preverify,
        'sizes_bytes': sizes,
        'budget': budget,
        'bench_seconds': a.bench_seconds,
        'problems': problems,
        'warnings': warnings,
        'notes': [
            'total_ms: kernel log "Run /init as init process" to the launcher\'s own kernel log record '
            '(bench/stamp.c, exec\'d by both inits as /sbin/init), i.e. /init start to launcher exec.',
            'startup_ms: from the exec of /init to the init\'s first clock reading (the baseline mounts /proc first).',
            'switch_root_ms: from the last stage\'s "done" line to the launcher\'s exec (move mounts, '
            'free the initramfs, exec).',
            'LUKS2 keyslots use PBKDF2-SHA256 with 1000 iterations and key files: no prompt, '
            'a small PBKDF cost that the "unlock" step shows on its own; total_excl_unlock_ms removes it.',
            'TCG timings swing by about 30 %: compare ratios from the same run only.',
        ],
    }
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'bench.json'), 'w') as f:
        json.dump(doc, f, indent=1)
        f.write('\n')

    # ---- the table ----
    def cell(v, key, sub=None):
        s = res.get(v, {}).get('summary', {})
        x = s.get(key) if sub is None else (s.get(key) or {}).get(sub)
        if not x:
            return '-'
        return '%.1f (%.1f..%.1f)' % (x['median'], x['min'], x['max'])

    def row(label, key, sub=None, r=None):
        c, b = cell('cvminit', key, sub), cell('baseline', key, sub)
        rr = r if r is not None else ratio(med('cvminit', key, sub), med('baseline', key, sub))
        print('  %-38s %-26s %-26s %s' % (label, c, b, '%.2f' % rr if rr is not None else '-'))

    print()
    print('make bench: %s disk, kernel %s, %d boot(s) per variant, QEMU TCG on %s cpu(s), load %s'
          % (a.disk, a.kernel_ver, a.runs, doc['host']['cpus'], ' '.join(str(x) for x in doc['host']['loadavg_at_end'])))
    print('(TCG timings swing by about 30 %: compare the ratios of this run, not figures across runs)')
    print()
    print('  %-38s %-26s %-26s %s' % ('time in ms: median (min..max)', 'cvminit', 'baseline', 'cvminit/baseline'))
    row('startup (exec of /init)', 'startup_ms')
    for s in STAGES:
        row(s, 'stages_ms', s)
    row('switch_root (to launcher exec)', 'switch_root_ms')
    row('between stages (logging)', 'between_stages_ms')
    row('TOTAL: /init start -> launcher exec', 'total_ms')
    if ratios['total_ms_paired_median'] is not None:
        print('  %-38s %-26s %-26s %.2f' % ('  (median of per-run ratios)', '', '', ratios['total_ms_paired_median']))
    if a.disk == 'protected':
        row('LUKS2 unlock, p3+p5 (PBKDF2 1000)', 'steps_ms', 'unlock')
        row('total excluding the unlock', 'total_excl_unlock_ms')
        row('dm-verity pre-verification of p4', 'steps_ms', 'preverify')
        if preverify and preverify['cvminit_by_difference_ms'] is not None:
            print('  %-38s %-26s' % ('  pre-verification by difference', '%.1f' % preverify['cvminit_by_difference_ms']))
    row('kernel: initramfs unpack', 'initramfs_unpack_ms')
    mods = (res.get('cvminit', {}).get('summary', {}).get('modules_ms') or {})
    if mods:
        print('  %-38s %s' % ('cvminit: each module (open+finit_module)', ', '.join(
            '%s %.0f' % (k, x['median']) for k, x in mods.items() if x)))
    row('kernel start -> launcher exec', 'kernel_to_launcher_ms')
    row('wall: QEMU start -> power-off (s)', 'wall_s')
    if others:
        print()
        print('  %-38s %-26s %-26s %s' % ('other variants: median (min..max)', 'total ms', 'modules ms',
                                          'cvminit/variant (total, paired)'))
        for v, o in others.items():
            t = o['total_ms']
            print('  %-38s %-26s %-26s %s' % (v, cell(v, 'total_ms'), cell(v, 'stages_ms', 'modules'),
                                              '%s, %s' % ('%.3f' % t if t is not None else '-',
                                                          o['total_ms_paired_median'])))
    if anchors:
        print()
        print('  %-38s %-26s %-26s %s' % ('anchors: median (min..max)', 'dracut', 'initramfs-tools',
                                          'cvminit/dracut, cvminit/initramfs-tools'))

        def arow(label, key, rkey, fmt=lambda v, k: cell(v, k)):
            print('  %-38s %-26s %-26s %s' % (label, fmt('dracut', key), fmt('initramfs-tools', key), ', '.join(
                '%.3f' % anchors[v]['ratio_cvminit_over'][rkey]
                if v in anchors and anchors[v]['ratio_cvminit_over'][rkey] is not None else '-'
                for v in ('dracut', 'initramfs-tools'))))
        arow('TOTAL: /init start -> launcher exec', 'total_ms', 'total_ms')
        print('  %-38s %-26s %-26s %s' % ('  (median of per-run ratios)', '', '', ', '.join(
            str(anchors[v]['ratio_cvminit_over']['total_ms_paired_median']) if v in anchors else '-'
            for v in ('dracut', 'initramfs-tools'))))
        arow('kernel: initramfs unpack', 'initramfs_unpack_ms', 'initramfs_unpack_ms')
        arow('kernel start -> launcher exec', 'kernel_to_launcher_ms', 'kernel_to_launcher_ms')
        szf = lambda part: lambda v, k: ('%d (%s)' % (anchors[v]['initramfs'][part], anchors[v]['compression'].split()[0])
                                         if v in anchors else '-')
        arow('initramfs, compressed', None, 'initramfs_compressed', szf('compressed'))
        arow('initramfs, uncompressed', None, 'initramfs_uncompressed', szf('uncompressed'))
        print('  (the anchors print no stage lines; what each does that the others do not: bench/README.md)')
    print()
    print('  %-38s %-26s %-26s %s' % ('sizes in bytes', 'cvminit', 'baseline', 'cvminit/baseline'))
    for label, c, b in [('initramfs, gzip', cs['compressed'], bs['compressed']),
                        ('initramfs, uncompressed', cs['uncompressed'], bs['uncompressed']),
                        ('initramfs w/o modules, gzip', cn['compressed'], bn['compressed']),
                        ('initramfs w/o modules, uncompressed', cn['uncompressed'], bn['uncompressed'])]:
        print('  %-38s %-26d %-26d %.2f' % (label, c, b, c / b))
    print('  %-38s %-26s %-26s' % ('programs', 'init %d (stripped)' % sizes['init_stripped'],
                                   '%d (%d libs)' % (a.payload_bytes, a.payload_libs)))
    print('  (with modules: the test build of the init; without: the release build build/init)')
    print()
    print('size budget (issue 8):')
    fail_budget = False
    for label, key in [('build/init, stripped', 'init_stripped'),
                       ('initramfs w/o modules, compressed', 'initramfs_no_modules_compressed')]:
        b = budget[key]
        print('  %-38s %-26s limit %-20s %s' % (label, fmt_kib(b['bytes']), fmt_kib(b['limit']),
                                                 'ok' if b['ok'] else 'EXCEEDED'))
        fail_budget |= not b['ok']
    print()
    print('bench: %s written (build/bench.json); %.1f s' % (os.path.join(d, 'bench.json'), a.bench_seconds))
    sys.stdout.flush()
    for w in warnings:
        print('bench: warning: ' + w, file=sys.stderr)
    rc = 0
    for p in problems:
        print('bench: PROBLEM: ' + p, file=sys.stderr)
        rc = 1
    if fail_budget:
        for key in budget:
            if not budget[key]['ok']:
                print('bench: SIZE BUDGET EXCEEDED: %s is %d bytes, the budget is %d bytes (%s)'
                      % (budget[key]['file'], budget[key]['bytes'], budget[key]['limit'],
                         'stripped build/init <= 1.5 MiB' if key == 'init_stripped'
                         else 'compressed initramfs without modules <= 700 KiB'), file=sys.stderr)
        rc = 1
    return rc


if __name__ == '__main__':
    sys.exit(main())
