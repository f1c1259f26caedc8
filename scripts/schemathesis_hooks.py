"""schemathesis hooks for scripts/schemathesis.sh: the spec with its `x-strict` keywords
applied, how to send an application/pdf body, and one `Idempotency-Key` per body.

`x-strict` holds what code generators cannot take and validators should (the time zone names,
the `type` and `status` of each problem response, the delegation's either/or;
scripts/strict_spec.py): the fuzzer generates and checks with it, as the test suite does.

The letter of credentials (PUT .../credentials) takes the PDF itself as its body
(`application/pdf` or `application/octet-stream`): the generated
value (bytes, or a string for the schema's `format: binary`), half of the time inside a
well-formed PDF (the server parses uploads as PDFs), so that the fuzzer meets the upload and not
only the 422.

Bulk nominations (POST .../members) also take a spreadsheet (`text/csv`, XLSX): the generated
string, half of the time as the one cell of a sheet with a `full_name` header (so that the
fuzzer meets the import, not only the 422 of a sheet without that column); an XLSX body is sent
as generated (bytes that are not a workbook are 422).
"""

import hashlib
import json

import schemathesis

from minimal_pdf import minimal_pdf
from strict_spec import apply_strict


@schemathesis.hook
def before_load_schema(ctx, raw_schema):
    apply_strict(raw_schema)


# The same for the generic binary form the upload also takes (what generated clients send).
@schemathesis.serializer("application/pdf", "application/octet-stream")
def pdf(ctx, value):
    if isinstance(value, str):
        value = value.encode("utf-8")
    if not isinstance(value, bytes):
        return minimal_pdf()
    # An upload must parse as a PDF (else 422), which a schema of `format: binary` cannot say
    # (api-spec/README.md): generated bodies whose first byte is even are carried in a comment
    # of a well-formed PDF, so that the upload itself is fuzzed; the others are sent as
    # generated.
    if value.startswith(b"%PDF-") or (value[:1] and value[0] % 2):
        return value
    return minimal_pdf(value)


@schemathesis.serializer("text/csv")
def csv_sheet(ctx, value):
    if not isinstance(value, str):
        value = json.dumps(value, default=repr)
    if len(value) % 2:
        return value.encode("utf-8")
    cell = '"' + value.replace('"', '""') + '"'
    return f"full_name\r\n{cell}\r\n".encode("utf-8")


@schemathesis.serializer("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
def xlsx_sheet(ctx, value):
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes):
        return value
    return json.dumps(value, default=repr).encode("utf-8")


@schemathesis.hook
def before_call(ctx, case, kwargs):
    """An `Idempotency-Key` names one request: the same key with another body is 422
    (api-spec/README.md), which the spec cannot say. Generated keys repeat (`0`, `A` ...) across
    unrelated bodies, so each is tied to its request here: the key plus a digest of the method,
    path and body. The same key and request still make the same key, so replays are fuzzed
    too."""
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() == "idempotency-key" and isinstance(headers[name], str):
            # The body in the order sent (the server compares what it received), and where.
            request = [case.method, case.path, case.path_parameters, case.body]
            digest = hashlib.sha256(json.dumps(request, default=repr).encode("utf-8"))
            digest = digest.hexdigest()[:16]
            headers[name] = f"{headers[name][:200]}-{digest}"
