"""Summarises schemathesis' JSON run reports (scripts/schemathesis.sh): per run, the cases
generated and the warnings; per operation, how many positive (schema-valid) cases the server
accepted with a 2xx, summed over the phases, next to those it refused as unreachable (404),
in conflict (409) or on the data (other 4xx).

Usage: schemathesis_report.py REPORT.json...
"""

import json
import os
import sys

totals = {}
for path in sys.argv[1:]:
    if not os.path.exists(path):
        continue
    with open(path, encoding="utf-8") as f:
        report = json.load(f)
    name = os.path.splitext(os.path.basename(path))[0]
    cases = report.get("test_cases") or {}
    print(f"{name}: {cases.get('generated', 0)} cases generated, "
          f"{cases.get('with_failures', 0)} with failures")
    for kind, labels in sorted((report.get("warnings") or {}).items()):
        if labels:
            print(f"  warning {kind}: {len(labels)}")
            for label in labels:
                print(f"    - {label}")
    for label, phases in (report.get("valid_rates") or {}).items():
        row = totals.setdefault(label, {"accepted": 0, "unreachable": 0, "conflicts": 0,
                                        "rejected": 0})
        for rate in phases.values():
            for key in row:
                row[key] += rate.get(key, 0)

if totals:
    width = max(len(label) for label in totals)
    print(f"{'operation':<{width}}  {'2xx':>5} {'404':>5} {'409':>5} {'4xx':>5}")
    for label in sorted(totals, key=lambda s: (s.split(" ", 1)[1], s)):
        row = totals[label]
        print(f"{label:<{width}}  {row['accepted']:>5} {row['unreachable']:>5} "
              f"{row['conflicts']:>5} {row['rejected']:>5}")
    never = sorted(label for label, row in totals.items() if not row["accepted"])
    print(f"operations with no positive case accepted: {len(never)}")
    for label in never:
        print(f"  - {label}")
