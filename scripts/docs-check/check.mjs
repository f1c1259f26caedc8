// Opens /docs in headless Debian Chromium (driven by playwright-core) and checks that the
// interactive API page works with no network: every request it makes goes to the server and
// succeeds, and it lists exactly the operations of the spec. Saves a screenshot.
//
// Then CORS: the same page served from two other origins fetches the Lianyungang attendance
// from the server and must read its totals; both try to create an organisation with the same
// valid bearer token. The page at CORS_ALLOWED_PAGE (an origin listed in the server's
// PLENARY_CORS_ORIGINS) must create it (201, its Location and ETag readable); the browser must
// block the write of the page at CORS_PAGE (not listed), and the server must hold no such
// organisation afterwards.
//
// usage: node check.mjs BASE_URL SCREENSHOT.png
// env:   CHROMIUM (default /usr/bin/chromium), CORS_PAGE (the origin that may not write;
//        the CORS check is skipped when unset), CORS_ALLOWED_PAGE (the listed origin; its
//        check skipped when unset), CORS_TOKEN (the bearer token both pages write with)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [base, screenshot] = process.argv.slice(2);
if (!base || !screenshot) {
  console.error("usage: node check.mjs BASE_URL SCREENSHOT.png");
  process.exit(2);
}
const origin = new URL(base).origin;
const problems = [];

// The operations of the spec, read from the document the server serves: its paths, and its
// webhooks (OpenAPI 3.1 `webhooks`, which Swagger UI lists under the webhook's name).
const yaml = await (await fetch(`${base}/api-spec/openapi.yaml`)).text();
const expected = new Set();
let path = null;
let section = null;
for (const line of yaml.split("\n")) {
  if (/^\S/.test(line)) {
    section = line.startsWith("paths:") ? "paths" : line.startsWith("webhooks:") ? "webhooks" : null;
    path = null;
  }
  if (!section) continue;
  const p = section === "paths" ? line.match(/^  (\/\S*):\s*$/) : line.match(/^  ([A-Za-z0-9_.-]+):\s*$/);
  if (p) path = p[1];
  const m = line.match(/^    (get|put|post|delete|patch|options|head|trace):\s*$/);
  if (m && path) expected.add(`${m[1].toUpperCase()} ${path}`);
}
if (expected.size === 0) problems.push("no operations found in /api-spec/openapi.yaml");

const profile = mkdtempSync(join(tmpdir(), "plenary-docs-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
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
  viewport: { width: 1280, height: 900 },
});
try {
  const page = context.pages()[0] ?? (await context.newPage());
  const requests = [];
  page.on("request", (r) => {
    requests.push(r.url());
    const url = new URL(r.url());
    if (url.protocol !== "data:" && url.origin !== origin) {
      problems.push(`request outside the server: ${r.url()}`);
    }
  });
  page.on("requestfailed", (r) =>
    problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`),
  );
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.url()}`);
  });
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console error: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));

  const response = await page.goto(`${base}/docs`, { waitUntil: "networkidle", timeout: 30000 });
  if (!response || !response.ok()) problems.push(`/docs answered ${response?.status()}`);
  if (new URL(page.url()).pathname !== "/docs/") problems.push(`ended on ${page.url()}`);
  await page.waitForSelector(".opblock", { timeout: 30000 });

  const title = (await page.textContent(".information-container .title"))?.trim() ?? "";
  if (!title.startsWith("Plenary")) problems.push(`page title is ${JSON.stringify(title)}`);

  const listed = new Set(
    await page.$$eval(".opblock", (blocks) =>
      blocks.map((b) => {
        const method = b.querySelector(".opblock-summary-method")?.textContent?.trim() ?? "";
        const p = b.querySelector(".opblock-summary-path")?.getAttribute("data-path") ?? "";
        return `${method.toUpperCase()} ${p}`;
      }),
    ),
  );
  const missing = [...expected].filter((op) => !listed.has(op));
  const extra = [...listed].filter((op) => !expected.has(op));
  if (missing.length) problems.push(`operations not listed: ${missing.join(", ")}`);
  if (extra.length) problems.push(`operations listed but not in the spec: ${extra.join(", ")}`);

  await page.screenshot({ path: screenshot, fullPage: false });

  // An operation opens and shows its example request body.
  await page.click("#operations-Auth-createToken .opblock-summary");
  await page.waitForSelector("#operations-Auth-createToken .opblock-body", { timeout: 10000 });
  const body = (await page.textContent("#operations-Auth-createToken .opblock-body")) ?? "";
  if (!body.includes("correct horse battery staple")) {
    problems.push("the token operation does not show its example body");
  }
  await page.click("#operations-Auth-createToken .opblock-summary");

  // CORS: pages of other origins read the attendance; only the listed origin's may write.
  if (process.env.CORS_PAGE) {
    const lianyungang = "019954f8-9000-7a00-8000-17a9f0c0e000";
    const token = process.env.CORS_TOKEN || "x";
    const stamp = Date.now();
    // Opens the page at `href` with a name for its organisation; returns what it read and
    // what its write did (parsed JSON, or the text "blocked").
    const visit = async (href, name) => {
      const other = await context.newPage();
      const pageUrl = new URL(href);
      if (pageUrl.origin === origin) problems.push(`${pageUrl} is not another origin`);
      pageUrl.searchParams.set("api", origin);
      pageUrl.searchParams.set("conference", lianyungang);
      pageUrl.searchParams.set("name", name);
      pageUrl.hash = new URLSearchParams({ token }).toString();
      await other.goto(pageUrl.href, { waitUntil: "load", timeout: 30000 });
      await other.waitForFunction(
        () =>
          document.getElementById("read")?.textContent !== "pending" &&
          document.getElementById("write")?.textContent !== "pending",
        null,
        { timeout: 30000 },
      );
      const read = (await other.textContent("#read")) ?? "";
      const write = (await other.textContent("#write")) ?? "";
      await other.close();
      const where = pageUrl.origin;
      let result = null;
      try {
        result = JSON.parse(read);
      } catch {
        problems.push(`${where}: cross-origin read failed: ${read}`);
      }
      if (result) {
        if (result.status !== 200) problems.push(`${where}: read answered ${result.status}`);
        if (result.totals?.countries !== 13 || result.totals?.organisations !== 2) {
          problems.push(`${where}: read got totals ${JSON.stringify(result.totals)}`);
        }
        if (result.conference_status !== 200) {
          problems.push(`${where}: read of the conference answered ${result.conference_status}`);
        }
        if (!result.etag) problems.push(`${where}: read could not see the conference's ETag`);
      }
      console.log(`CORS: ${where} read ${read}; its write: ${write}`);
      return { where, write: write === "blocked" ? write : JSON.parse(write) };
    };
    // The server's own view of an organisation's name (no browser, no CORS).
    const stored = async (name) => {
      const r = await fetch(`${base}/api/v1/organisations?q=${encodeURIComponent(name)}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const body = await r.json();
      return (body.items ?? []).filter((o) => o.name === name).length;
    };

    const refusedName = `Cross-origin write refused ${stamp}`;
    const refused = await visit(process.env.CORS_PAGE, refusedName);
    if (refused.write !== "blocked") {
      problems.push(`${refused.where}: the write was not blocked: ${JSON.stringify(refused.write)}`);
    }
    if ((await stored(refusedName)) !== 0) {
      problems.push(`${refused.where}: its blocked write created an organisation`);
    }

    if (process.env.CORS_ALLOWED_PAGE) {
      const allowedName = `Cross-origin write allowed ${stamp}`;
      const allowed = await visit(process.env.CORS_ALLOWED_PAGE, allowedName);
      const w = allowed.write;
      if (w === "blocked") {
        problems.push(`${allowed.where}: the listed origin's write was blocked`);
      } else {
        if (w.status !== 201) problems.push(`${allowed.where}: the write answered ${w.status}`);
        if (w.name !== allowedName) problems.push(`${allowed.where}: created ${JSON.stringify(w)}`);
        if (!w.location?.startsWith("/api/v1/organisations/")) {
          problems.push(`${allowed.where}: could not read the Location of its write: ${w.location}`);
        }
        if (!w.etag) problems.push(`${allowed.where}: could not read the ETag of its write`);
      }
      if ((await stored(allowedName)) !== 1) {
        problems.push(`${allowed.where}: the server does not hold the organisation it created`);
      }
    }
  }

  console.log(
    `/docs: ${listed.size} operations listed (spec: ${expected.size}), ` +
      `${requests.length} requests, all to ${origin}; screenshot ${screenshot}`,
  );
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}

if (problems.length) {
  console.error(`/docs check failed:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log("/docs check passed");
