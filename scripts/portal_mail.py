"""Prints the portal link of the newest e-mail of one kind to one address in a maildir (the
test SMTP server's, aiosmtpd's Mailbox handler), waiting up to 30 s for it to arrive.

usage: python3 scripts/portal_mail.py MAILDIR ADDRESS KIND
KIND is the e-mail's X-Plenary-Kind (invitation, password_reset, ...). The link is the first
URL in the text part that contains /portal/.
"""
import email
import email.policy
import mailbox
import re
import sys
import time


def newest_link(maildir, address, kind):
    box = mailbox.Maildir(maildir, factory=None, create=False)
    found = []
    for key in box.keys():
        raw = box.get_bytes(key)
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        if address.lower() not in str(msg.get("To", "")).lower():
            continue
        if msg.get("X-Plenary-Kind", "") != kind:
            continue
        part = msg.get_body(preferencelist=("plain",))
        text = part.get_content() if part else ""
        links = re.findall(r"https?://\S+/portal/\S+", text)
        if links:
            found.append((str(msg.get("Message-ID", "")), links[0]))
    found.sort()
    return found[-1][1] if found else None


def main():
    maildir, address, kind = sys.argv[1:4]
    for _ in range(120):
        try:
            link = newest_link(maildir, address, kind)
        except FileNotFoundError:
            link = None
        if link:
            print(link)
            return 0
        time.sleep(0.25)
    print(f"no {kind} e-mail to {address} in {maildir}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
