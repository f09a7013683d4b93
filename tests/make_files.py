"""Small report files the format tests make themselves (nothing downloaded, nothing stored)."""

from __future__ import annotations

import zlib


def _pdf(objects: list[bytes], trailer_extra: bytes = b"") -> bytes:
    """A PDF file of ``objects`` (object 1 is the catalog), with a correct xref table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer_extra, xref)
    return bytes(out)


def _escape(text: str) -> bytes:
    return text.encode("latin-1").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def make_pdf(pages: list[list[tuple[int, str]]], info: dict[str, str] | None = None,
             trailer_extra: bytes = b"") -> bytes:
    """A text PDF: each page a list of (font size, line) drawn top-down in Helvetica."""
    count = len(pages)
    kids = b" ".join(b"%d 0 R" % (4 + 2 * i) for i in range(count))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    for lines in pages:
        y, content = 760, b""
        for size, line in lines:
            content += b"BT /F1 %d Tf 50 %d Td (%s) Tj ET\n" % (size, y, _escape(line))
            y -= size + 8
        page_number = len(objects) + 1
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                       b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (page_number + 1))
        objects.append(_stream(content))
    if info:
        entries = b" ".join(b"/%s (%s)" % (k.encode(), _escape(v)) for k, v in info.items())
        objects.append(b"<< %s >>" % entries)
        trailer_extra += b"/Info %d 0 R " % len(objects)
    return _pdf(objects, trailer_extra)


def make_image_pdf(lines: list[str]) -> bytes:
    """A 'scanned' PDF: one page that is only an image of the text (no text layer)."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", (1700, 300 + 120 * len(lines)), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=72)
    for number, line in enumerate(lines):
        draw.text((100, 100 + 120 * number), line, fill=0, font=font)
    width, height = image.size
    data = zlib.compress(image.tobytes())
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] "
               b"/Resources << /XObject << /Im1 5 0 R >> >> /Contents 4 0 R >>" % (width * 72 // 200, height * 72 // 200),
               _stream(b"q %d 0 0 %d 0 0 cm /Im1 Do Q" % (width * 72 // 200, height * 72 // 200)),
               _stream(data, b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
                             b"/BitsPerComponent 8 /Filter /FlateDecode " % (width, height))]
    return _pdf(objects)


ENCRYPT = (b"/Encrypt << /Filter /Standard /V 1 /R 2 /Length 40 /P -4 "
           b"/O <" + b"11" * 32 + b"> /U <" + b"22" * 32 + b"> >> /ID [<00112233445566778899aabbccddeeff> "
           b"<00112233445566778899aabbccddeeff>] ")


def parse_files(folder, files: dict) -> list:
    """Write ``files`` (relative name -> text or bytes) under ``folder``, then
    discover and parse the whole folder: every Report and CorpusError, in order."""
    from searchapp.corpus import discover, parse_file

    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
    found, errors = discover(folder)
    assert errors == []
    return [item for cf in found for item in parse_file(cf)]
