"""schemathesis hooks for scripts/schemathesis.sh: how to send an application/pdf body.

The letter of credentials (PUT .../credentials) takes the PDF itself as its body. The
generated value (bytes, or a string for the schema's `format: binary`) is sent as it is, so
the server's own checks (the %PDF- magic, 5 MiB) are what the fuzzer meets.
"""

import schemathesis


@schemathesis.serializer("application/pdf")
def pdf(ctx, value):
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    return b"%PDF-1.4\n%%EOF\n"
