"""Reads the output of `openapi-python-client generate` and fails on every warning or error
but the four kept on purpose (api-spec/README.md, "Generated clients"):

- `GET /api-spec/openapi.yaml`: the document itself is YAML, which a generated client hands
  back as bytes (`Response.content`); nothing to parse it into.
- `PUT .../credentials`: the `application/pdf` form of the upload, for which the generator
  makes nothing; it makes the operation from the `application/octet-stream` form beside it.
- `POST .../members`: the spreadsheet forms (`text/csv`, XLSX) of bulk nominations, for people
  with a spreadsheet and curl; the generator makes the operation from the JSON form (one member
  or `{"items": [...]}`).

Usage: generator_warnings.py LOG. Prints every warning and the counts.
"""

import re
import sys

KEPT = {
    ("GET /api-spec/openapi.yaml", "Unsupported content_type application/yaml"),
    (
        "PUT /api/v1/conferences/{id}/delegations/{delegation_id}/credentials",
        "Unsupported content type application/pdf",
    ),
    (
        "POST /api/v1/conferences/{id}/delegations/{delegation_id}/members",
        "Unsupported content type text/csv",
    ),
    (
        "POST /api/v1/conferences/{id}/delegations/{delegation_id}/members",
        "Unsupported content type "
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
}


def findings(text):
    """(level, operation, detail) for every WARNING or ERROR block of the log."""
    out = []
    blocks = re.split(r"\n(?=(?:WARNING|ERROR) )", "\n" + text)
    for block in blocks[1:]:
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        header = lines[0]
        match = re.match(r"(WARNING|ERROR) parsing (\S+ \S+) within", header)
        operation = match.group(2) if match else header
        detail = lines[1] if len(lines) > 1 else ""
        # "Cannot parse response for status code <...> (reason), response will be omitted"
        reason = re.search(r"\(([^()]*)\), response will be omitted", detail)
        out.append((lines[0].split()[0], operation, reason.group(1) if reason else detail))
    return out


def main(path):
    text = open(path, encoding="utf-8").read()
    found = findings(text)
    unexpected = [f for f in found if (f[1], f[2]) not in KEPT]
    for level, operation, detail in found:
        mark = "kept" if (operation, detail) in KEPT else "FAIL"
        print(f"  [{mark}] {level} {operation}: {detail}")
    responses = sum("omitted" in block for block in text.split("\nWARNING"))
    print(
        f"generator: {len(found)} warnings ({len(found) - len(unexpected)} kept on purpose), "
        f"{responses} responses not parsed"
    )
    if "Generating" not in text or "Traceback" in text:
        print("the generator did not finish (its output above)", file=sys.stderr)
        sys.exit(1)
    if unexpected:
        print(f"{len(unexpected)} unexpected generator warnings", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1])
