// Opens /docs in headless Debian Chromium (driven by playwright-core) and checks that the
// interactive API page works with no network: every request it makes goes to the server and
// succeeds, and it lists exactly the operations of the spec. Saves a screenshot.
//
// Then CORS: the page at CORS_PAGE (another origin) fetches the Lianyungang attendance from
// the server and must read its totals, and its cross-origin write must be blocked.
//
// usage: node check.mjs BASE_URL SCREENSHOT.png
// env:   CHROMIUM (default /usr/bin/chromium), CORS_PAGE (the other origin's page; skipped
//        when unset)
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

  // CORS: a page of another origin reads the attendance and cannot write.
  if (process.env.CORS_PAGE) {
    const lianyungang = "019954f8-9000-7a00-8000-17a9f0c0e000";
    const other = await context.newPage();
    const pageUrl = new URL(process.env.CORS_PAGE);
    if (pageUrl.origin === origin) problems.push(`CORS_PAGE ${pageUrl} is not another origin`);
    pageUrl.searchParams.set("api", origin);
    pageUrl.searchParams.set("conference", lianyungang);
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
    let result = null;
    try {
      result = JSON.parse(read);
    } catch {
      problems.push(`cross-origin read failed: ${read}`);
    }
    if (result) {
      if (result.status !== 200) problems.push(`cross-origin read answered ${result.status}`);
      if (result.totals?.countries !== 13 || result.totals?.organisations !== 2) {
        problems.push(`cross-origin read got totals ${JSON.stringify(result.totals)}`);
      }
      if (result.conference_status !== 200) {
        problems.push(`cross-origin read of the conference answered ${result.conference_status}`);
      }
      if (!result.etag) problems.push("cross-origin read could not see the conference's ETag");
    }
    if (write !== "blocked") problems.push(`cross-origin write was not blocked: ${write}`);
    console.log(`CORS: ${pageUrl.origin} read ${read}; its write was ${write}`);
    await other.close();
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
