"""Outlook ``.msg`` files for the tests, written from scratch.

Nothing in the project's dependencies writes ``.msg`` (python-oxmsg and
olefile read), so this module writes the two formats involved, as their
specifications give them:

- the OLE compound file ([MS-CFB], version 3: 512-byte sectors, streams under
  4,096 bytes in the mini stream's 64-byte sectors), :func:`compound_file`;
- the Outlook message inside it ([MS-OXMSG]: a ``__properties_version1.0``
  stream per object, variable-length values in ``__substg1.0_<id><type>``
  streams, ``__attach_version1.0_#N`` and ``__recip_version1.0_#N`` storages,
  a ``__nameid_version1.0`` storage), :func:`make_msg`.
"""

from __future__ import annotations

import datetime as dt
import struct

SECTOR, MINI, CUTOFF = 512, 64, 4096
FREE, END, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
PT_LONG, PT_SYSTIME, PT_UNICODE, PT_BINARY = 0x0003, 0x0040, 0x001F, 0x0102

Tree = dict  # name -> bytes (a stream) or Tree (a storage)


def _sectors(data: bytes, size: int) -> list[bytes]:
    return [data[i:i + size].ljust(size, b"\0") for i in range(0, len(data), size)]


def _chain(first: int, count: int) -> list[int]:
    return [first + i + 1 for i in range(count - 1)] + [END] if count else []


class _Writer:
    def __init__(self) -> None:
        self.entries: list[list] = []  # [name, type, children ids, stream bytes]
        self.big: list[tuple[int, bytes]] = []  # (entry, stream) kept in regular sectors
        self.mini = bytearray()
        self.minifat: list[int] = []
        self.starts: dict[int, int] = {}  # entry -> first mini sector

    def add(self, name: str, value, kind: int | None = None) -> int:
        number = len(self.entries)
        self.entries.append([name, kind or (1 if isinstance(value, dict) else 2), [], value])
        if isinstance(value, dict):
            self.entries[number][2] = [self.add(k, v) for k, v in value.items()]
        elif len(value) >= CUTOFF:
            self.big.append((number, value))
        elif value:
            count = -(-len(value) // MINI)
            self.starts[number] = len(self.minifat)
            self.minifat += _chain(len(self.minifat), count)
            self.mini += value.ljust(count * MINI, b"\0")
        return number

    def tree(self, ids: list[int]) -> int:
        """A binary search tree of siblings in [MS-CFB] order (length, then upper case), all black."""
        if not ids:
            return NOSTREAM
        ids = sorted(ids, key=lambda i: (len(self.entries[i][0]), self.entries[i][0].upper()))
        middle = len(ids) // 2
        self.siblings[ids[middle]] = (self.tree(ids[:middle]), self.tree(ids[middle + 1:]))
        return ids[middle]

    def entry(self, number: int, start: int, size: int) -> bytes:
        name, kind, children, _ = self.entries[number]
        encoded = (name + "\0").encode("utf-16-le")
        left, right = self.siblings.get(number, (NOSTREAM, NOSTREAM))
        child = self.tree(children) if kind in (1, 5) else NOSTREAM
        return struct.pack("<64sHBBIII16sIQQIQ", encoded, len(encoded), kind, 1, left, right, child,
                           b"\0" * 16, 0, 0, 0, start, size)

    def write(self) -> bytes:
        sectors: list[bytes] = []
        fat: list[int] = []
        starts = {}
        for number, data in self.big:
            starts[number] = len(sectors)
            fat += _chain(len(sectors), -(-len(data) // SECTOR))
            sectors += _sectors(data, SECTOR)
        mini_start = len(sectors) if self.mini else END
        fat += _chain(len(sectors), -(-len(self.mini) // SECTOR))
        sectors += _sectors(bytes(self.mini), SECTOR)
        minifat_start = len(sectors) if self.minifat else END
        minifat = b"".join(struct.pack("<I", n) for n in self.minifat)
        fat += _chain(len(sectors), -(-len(minifat) // SECTOR))
        sectors += _sectors(minifat + b"\xff" * (-len(minifat) % SECTOR), SECTOR)  # padding: free
        self.siblings: dict[int, tuple[int, int]] = {}
        directory = b""
        for number, (_, kind, _, value) in enumerate(self.entries):
            if kind == 5:
                start, size = mini_start, len(self.mini)
            elif kind == 1:
                start, size = 0, 0
            elif number in starts:
                start, size = starts[number], len(value)
            else:
                start, size = self.starts.get(number, END), len(value)
            directory += self.entry(number, start, size)
        directory += b"\0" * (-len(directory) % SECTOR)
        directory_start = len(sectors)
        fat += _chain(len(sectors), len(directory) // SECTOR)
        sectors += _sectors(directory, SECTOR)
        fat_sectors = _add_fat(sectors, fat)
        difat = fat_sectors + [FREE] * (109 - len(fat_sectors))
        header = struct.pack("<8s16sHHHHH6sIIIIIIIII109I", bytes.fromhex("D0CF11E0A1B11AE1"), b"\0" * 16,
                             0x3E, 3, 0xFFFE, 9, 6, b"\0" * 6, 0, len(fat_sectors), directory_start, 0, CUTOFF,
                             minifat_start, -(-len(minifat) // SECTOR), END, 0, *difat)
        return header + b"".join(sectors)


def _add_fat(sectors: list[bytes], fat: list[int]) -> list[int]:
    """Append the FAT (which maps its own sectors too) to ``sectors``; its sector numbers."""
    count = 1
    while len(sectors) + count > count * (SECTOR // 4):
        count += 1
    numbers = list(range(len(sectors), len(sectors) + count))
    fat = fat + [FATSECT] * count
    fat += [FREE] * (count * SECTOR // 4 - len(fat))
    sectors += _sectors(b"".join(struct.pack("<I", n) for n in fat), SECTOR)
    return numbers


def compound_file(tree: Tree) -> bytes:
    """An OLE compound file holding ``tree`` (names to stream bytes or to sub-trees)."""
    writer = _Writer()
    writer.add("Root Entry", tree, kind=5)
    return writer.write()


def _properties(props: list[tuple[int, int, object]], header: bytes) -> Tree:
    """An object's property stream and value streams from (property id, type, value)."""
    streams: Tree = {}
    entries = header
    for pid, ptype, value in props:
        if ptype in (PT_UNICODE, PT_BINARY):
            data = value.encode("utf-16-le") if ptype == PT_UNICODE else value
            streams[f"__substg1.0_{pid:04X}{ptype:04X}"] = data
            payload = struct.pack("<II", len(data) + (2 if ptype == PT_UNICODE else 0), 0)
        elif ptype == PT_SYSTIME:
            since = value - dt.datetime(1601, 1, 1, tzinfo=dt.timezone.utc)
            payload = struct.pack("<Q", (since.days * 86400 + since.seconds) * 10_000_000)
        else:
            payload = struct.pack("<II", value, 0)
        entries += struct.pack("<HHI", ptype, pid, 6) + payload
    return {"__properties_version1.0": entries, **streams}


def make_msg(subject: str, sender: tuple[str, str], sent: dt.datetime, body: str,
             attachments: list[tuple[str, bytes]] = ()) -> bytes:
    """An Outlook e-mail (``IPM.Note``) with Unicode properties, one recipient and ``attachments``."""
    message = [(0x001A, PT_UNICODE, "IPM.Note"), (0x0037, PT_UNICODE, subject), (0x0039, PT_SYSTIME, sent),
               (0x0C1A, PT_UNICODE, sender[0]), (0x0C1F, PT_UNICODE, sender[1]), (0x1000, PT_UNICODE, body),
               (0x340D, PT_LONG, 0x00040000)]  # STORE_UNICODE_OK
    tree: Tree = {"__nameid_version1.0": {"__substg1.0_00020102": b"", "__substg1.0_00030102": b"",
                                          "__substg1.0_00040102": b""}}
    tree["__recip_version1.0_#00000000"] = _properties(
        [(0x0C15, PT_LONG, 1), (0x3001, PT_UNICODE, "Team"), (0x3003, PT_UNICODE, "team@example.org")], b"\0" * 8)
    for number, (name, data) in enumerate(attachments):
        tree[f"__attach_version1.0_#{number:08X}"] = _properties(
            [(0x0E21, PT_LONG, number), (0x3701, PT_BINARY, data), (0x3704, PT_UNICODE, name[:12]),
             (0x3705, PT_LONG, 1), (0x3707, PT_UNICODE, name)], b"\0" * 8)
    header = struct.pack("<8xIIII8x", 1, len(attachments), 1, len(attachments))
    tree.update(_properties(message, header))
    return compound_file(tree)
