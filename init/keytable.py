#!/usr/bin/env python3
"""Regenerates the configuration-key table of README.md from
init/config_keys.def (run: make readme-keys). tests/test_config.c fails when
a key has no row, so the table cannot silently fall behind the schema."""
import re
import sys

ALLOWED = {
    'UINT': lambda s: s.replace('..', ' to '),
    'PARTREF': lambda s: '`PARTLABEL=<name>`, `PARTUUID=<uuid>`' + (', `none`' if s == 'optional' else ''),
    'FSTYPE': lambda s: 'file-system type',
    'PATH': lambda s: 'absolute path',
    'MOUNTOPTS': lambda s: 'mount options',
    'SIZE': lambda s: 'N, Nk, Nm, Ng, N%',
    'ARGS': lambda s: 'words',
    'ROOTHASH': lambda s: '64 hex digits, or none (test builds)',
    'HASHLOC': lambda s: 'appended, `PARTLABEL=<name>`, `PARTUUID=<uuid>`',
    'BYTES': lambda s: 'bytes, multiple of 4096',
    'HEX': lambda s: ('exactly %d hex digits' % (2 * int(s.split('..')[0]))
                      if s.split('..')[0] == s.split('..')[-1] != '0' else 'hex (empty: any)'),
    'FLAGS': lambda s: 'comma-separated: ' + s.replace('|', ', '),
}
MACROS = {'KS_CHOICES': 'prompt, tpm2, snp-derived, kbs (test builds also: keyfile)',
          'TEE_CHOICES': 'auto, snp, tdx (test builds also: mock)',
          'PROVISION_CHOICES': 'prompt (test builds also: keyfile)'}
LINE = re.compile(r'KEY\((\w+), "(\w+)", (\w+), ("[^"]*"|KS_CHOICES|TEE_CHOICES|PROVISION_CHOICES), "([^"]*)", (NULL|"[^"]*"), "([^"]*)"\)')
HEADER = '| key | default | allowed | kernel parameter | meaning |\n| --- | --- | --- | --- | --- |\n'


def rows(defs):
    out = []
    for line in defs:
        m = LINE.match(line)
        if not m:
            continue
        _, name, typ, spec, default, param, meaning = m.groups()
        if spec in MACROS:
            allowed = MACROS[spec]
        else:
            spec = spec.strip('"')
            allowed = spec.replace('|', ', ') if typ == 'ENUM' else ALLOWED[typ](spec)
        p = '' if param == 'NULL' else '`' + param.strip('"') + '`'
        d = '(empty)' if default == '' else '`' + default + '`'
        out.append(f'| `{name}` | {d} | {allowed} | {p} | {meaning} |')
    return '\n'.join(out)


def main():
    readme = sys.argv[1] if len(sys.argv) > 1 else 'README.md'
    with open('init/config_keys.def') as f:
        table = rows(f)
    with open(readme) as f:
        text = f.read()
    start = text.index(HEADER) + len(HEADER)
    end = text.index('\n\n', start)
    with open(readme, 'w') as f:
        f.write(text[:start] + table + text[end:])


if __name__ == '__main__':
    main()
