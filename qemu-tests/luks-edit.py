#!/usr/bin/env python3
"""Edits a LUKS2 header the way a host that owns the disk can: change the
JSON, then recompute the two unkeyed header checksums, so libcryptsetup
accepts the result as a valid header. Keyslots, digest, UUID and seqid stay
the genuine ones. Test tool (qemu-tests and tests/test_luks_header.c).

  luks-edit.py IMAGE [--offset BYTES] EDIT...
    set PATH=JSON   e.g. set segments.0.encryption='"cipher_null-ecb"'
    del PATH        e.g. del tokens.0
    dump            print the (edited) JSON on stdout

PATH is dotted (segments.0.offset). LUKS2 on-disk format: two copies of a
4096-byte binary header + JSON area (hdr_size bytes each), the checksum being
SHA-256 over the binary header with its csum field zeroed, then the JSON area.
"""
import hashlib
import json
import struct
import sys


def die(msg):
    sys.stderr.write("luks-edit.py: %s\n" % msg)
    sys.exit(1)


def walk(obj, path, create):
    keys = path.split(".")
    for k in keys[:-1]:
        if k not in obj:
            if not create:
                die("no %s in the JSON" % path)
            obj[k] = {}
        obj = obj[k]
    return obj, keys[-1]


def main(argv):
    if len(argv) < 2:
        die("usage: luks-edit.py IMAGE [--offset BYTES] EDIT...")
    image, args, base = argv[1], argv[2:], 0
    if args[:1] == ["--offset"]:
        base, args = int(args[1]), args[2:]
    with open(image, "r+b") as f:
        f.seek(base)
        first = f.read(4096)
        if first[:6] != b"LUKS\xba\xbe":
            die("no LUKS2 header at offset %d" % base)
        hdr_size = struct.unpack(">Q", first[8:16])[0]
        f.seek(base)
        area = bytearray(f.read(2 * hdr_size))
        raw = bytes(area[4096:hdr_size]).split(b"\0", 1)[0]
        doc = json.loads(raw)
        for e in args:
            if e == "dump":
                continue
            op, _, rest = e.partition(" ")
            if op == "set":
                path, _, value = rest.partition("=")
                obj, key = walk(doc, path, True)
                obj[key] = json.loads(value)
            elif op == "del":
                obj, key = walk(doc, rest, False)
                if key not in obj:
                    die("no %s in the JSON" % rest)
                del obj[key]
            else:
                die("unknown edit %r" % e)
        text = json.dumps(doc, separators=(",", ":")).encode()
        if len(text) >= hdr_size - 4096:
            die("the edited JSON does not fit its area")
        for n in (0, 1):
            off = n * hdr_size
            jarea = text + b"\0" * (hdr_size - 4096 - len(text))
            area[off + 4096:off + hdr_size] = jarea
            area[off + 448:off + 512] = b"\0" * 64
            digest = hashlib.sha256(bytes(area[off:off + hdr_size])).digest()
            area[off + 448:off + 448 + 32] = digest
        f.seek(base)
        f.write(area)
    if "dump" in args:
        print(json.dumps(doc, indent=1))


if __name__ == "__main__":
    main(sys.argv)
