"""Printed badges, read back as a door scanner would (scripts/badges-check.sh runs it).

Against a live server (BASE, an organiser's TOKEN): makes a conference with three delegations
(a state with names in Chinese script, one in Japanese, an organisation) and ten members, of
whom eight are accepted in delegations that count, one only nominated and one rejected; one
badge is reissued and one set to the category "vip". Then:

1. GET .../badges.html, saved to OUT/badges.html;
2. headless Chromium prints it to PDF (no header or footer: the page's own print CSS);
3. pdftoppm renders every page to PNG at 150 dpi;
4. zbarimg decodes every QR code of every page;
5. each decoded token is verified against GET .../badges/key with joserfc (a JOSE library
   nobody here wrote), alg EdDSA only; its payload must name the conference and a member;
6. the decoded member ids must be exactly the accepted members, each at its current version,
   and a tampered token must fail verification.

Prints what it found and exits non-zero on any difference. The first page's PNG is copied to
SCREENSHOT when given (the repository keeps one as an example).

Usage: badges_check.py BASE TOKEN OUT [SCREENSHOT]
"""

import glob
import json
import os
import shutil
import subprocess
import sys
import warnings

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from harness import request  # noqa: E402

BASE, TOKEN, OUT = sys.argv[1:4]
SCREENSHOT = sys.argv[4] if len(sys.argv) > 4 else None
API = BASE + "/api/v1"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# RFC 9864 deprecates the name "EdDSA" for "Ed25519"; the contract (and every JOSE library in
# use today) still says "EdDSA", which is what is checked here.
warnings.filterwarnings("ignore", message="EdDSA is deprecated")


def call(method, path, body=None, token=TOKEN, raw=False):
    status, payload = request(method, API + path, body, token, timeout=120, raw=raw)
    if status >= 300:
        sys.exit(f"{method} {path}: {status} {payload}")
    return payload.decode() if raw else payload


def fail(message):
    print("FAILED: " + message)
    sys.exit(1)


conference = call("POST", "/conferences", {
    "title": "Mekong Border Management Dialogue", "status": "published",
    "start_date": "2026-03-10", "end_date": "2026-03-11", "time_zone": "Asia/Bangkok",
    "venue": {"city": "Bangkok", "country": "Thailand"}, "host_country": "TH",
})
cid = conference["id"]
C = f"/conferences/{cid}"
organisation = call("POST", "/organisations", {
    "name": "Badge Check Migration Office", "acronym": "BCMO", "kind": "intergovernmental",
})
delegations = call("POST", f"{C}/delegations", {"items": [
    {"country": "China", "status": "registered",
     "authority": "National Immigration Administration"},
    {"country": "Japan", "status": "confirmed", "authority": "Immigration Services Agency"},
    {"organisation_id": organisation["id"], "status": "registered"},
]})["items"]
people = {
    0: [
        {"honorific": "H.E. Mr.", "full_name": "Wang Wei", "family_name": "Wang",
         "native_name": "王伟", "title": "Deputy Commissioner", "is_head": True},
        {"full_name": "Li Na", "family_name": "Li", "native_name": "李娜"},
        {"full_name": "Zhang Min", "family_name": "Zhang", "native_name": "张敏"},
    ],
    1: [
        {"honorific": "Mr.", "full_name": "Sato Hiroshi", "family_name": "Sato",
         "native_name": "佐藤 ひろし", "is_head": True},
        {"full_name": "Tanaka Yuki", "family_name": "Tanaka", "native_name": "田中 ゆき"},
        {"full_name": "Kobayashi Aoi", "family_name": "Kobayashi"},
    ],
    2: [
        {"honorific": "Ms.", "full_name": "Nguyễn Thị Lan", "family_name": "Nguyễn",
         "is_head": True},
        {"full_name": "Ana Silva", "family_name": "Silva"},
        {"full_name": "Peter Rejected"},
        {"full_name": "Paula Nominated"},
    ],
}
accepted = {}
for i, members in people.items():
    d = delegations[i]["id"]
    for body in members:
        m = call("POST", f"{C}/delegations/{d}/members", body)
        if body["full_name"] == "Peter Rejected":
            call("PATCH", f"{C}/delegations/{d}/members/{m['id']}",
                 {"nomination_status": "rejected"})
        elif body["full_name"] == "Paula Nominated":
            call("PATCH", f"{C}/delegations/{d}/members/{m['id']}",
                 {"nomination_status": "nominated"})
        else:
            accepted[m["id"]] = d
first = next(iter(accepted))
badge = f"{C}/delegations/{accepted[first]}/members/{first}/badge"
call("GET", badge)
call("POST", badge + "/reissue", {})
call("PATCH", badge, {"category": "vip"})

os.makedirs(OUT, exist_ok=True)
html_path = os.path.join(OUT, "badges.html")
with open(html_path, "w", encoding="utf-8") as f:
    f.write(call("GET", f"{C}/badges.html", raw=True))
pdf_path = os.path.join(OUT, "badges.pdf")
subprocess.run([
    CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
    "--print-to-pdf=" + pdf_path, "file://" + os.path.abspath(html_path),
], check=True, capture_output=True, timeout=120)
for old in glob.glob(os.path.join(OUT, "page-*.png")):
    os.remove(old)
subprocess.run(["pdftoppm", "-r", "150", "-png", pdf_path, os.path.join(OUT, "page")],
               check=True, timeout=120)
pages = sorted(glob.glob(os.path.join(OUT, "page-*.png")))
tokens = []
for page in pages:
    # zbarimg exits 4 when a page has no symbol at all: that is a failure below, not here.
    run = subprocess.run(["zbarimg", "-q", "--raw", "-Sdisable", "-Sqrcode.enable", page],
                         capture_output=True, text=True, timeout=120)
    found = [line.strip() for line in run.stdout.splitlines() if line.strip()]
    print(f"{os.path.basename(page)}: {len(found)} QR codes decoded by zbarimg")
    tokens += found

jwk = call("GET", f"{C}/badges/key", token=None)
key = OKPKey.import_key(jwk)
decoded = {}
for token in tokens:
    try:
        obj = jws.deserialize_compact(token, key, algorithms=["EdDSA"])
    except JoseError as e:
        fail(f"a decoded token does not verify against the JWK: {e!r}: {token[:40]}...")
    if obj.protected.get("alg") != "EdDSA" or obj.protected.get("kid") != jwk["kid"]:
        fail(f"header {obj.protected}")
    claims = json.loads(obj.payload)
    if claims.get("iss") != cid or set(claims) != {"iss", "sub", "ver", "cat"}:
        fail(f"payload {claims}")
    decoded[claims["sub"]] = claims
tampered = tokens[0][:-2] + ("AA" if not tokens[0].endswith("AA") else "BB")
try:
    jws.deserialize_compact(tampered, key, algorithms=["EdDSA"])
    fail("a tampered token verified")
except JoseError:
    pass

print(f"pages: {len(pages)} (A4, four badges to a page)")
print(f"tokens decoded: {len(tokens)}; verified with joserfc against kid {jwk['kid']}: "
      f"{len(decoded)} distinct members; a tampered token: refused")
if len(tokens) != len(accepted) or set(decoded) != set(accepted):
    fail(f"decoded members {sorted(decoded)} != accepted members {sorted(accepted)}")
if decoded[first]["ver"] != 2 or decoded[first]["cat"] != "vip":
    fail(f"the reissued VIP badge reads {decoded[first]}")
if len(pages) != (len(accepted) + 3) // 4:
    fail(f"{len(pages)} pages for {len(accepted)} badges")
print(f"decoded member ids == the {len(accepted)} accepted members (1 nominated and "
      f"1 rejected member printed no badge); the reissued badge reads ver 2, cat vip: ok")
if SCREENSHOT:
    shutil.copyfile(pages[0], SCREENSHOT)
    print(f"first page: {SCREENSHOT}")
