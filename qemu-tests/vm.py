#!/usr/bin/env python3
"""Boots one test VM under QEMU TCG and records its serial console.

    qemu-tests/vm.py --kernel VMLINUZ --initrd INITRD --log CONSOLE.log \
        [--disk DISK.img] [--disk EXTRA.img ...] [--append "cvminit.x=y"] \
        [--expect REGEX --send TEXT ...] [--swtpm STATEDIR] [--timeout SEC]

The machine: qemu-system-x86_64 -accel tcg -cpu max -m 512M -nographic
-no-reboot, serial console on QEMU's stdio (monitor off; SeaBIOS's serial
screen copy off, so the log holds only the guest's output), each --disk a raw
virtio-blk drive (the first is the test disk, vda), no network. The kernel
command line is "console=ttyS0 panic=-1" plus every --append. With
-no-reboot, a guest power-off, reboot or panic all make QEMU exit by itself;
the console log tells which (vm.py prints it: power-off / reboot / panic).

Console input: each --expect REGEX is followed by one --send TEXT; the pairs
run in order: once REGEX matches console output that arrived after the
previous match, TEXT plus a newline is written to the serial port
(--send-raw TEXT: no newline; both understand \\n \\r \\t \\xHH escapes).
--send-cmd SHELL-CMD: send what SHELL-CMD prints, given the whole console up to
the match on its stdin (to answer a challenge the guest printed).
What is sent is never written to the log or the screen.

TPM: --swtpm STATEDIR copies STATEDIR (may be empty or absent: fresh TPM)
to a per-run directory, starts `swtpm socket --tpm2` on a unix socket there
and adds -chardev socket -tpmdev emulator -device tpm-tis (or --tpm-device
tpm-crb). --swtpm-keep DIR keeps the run's TPM state afterwards (to inspect
PCRs or to chain boots). swtpm's own log goes to CONSOLE.log.swtpm.

Exit status:
    0    QEMU exited by itself with status 0 (guest powered off, rebooted or panicked)
    1    QEMU exited with an error status (see CONSOLE.log.stderr)
    2    bad usage or a setup failure (missing file, swtpm did not start)
    3    QEMU exited by itself but some --expect never matched
    124  hard timeout: QEMU was killed
The last line on stderr sums up: "vm.py: <how> after <s> s (exit <n>)".
--result FILE also writes that as JSON (exit, how, seconds, expects_matched).

stdlib only.
"""
import argparse
import json
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time

EXIT_OK, EXIT_QEMU_ERROR, EXIT_SETUP, EXIT_EXPECT, EXIT_TIMEOUT = 0, 1, 2, 3, 124


def unescape(text):
    """\\n \\r \\t \\\\ \\xHH escapes, nothing else."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == '\\' and i + 1 < len(text):
            n = text[i + 1]
            if n in 'nrt\\':
                out.append({'n': '\n', 'r': '\r', 't': '\t', '\\': '\\'}[n])
                i += 2
                continue
            if n == 'x' and re.fullmatch(r'[0-9a-fA-F]{2}', text[i + 2:i + 4]):
                out.append(chr(int(text[i + 2:i + 4], 16)))
                i += 4
                continue
        out.append(c)
        i += 1
    return ''.join(out)


class ScriptAction(argparse.Action):
    """Collects --expect/--send/--send-raw in command-line order."""

    def __call__(self, parser, ns, value, option_string=None):
        steps = getattr(ns, 'script', None) or []
        steps.append((option_string, value))
        ns.script = steps


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog='vm.py', description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--kernel', required=True)
    p.add_argument('--initrd', required=True)
    p.add_argument('--log', required=True, help='console log file (raw bytes)')
    p.add_argument('--disk', action='append', default=[], help='raw virtio-blk disk (repeatable)')
    p.add_argument('--append', action='append', default=[], help='more kernel parameters')
    p.add_argument('--timeout', type=float, default=120.0, help='hard limit in seconds (default 120)')
    p.add_argument('--mem', default='512M')
    p.add_argument('--smp', default='1')
    p.add_argument('--qemu', default=os.environ.get('QEMU', 'qemu-system-x86_64'))
    p.add_argument('--qemu-arg', action='append', default=[], help='extra QEMU argument (repeatable)')
    p.add_argument('--swtpm', metavar='STATEDIR', help='attach a swtpm TPM 2.0 started from a copy of STATEDIR')
    p.add_argument('--swtpm-keep', metavar='DIR', help='copy the TPM state of this run to DIR afterwards')
    p.add_argument('--tpm-device', default='tpm-tis', choices=['tpm-tis', 'tpm-crb'])
    p.add_argument('--expect', action=ScriptAction, metavar='REGEX')
    p.add_argument('--send', action=ScriptAction, metavar='TEXT')
    p.add_argument('--send-raw', action=ScriptAction, metavar='TEXT')
    p.add_argument('--send-cmd', action=ScriptAction, metavar='SHELL-CMD',
                   help='send the output of SHELL-CMD, which reads the console text up to the match on stdin')
    p.add_argument('--kbs-port', type=int, metavar='PORT',
                   help='a virtio-net NIC on user-mode net with restrict=on whose only way out is '
                        '--kbs-guest, forwarded to 127.0.0.1:PORT (the test KBS)')
    p.add_argument('--kbs-guest', default='10.0.2.100:8443', metavar='ADDR:PORT',
                   help='the address the guest connects to (default 10.0.2.100:8443)')
    p.add_argument('--kbs-dhcp-start', metavar='ADDR',
                   help='the first address QEMU\'s DHCP server leases (default 10.0.2.15): a test of '
                        'NET_ADDRESS=dhcp gives one no host may have')
    p.add_argument('--kbs-forward', choices=('cmd', 'chardev'), default='cmd',
                   help='cmd: qemu-tests/kbs/relay.py per guest connection (default); chardev: '
                        'guestfwd to a tcp chardev, one connection made when QEMU starts')
    p.add_argument('--tee', action='store_true', help='also copy the console to stdout as it arrives')
    p.add_argument('--result', metavar='FILE', help='write the outcome as JSON')
    p.add_argument('--print-cmd', action='store_true', help='print the QEMU command line on stderr')
    ns = p.parse_args(argv)
    steps = getattr(ns, 'script', None) or []
    pairs = []
    for i in range(0, len(steps), 2):
        if i + 1 >= len(steps) or steps[i][0] != '--expect' or steps[i + 1][0] == '--expect':
            p.error('--expect REGEX and --send/--send-raw TEXT must come in pairs, expect first')
        try:
            rx = re.compile(steps[i][1], re.MULTILINE)
        except re.error as e:
            p.error('--expect %r: %s' % (steps[i][1], e))
        if steps[i + 1][0] == '--send-cmd':
            pairs.append((rx, ('cmd', steps[i + 1][1])))
            continue
        text = unescape(steps[i + 1][1]) + ('\n' if steps[i + 1][0] == '--send' else '')
        pairs.append((rx, text.encode('utf-8', 'surrogateescape')))
    ns.pairs = pairs
    return ns


class SetupError(Exception):
    pass


def log(msg):
    print('vm.py: ' + msg, file=sys.stderr, flush=True)


def start_swtpm(ns, rundir):
    if not shutil.which('swtpm'):
        raise SetupError('swtpm not found: run deps/install-tools.sh')
    state = os.path.join(rundir, 'tpm-state')
    if ns.swtpm and os.path.isdir(ns.swtpm):
        shutil.copytree(ns.swtpm, state, ignore=shutil.ignore_patterns('.lock'))
    else:
        os.makedirs(state)
    sock = os.path.join(rundir, 'swtpm.sock')
    logf = ns.log + '.swtpm'
    cmd = ['swtpm', 'socket', '--tpm2', '--tpmstate', 'dir=' + state,
           '--ctrl', 'type=unixio,path=' + sock, '--log', 'file=%s,level=1' % logf]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=open(logf + '.stderr', 'wb'), start_new_session=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if os.path.exists(sock):
            return proc, state, sock
        time.sleep(0.02)
    stop(proc)
    raise SetupError('swtpm did not start; see %s.stderr' % logf)


def stop(proc, grace=3.0):
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def classify(console):
    """How the guest ended, from the console text (last event wins)."""
    events = [(console.rfind('reboot: Power down'), 'power-off'),
              (console.rfind('reboot: Restarting system'), 'reboot'),
              (console.rfind('Kernel panic - not syncing'), 'panic')]
    pos, how = max(events)
    return how if pos >= 0 else 'exit'


def net_args(ns):
    """No network unless asked; then one NIC whose only reachable address is the
    forwarded KBS (restrict=on: no route to the host or beyond, guestfwd excepted)."""
    if ns.kbs_port is None:
        return ['-nic', 'none']
    addr, _, port = ns.kbs_guest.partition(':')
    if ns.kbs_forward == 'cmd':
        relay = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'kbs', 'relay.py')
        # QEMU's option parser: a comma in a value is written twice
        target = ('cmd:%s %s %d' % (os.environ.get('KBS_PYTHON', '/usr/bin/python3'), relay,
                                    ns.kbs_port)).replace(',', ',,')
    else:
        target = 'tcp:127.0.0.1:%d' % ns.kbs_port
    dhcp = ',dhcpstart=' + ns.kbs_dhcp_start if ns.kbs_dhcp_start else ''
    return ['-netdev', 'user,id=n0,restrict=on%s,guestfwd=tcp:%s:%s-%s' % (dhcp, addr, port, target),
            '-device', 'virtio-net-pci,netdev=n0']


def main(argv):
    ns = parse_args(argv)
    for f in [ns.kernel, ns.initrd] + ns.disk:
        if not os.path.isfile(f):
            log('no such file: ' + f)
            return EXIT_SETUP
    if not shutil.which(ns.qemu):
        log(ns.qemu + ' not found: run deps/install-tools.sh')
        return EXIT_SETUP
    os.makedirs(os.path.dirname(os.path.abspath(ns.log)), exist_ok=True)

    # Short path: unix sockets are limited to 108 bytes.
    rundir = tempfile.mkdtemp(prefix='cvminit-vm.')
    swtpm = None
    qemu = None
    try:
        cmd = [ns.qemu, '-accel', 'tcg', '-cpu', 'max', '-m', ns.mem, '-smp', ns.smp,
               '-nodefaults', '-nographic', '-no-reboot',
               '-serial', 'stdio', '-monitor', 'none',
               '-kernel', ns.kernel, '-initrd', ns.initrd,
               '-append', ' '.join(['console=ttyS0', 'panic=-1'] + ns.append)]
        cmd += net_args(ns)
        for i, d in enumerate(ns.disk):
            cmd += ['-drive', 'file=%s,format=raw,if=none,id=disk%d,cache=unsafe' % (d, i),
                    '-device', 'virtio-blk-pci,drive=disk%d' % i]
        if ns.swtpm is not None:
            swtpm, tpm_state, sock = start_swtpm(ns, rundir)
            cmd += ['-chardev', 'socket,id=chrtpm,path=' + sock,
                    '-tpmdev', 'emulator,id=tpm0,chardev=chrtpm',
                    '-device', ns.tpm_device + ',tpmdev=tpm0']
        # SeaBIOS would copy its (VGA) screen to the serial port with escape
        # sequences; the console log is the guest's alone.
        zero = os.path.join(rundir, 'sercon-off')
        with open(zero, 'wb') as f:
            f.write(b'\0\0')
        cmd += ['-fw_cfg', 'name=etc/sercon-port,file=' + zero]
        cmd += ns.qemu_arg
        if ns.print_cmd:
            log(' '.join(cmd))

        logf = open(ns.log, 'wb')
        errf = open(ns.log + '.stderr', 'wb')
        t0 = time.monotonic()
        deadline = t0 + ns.timeout
        qemu = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errf,
                                start_new_session=True)
        os.set_blocking(qemu.stdout.fileno(), False)
        sel = selectors.DefaultSelector()
        sel.register(qemu.stdout, selectors.EVENT_READ)
        pairs = list(ns.pairs)
        matched = 0
        pending = ''           # console text since the last expect match
        console = []
        timed_out = False
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            if not sel.select(min(left, 1.0)):
                continue
            try:
                chunk = qemu.stdout.read(65536)
            except BlockingIOError:
                continue
            if not chunk:
                break
            logf.write(chunk)
            logf.flush()
            if ns.tee:
                sys.stdout.buffer.write(chunk)
                sys.stdout.flush()
            text = chunk.decode('utf-8', 'replace')
            console.append(text)
            if pairs:
                pending += text
                while pairs:
                    m = pairs[0][0].search(pending)
                    if not m:
                        # bound memory, keep enough for a prompt split over reads
                        pending = pending[-65536:]
                        break
                    data = pairs[0][1]
                    if isinstance(data, tuple):
                        # a reply computed from what the guest said (e.g. a
                        # key wrapped to the challenge it printed)
                        seen = ''.join(console)[:-len(pending)] + pending[:m.end()] if pending else ''.join(console)
                        res = subprocess.run(data[1], shell=True, input=seen.encode(),
                                             stdout=subprocess.PIPE, timeout=60)
                        data = res.stdout.rstrip(b'\n') + b'\n'
                        log('--send-cmd exited %d' % res.returncode)
                    try:
                        qemu.stdin.write(data)
                        qemu.stdin.flush()
                    except BrokenPipeError:
                        pass
                    log('sent %d bytes after /%s/' % (len(data), pairs[0][0].pattern))
                    pending = pending[m.end():]
                    pairs.pop(0)
                    matched += 1
        if timed_out:
            stop(qemu)
        try:
            qemu.wait(10)
        except subprocess.TimeoutExpired:
            stop(qemu)
        secs = time.monotonic() - t0
        logf.close()
        errf.close()
        text = ''.join(console)
        if timed_out:
            how, code = 'timeout', EXIT_TIMEOUT
        elif qemu.returncode != 0:
            how, code = 'qemu-error %d' % qemu.returncode, EXIT_QEMU_ERROR
            sys.stderr.write(open(ns.log + '.stderr', errors='replace').read())
        else:
            how = classify(text)
            code = EXIT_EXPECT if pairs else EXIT_OK
            if pairs:
                log('never matched: /%s/' % pairs[0][0].pattern)
        if swtpm is not None:
            stop(swtpm)
            if ns.swtpm_keep:
                if os.path.exists(ns.swtpm_keep):
                    shutil.rmtree(ns.swtpm_keep)
                shutil.copytree(tpm_state, ns.swtpm_keep, ignore=shutil.ignore_patterns('.lock'))
        log('%s after %.2f s (exit %d); console: %s' % (how, secs, code, ns.log))
        if ns.result:
            with open(ns.result, 'w') as f:
                json.dump({'exit': code, 'how': how, 'seconds': round(secs, 3),
                           'expects_matched': matched, 'expects_total': len(ns.pairs)}, f)
                f.write('\n')
        return code
    except SetupError as e:
        log(str(e))
        return EXIT_SETUP
    finally:
        stop(qemu)
        stop(swtpm)
        shutil.rmtree(rundir, ignore_errors=True)


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
