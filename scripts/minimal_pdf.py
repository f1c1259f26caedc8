"""A well-formed PDF of one empty A4 page (ISO 32000-1, with its cross-reference table), the
smallest letter of credentials the server accepts: uploads must parse as a PDF, not just begin
with `%PDF-`. Used by the schemathesis fixtures and hooks."""


def minimal_pdf(comment=b""):
    """The PDF; `comment` (bytes without a line break) is kept in a comment after the header."""
    out = bytearray(b"%PDF-1.4\n")
    if comment:
        out += b"%" + comment.replace(b"\r", b" ").replace(b"\n", b" ") + b"\n"
    objects = [b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
               b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>"]
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


if __name__ == "__main__":
    import sys

    sys.stdout.buffer.write(minimal_pdf())
