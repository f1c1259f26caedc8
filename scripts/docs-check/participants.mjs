// The printable List of Participants in headless Debian Chromium (driven by playwright-core):
// 1. the Lianyungang list (made public by an admin) loads with no request but the page itself
//    and no console error; its screenshot is saved;
// 2. a conference of the check's own, created through the API, with a member whose name is
//    given in Chinese script ("张伟") and a Vietnamese one ("Nguyễn Văn An"), is printed to PDF
//    (A4) and the PDF's text (poppler's pdftotext) holds both names.
//
// usage: node participants.mjs BASE_URL ORGANISER_TOKEN ADMIN_TOKEN SCREENSHOT.png
// env:   CHROMIUM (default /usr/bin/chromium)
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [base, token, adminToken, screenshot] = process.argv.slice(2);
if (!base || !token || !adminToken || !screenshot) {
  console.error("usage: node participants.mjs BASE_URL ORGANISER_TOKEN ADMIN_TOKEN SCREENSHOT.png");
  process.exit(2);
}
const LIANYUNGANG = "019954f8-9000-7a00-8000-17a9f0c0e000";
const problems = [];

async function api(method, path, bearer, body, headers = {}) {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${bearer}`,
      ...(body ? { "content-type": "application/json" } : {}),
      ...headers,
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path} answered ${r.status}: ${text}`);
  return { json: text ? JSON.parse(text) : null, etag: r.headers.get("etag") };
}

// Lianyungang's list made public (by an admin, with the conference's ETag).
const conf = await api("GET", `/api/v1/conferences/${LIANYUNGANG}`, adminToken);
await api("PATCH", `/api/v1/conferences/${LIANYUNGANG}`, adminToken,
  { participants_public: true }, conf.etag ? { "if-match": conf.etag } : {});

// The check's own conference: China (host) with a member named in both scripts, Viet Nam with
// a Vietnamese name, the list public.
const own = (await api("POST", "/api/v1/conferences", token, {
  title: "Participants check: names in both scripts",
  status: "published",
  participants_public: true,
  start_date: "2025-09-17",
  end_date: "2025-09-18",
  time_zone: "Asia/Shanghai",
  venue: { city: "Lianyungang", region: "Jiangsu", country: "CN" },
})).json;
const delegations = (await api("POST", `/api/v1/conferences/${own.id}/delegations`, token, {
  items: [{ country: "CN", role: "host" }, { country: "VN" }, { country: "JP" }, { country: "TH" }],
})).json.items;
const members = (d) => `/api/v1/conferences/${own.id}/delegations/${d.id}/members`;
await api("POST", members(delegations[0]), token, {
  full_name: "Zhang Wei", family_name: "Zhang", native_name: "张伟", honorific: "H.E.",
  title: "Director-General", is_head: true,
});
await api("POST", members(delegations[1]), token, {
  full_name: "Nguyễn Văn An", family_name: "Nguyễn", honorific: "Mr.", position: "Deputy Director",
});
// A Japanese name in Han characters only (tagged ja by the delegation's country, so printed in
// Japanese glyph forms) and a Thai one (boxes on a machine without a Thai font).
await api("POST", members(delegations[2]), token, {
  full_name: "Yamada Taro", family_name: "Yamada", native_name: "山田太郎", category: "alternate",
});
await api("POST", members(delegations[3]), token, {
  full_name: "Somchai Wongsawat", family_name: "Wongsawat", native_name: "สมชาย วงศ์สวัสดิ์",
  category: "adviser",
});

const work = mkdtempSync(join(tmpdir(), "plenary-participants-chromium-"));
const context = await chromium.launchPersistentContext(join(work, "profile"), {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
  viewport: { width: 900, height: 1270 },
});

// Opens `path` in a new page; every request but the page's own is a problem.
async function open(path) {
  const page = await context.newPage();
  const url = `${base}${path}`;
  const requests = [];
  page.on("request", (r) => {
    if (!r.url().startsWith("data:")) requests.push(r.url());
  });
  page.on("requestfailed", (r) =>
    problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`),
  );
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") {
      problems.push(`console ${m.type()} on ${path}: ${m.text()}`);
    }
  });
  page.on("pageerror", (e) => problems.push(`page error on ${path}: ${e.message}`));
  const response = await page.goto(url, { waitUntil: "networkidle", timeout: 30000 });
  if (!response || response.status() !== 200) {
    problems.push(`${path} answered ${response?.status()}`);
  }
  const type = response?.headers()["content-type"];
  if (type !== "text/html; charset=utf-8") problems.push(`${path}: Content-Type ${type}`);
  const others = requests.filter((r) => r !== url);
  if (others.length) problems.push(`${path} made other requests: ${others.join(", ")}`);
  if ((await page.getAttribute("html", "lang")) !== "en") problems.push(`${path}: no lang="en"`);
  return page;
}

// Prints `page` to an A4 PDF and returns its text (pdftotext, UTF-8).
async function pdfText(page, name) {
  const pdf = join(work, name);
  await page.pdf({ path: pdf, format: "A4", printBackground: true });
  if (statSync(pdf).size < 1000) problems.push(`${name} is nearly empty`);
  return execFileSync("pdftotext", ["-enc", "UTF-8", pdf, "-"], { encoding: "utf8" });
}

try {
  const lianyungang = await open(`/api/v1/conferences/${LIANYUNGANG}/participants.html`);
  const title = (await lianyungang.textContent("h1"))?.trim();
  if (title !== "Conference on Regional Migration Governance Policies") {
    problems.push(`Lianyungang page heading ${JSON.stringify(title)}`);
  }
  const parties = await lianyungang.$$eval("h3.party", (hs) => hs.map((h) => h.textContent.trim()));
  if (parties.length !== 15 || parties[0] !== "China") {
    problems.push(`Lianyungang page lists ${JSON.stringify(parties)}`);
  }
  const sections = await lianyungang.$$eval("h2.section", (hs) => hs.map((h) => h.id));
  if (sections.join() !== "states,intergovernmental_organisations") {
    problems.push(`Lianyungang sections ${sections.join()}`);
  }
  await lianyungang.screenshot({ path: screenshot, fullPage: true });
  const lianyungangText = await pdfText(lianyungang, "lianyungang.pdf");
  if (!/Republic of Korea/i.test(lianyungangText)) {
    problems.push("the Lianyungang PDF does not name the Republic of Korea");
  }

  const names = await open(`/api/v1/conferences/${own.id}/participants.html`);
  const ja = (await names.$$eval("span.native", (ss) =>
    ss.filter((x) => x.textContent === "山田太郎").map((x) => x.lang)))[0];
  if (ja !== "ja") problems.push(`山田太郎 is tagged ${ja}, not ja`);
  const text = (await pdfText(names, "names.pdf")).normalize("NFC");
  const expectedTexts = [
    "张伟", "Nguyễn".toUpperCase() + " Văn An", "ZHANG Wei", "山田太郎", "สมชาย",
    "(Alternate)", "(Adviser)",
    // The page's own running title and page numbers (no browser header or footer).
    "List of Participants: Participants check", "Page 1 of 1",
  ];
  for (const expected of expectedTexts) {
    if (!text.includes(expected)) {
      problems.push(`the PDF does not hold ${JSON.stringify(expected)}; its text:\n${text}`);
    }
  }
  // Text that prints as boxes is still in the PDF's text: the embedded fonts say whether the
  // Thai name found its glyphs. (Chromium embeds the CJK fonts, OpenType collections, as
  // unnamed Type 3 fonts, so the CJK scripts are checked by the fonts installed instead:
  // participants-check.sh.)
  const fonts = execFileSync("pdffonts", [join(work, "names.pdf")], { encoding: "utf8" });
  for (const [script, pattern] of [["Thai", /Thai/]]) {
    if (!pattern.test(fonts)) {
      problems.push(`no ${script} font in the printed PDF (its names print as boxes); fonts:\n${fonts}`);
    }
  }
  if (process.env.PARTICIPANTS_PRINT_PNG) {
    execFileSync("pdftoppm", ["-r", "70", "-png", "-singlefile", join(work, "names.pdf"),
      process.env.PARTICIPANTS_PRINT_PNG.replace(/\.png$/, "")]);
  }
  console.log(
    `participants.html: Lianyungang ${parties.length} delegations in ${sections.length} ` +
      `sections, screenshot ${screenshot}; printed PDF holds 张伟, NGUYỄN Văn An, 山田太郎 (ja) and สมชาย with their fonts, page numbers and the running title`,
  );
} finally {
  await context.close();
  rmSync(work, { recursive: true, force: true });
}

if (problems.length) {
  console.error(`participants check failed:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log("participants check passed");
