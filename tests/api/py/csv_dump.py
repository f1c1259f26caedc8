"""Reads a CSV document (RFC 4180, UTF-8) on stdin with Python's csv module and prints its
records as a JSON array of arrays of strings. Fails on bytes that are not UTF-8."""
import csv
import io
import json
import sys

data = sys.stdin.buffer.read()
text = data.decode("utf-8", errors="strict")
rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
json.dump(rows, sys.stdout, ensure_ascii=False)
