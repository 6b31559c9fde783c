# qemu/verity-hashpart-datasize (issue 12): with a dm-verity tree on its own
# partition nothing on the data partition says where the data ends, and the
# root hash does not cover the superblock's data_blocks: a host that lowers
# it keeps the tree's top level valid (the shrunk volume verifies against the
# genuine root hash) and serves a shorter volume. The configuration pins the size
# (DATA_VERITY_DATA_SIZE); the init checks it against the superblock and the
# partition before activation. p6's tree is on slot 7 (cvm-data-verity).
#   1. the genuine disk boots, p6 mounted through dm-verity;
#   2. the host halves data_blocks in the superblock: refused, one FATAL line;
#   3. the host serves a shorter p6 (GPT entry shrunk, superblock genuine):
#      refused, one FATAL line.
# Each refusal: no mapping, no launch, the hash partition unchanged.
source "$REPO/qemu-tests/lib.sh"

# ==== expected strings: align these with the init's real messages ========
E_ACTIVE="cvminit: verity: data: /dev/mapper/cvm-data active (panic on corruption)"
E_MARKER="STANDIN: cat /opt/nvflare/data/DATA-MARKER: cvm-data marker"
E_SHRUNK_SB="data: the dm-verity superblock on /dev/vda7 covers 4194304 bytes of data but DATA_VERITY_DATA_SIZE=8388608"
E_SHORT_PART="data: /dev/vda6 is 4194304 bytes, shorter than DATA_VERITY_DATA_SIZE=8388608"
SB_DATA_BLOCKS=72               # offset of data_blocks (u64 LE) in the dm-verity superblock
# ==========================================================================

protected_disk --jobs-plain --verity-hash 6=7
[ "$(verity_value 6 HASH)" = PARTLABEL=cvm-data-verity ] || die "p6's tree is not on cvm-data-verity"
[ "$(verity_value 6 DATA_BLOCKS)" = 2048 ] || die "p6 is not 2048 blocks (8 MiB): the expected strings assume it"
cfg=$(config_file cvminit.conf <<CONF
PART_TIMEOUT=10
$(protected_config)
LAUNCHER_ARGS="--standin-cat=/opt/nvflare/data/DATA-MARKER"
CONF
)
grep -qx "DATA_VERITY_DATA_SIZE=8388608" "$cfg" || die "the configuration does not pin p6's data size"
protected_initramfs_build --config "$cfg"
cp "$DISK" "$WORK/genuine.img"

# 1: genuine
CONSOLE_LOG=$WORK/console-1.log CONSOLE_TXT=$WORK/console-1.txt
boot
expect_vm_exit 0
expect_poweroff
expect_no_regex '^cvminit: FATAL: '
expect_line "$E_ACTIVE"
expect_line "$E_MARKER"
expect_launched

# 2: data_blocks 2048 -> 1024 (the tree keeps two levels, its top block and
# so the root hash stay valid for the first 1024 blocks)
python3 - "$DISK" $(( $(part_offset 7) + SB_DATA_BLOCKS )) <<'PY'
import struct, sys
with open(sys.argv[1], 'r+b') as f:
    f.seek(int(sys.argv[2])); assert struct.unpack('<Q', f.read(8))[0] == 2048
    f.seek(int(sys.argv[2])); f.write(struct.pack('<Q', 1024))
PY
slot_extract 6 "$WORK/p6.img"
slot_extract 7 "$WORK/p7.img"
# the attack works against the root hash alone: walked the way the kernel
# walks it (superblock geometry, root hash -> top block -> level 0 -> data;
# veritysetup verify would also demand zeroed spare hash entries, which the
# kernel never reads), the shrunk volume verifies against the genuine hash
python3 - "$WORK/p6.img" "$WORK/p7.img" "$(verity_value 6 ROOTHASH)" <<'PY' ||
import hashlib, struct, sys
data, tree, root = open(sys.argv[1], 'rb').read(), open(sys.argv[2], 'rb').read(), bytes.fromhex(sys.argv[3])
assert tree[:8] == b'verity\0\0'
blocks, salt_size = struct.unpack_from('<QH', tree, 72)
salt = tree[88:88 + salt_size]
h = lambda b: hashlib.sha256(salt + b).digest()
sizes, n = [], blocks
while True:
    n = (n + 127) // 128
    sizes.append(n)
    if n == 1:
        break
start, pos = {}, 1                       # levels stored top first, after the superblock block
for lvl in reversed(range(len(sizes))):
    start[lvl], pos = pos, pos + sizes[lvl]
blk = lambda lvl, i: tree[(start[lvl] + i) * 4096:(start[lvl] + i + 1) * 4096]
entry = lambda lvl, i: blk(lvl, i // 128)[(i % 128) * 32:(i % 128 + 1) * 32]
ok = h(blk(len(sizes) - 1, 0)) == root
for lvl in range(len(sizes) - 1, 0, -1):
    ok = ok and all(h(blk(lvl - 1, i)) == entry(lvl, i) for i in range(sizes[lvl - 1]))
ok = ok and all(h(data[i * 4096:(i + 1) * 4096]) == entry(0, i) for i in range(blocks))
print('# shrunk superblock: %d data blocks, %s against the genuine root hash' % (blocks, 'verified' if ok else 'NOT verified'))
sys.exit(0 if ok and blocks == 1024 else 1)
PY
	die "the shrunk volume does not verify against the root hash: no attack to show"
rm -f "$WORK/p6.img" "$WORK/p7.img"
part_snapshot 7
CONSOLE_LOG=$WORK/console-2.log CONSOLE_TXT=$WORK/console-2.txt
boot
expect_vm_exit 0
expect_poweroff
expect_fatal verity "$E_SHRUNK_SB"
expect_no_line "$E_ACTIVE"
expect_not_launched
expect_part_unchanged 7

# 3: the genuine superblock, but p6's GPT entry ends after 4 MiB
cp "$WORK/genuine.img" "$DISK"
start=$(( $(part_offset 6) / 512 ))
sgdisk -d 6 -n "6:$start:$(( start + 4 * 2048 - 1 ))" -t 6:8300 -c 6:cvm-data \
	-u "6:$(awk '$1 == 6 { print $5 }' "$DISK.layout")" "$DISK" >"$WORK/sgdisk.log" 2>&1 ||
	{ sed 's/^/#   /' "$WORK/sgdisk.log"; die "sgdisk failed"; }
part_snapshot 7
CONSOLE_LOG=$WORK/console-3.log CONSOLE_TXT=$WORK/console-3.txt
boot
expect_vm_exit 0
expect_poweroff
expect_fatal verity "$E_SHORT_PART"
expect_no_line "$E_ACTIVE"
expect_not_launched
expect_part_unchanged 7
