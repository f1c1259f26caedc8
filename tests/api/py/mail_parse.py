"""Reads one e-mail (RFC 5322, as an SMTP server received it) on stdin with Python's `email`
package (policy `default`: headers decoded, RFC 2047 words and all) and prints it as JSON:
{"from", "to", "to_names", "to_addresses", "subject", "message_id", "content_type",
"headers": {name: [values]}, "parts": [{"content_type", "charset", "content"}]}.
"""
import email, email.policy, json, sys

raw = sys.stdin.buffer.read()
msg = email.message_from_bytes(raw, policy=email.policy.default)
to = msg["To"]
headers = {}
for name, value in msg.items():
    headers.setdefault(name.lower(), []).append(str(value))
parts = []
for part in msg.walk():
    if part.is_multipart():
        continue
    parts.append({
        "content_type": part.get_content_type(),
        "charset": part.get_content_charset(),
        "content": part.get_content(),
    })
print(json.dumps({
    "from": str(msg["From"]),
    "to": str(to),
    "to_names": [a.display_name for a in to.addresses] if to is not None else [],
    "to_addresses": [a.addr_spec for a in to.addresses] if to is not None else [],
    "subject": str(msg["Subject"]),
    "message_id": str(msg["Message-ID"]),
    "content_type": msg.get_content_type(),
    "headers": headers,
    "parts": parts,
    "defects": [str(d) for d in msg.defects],
}, ensure_ascii=False))
