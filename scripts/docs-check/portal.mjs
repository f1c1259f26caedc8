// The focal points' portal in headless Debian Chromium (driven by playwright-core), through the
// whole accreditation cycle as a focal point lives it, with no JavaScript of the portal's own
// (there is none): the invitation e-mail read from the test SMTP server's maildir, its link
// followed, a password chosen, three members nominated by the form (one over the quota: the
// form says so), a spreadsheet uploaded, the credentials uploaded, the organiser accepting a
// member and verifying the credentials through the API, the focal point seeing the decisions,
// signing out, and a forgotten password reset through the e-mailed link.
//
// axe-core runs on every page: no serious or critical violation. Screenshots of the pages go
// to SCREENSHOT_DIR (committed as api-spec/portal-*.png).
//
// usage: node portal.mjs BASE_URL
// env:   TOKEN (an organiser's access token), MAILDIR (the SMTP server's maildir), PDF (a
//        letter of credentials), SCREENSHOT_DIR (default api-spec), CHROMIUM (default
//        /usr/bin/chromium), PYTHON (default python3)
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [base] = process.argv.slice(2);
const { TOKEN: token, MAILDIR: maildir, PDF: pdf } = process.env;
if (!base || !token || !maildir || !pdf) {
  console.error("usage: TOKEN=... MAILDIR=... PDF=... node portal.mjs BASE_URL");
  process.exit(2);
}
const shots = process.env.SCREENSHOT_DIR || "api-spec";
const python = process.env.PYTHON || "python3";
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const problems = [];
const axeSummary = [];

async function api(method, path, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

function mailLink(address, kind) {
  return execFileSync(python, ["scripts/portal_mail.py", maildir, address, kind], { encoding: "utf8" }).trim();
}

// axe-core on the page as it is: serious and critical violations are problems.
async function audit(page, name) {
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ["violations"] }));
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  axeSummary.push(`${name}: ${result.violations.length} violations (${bad.length} serious or critical), ${result.passes.length} rules passed`);
  for (const v of bad) problems.push(`axe ${name}: ${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

function expect(condition, message) {
  if (!condition) problems.push(message);
}

const stamp = Date.now();
const focal = `focal.point.${stamp}@mfa.example.org`;
const closes = new Date(Date.now() + 30 * 86400e3).toISOString().replace(/\.\d+Z$/, "Z");
const conference = await api("POST", "/api/v1/conferences", {
  title: "Regional Consultation on Migration Governance",
  status: "published",
  start_date: "2027-03-09",
  end_date: "2027-03-11",
  time_zone: "Asia/Bangkok",
  venue: { name: "United Nations Conference Centre", city: "Bangkok", country: "TH" },
  nominations_close_at: closes,
  quotas: { per_delegation: 4 },
});
const delegation = await api("POST", `/api/v1/conferences/${conference.id}/delegations`, { country: "KH" });
await api("POST", `/api/v1/conferences/${conference.id}/delegations/${delegation.id}/focal-points`, {
  email: focal,
  name: "Sok Pisey",
});

const profile = mkdtempSync(join(tmpdir(), "plenary-portal-check-"));
// bypassCSP: the portal's policy lets no script run, axe-core's included; the pages
// themselves need none.
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox"],
  bypassCSP: true,
  viewport: { width: 1100, height: 900 },
});
const page = context.pages()[0] || (await context.newPage());
page.on("pageerror", (e) => problems.push(`page error: ${e}`));
page.on("request", (r) => {
  if (!r.url().startsWith(base) && !r.url().startsWith("data:")) problems.push(`request leaves the server: ${r.url()}`);
});

try {
  // 1. The invitation e-mail's link, a password of one's own.
  const link = mailLink(focal, "invitation");
  expect(link.startsWith(`${base}/portal/invitation?code=`), `invitation link: ${link}`);
  await page.goto(link);
  await audit(page, "invitation");
  await page.screenshot({ path: join(shots, "portal-invitation.png"), fullPage: true });
  await page.fill("#password", "a password of my own");
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  if (new URL(page.url()).pathname !== "/portal/") {
    problems.push(`after accepting: ${page.url()}: ${await page.textContent("main")}`);
  }
  await audit(page, "home");
  expect((await page.textContent("main")).includes("Cambodia"), "home lists the delegation");

  // 2. The delegation: two members by the form, two by a spreadsheet, a fifth over the quota.
  await page.click("text=Cambodia");
  await audit(page, "delegation");
  const nominate = async (name, category, head) => {
    await page.fill("#new-full_name", name);
    await page.selectOption("#new-category", category);
    if (head) await page.check("#new-is_head");
    await Promise.all([page.waitForNavigation(), page.click("#add ~ form button[type=submit]")]);
  };
  await nominate("Sok Chea", "representative", true);
  await nominate("Chan Dara", "alternate", false);
  const sheetPath = join(profile, "nominations.csv");
  writeFileSync(sheetPath, "full_name,family_name,category,position\nKeo Sophal,KEO,adviser,Deputy Director\nLim Bopha,LIM,expert,Legal Officer\n");
  await page.setInputFiles("#sheet-file", sheetPath);
  await Promise.all([page.waitForNavigation(), page.click("#sheet ~ form button[type=submit]")]);
  const afterSheet = await page.textContent("main");
  expect(afterSheet.includes("Keo Sophal") && afterSheet.includes("Lim Bopha"), "the spreadsheet's members are listed");
  await nominate("Over Quota", "observer", false);
  const refused = await page.textContent("main");
  expect(refused.includes("quota"), "the form names the quota it passes");
  expect((await page.inputValue("#new-full_name")) === "Over Quota", "the form keeps what was typed");
  await audit(page, "delegation-refused");
  await page.screenshot({ path: join(shots, "portal-quota-refused.png"), fullPage: true });

  // 3. The credentials.
  await page.goto(`${base}/portal/conferences/${conference.id}/delegations/${delegation.id}`);
  await page.setInputFiles("#credentials-file", pdf);
  await Promise.all([page.waitForNavigation(), page.click("#credentials ~ form button[type=submit]")]);
  expect((await page.textContent("main")).includes("Submitted, awaiting review"), "credentials submitted");

  // 4. The secretariat decides through the API; the focal point sees it.
  const members = await api("GET", `/api/v1/conferences/${conference.id}/delegations/${delegation.id}/members`);
  const head = members.items.find((m) => m.full_name === "Sok Chea");
  await api("PATCH", `/api/v1/conferences/${conference.id}/delegations/${delegation.id}/members/${head.id}`, {
    nomination_status: "accepted",
  });
  const lim = members.items.find((m) => m.full_name === "Lim Bopha");
  await api("PATCH", `/api/v1/conferences/${conference.id}/delegations/${delegation.id}/members/${lim.id}`, {
    nomination_status: "rejected",
    nomination_note: "Experts attend the technical session only; please nominate her there.",
  });
  await api("PATCH", `/api/v1/conferences/${conference.id}/delegations/${delegation.id}/credentials`, {
    status: "verified",
    note: "Original received by the secretariat.",
  });
  await page.reload();
  const decided = await page.textContent("main");
  for (const words of ["Accepted", "Rejected", "Experts attend the technical session only", "Verified", "Original received"]) {
    expect(decided.includes(words), `the focal point sees: ${words}`);
  }
  await audit(page, "delegation-decided");
  await page.screenshot({ path: join(shots, "portal-delegation.png"), fullPage: true });

  // 5. A member changed by the focal point goes back to the secretariat.
  await page.click(`a[href$="/members/${head.id}"]`);
  await audit(page, "member");
  await page.fill("#position", "Director-General, General Department of Immigration");
  await Promise.all([page.waitForNavigation(), page.click("form[action$='" + head.id + "'] button[type=submit]")]);
  const back = await api("GET", `/api/v1/conferences/${conference.id}/delegations/${delegation.id}/members`);
  expect(back.items.find((m) => m.id === head.id).nomination_status === "nominated", "a change puts the member back to nominated");

  // 6. Sign out, forget the password, reset it by the e-mailed link.
  await Promise.all([page.waitForNavigation(), page.click("header button[type=submit]")]);
  expect(new URL(page.url()).pathname === "/portal/sign-in", `after signing out: ${page.url()}`);
  await audit(page, "sign-in");
  await page.screenshot({ path: join(shots, "portal-sign-in.png"), fullPage: true });
  await page.click("text=Forgot your password?");
  await audit(page, "password-reset");
  await page.fill("#email", focal);
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit].primary")]);
  await audit(page, "password-reset-sent");
  const reset = mailLink(focal, "password_reset");
  expect(reset.startsWith(`${base}/portal/password-reset/confirm?code=`), `reset link: ${reset}`);
  await page.goto(reset);
  await audit(page, "password-reset-confirm");
  await page.fill("#password", "short");
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit].primary")]);
  expect((await page.textContent("main")).includes("12"), "a short password is refused on the form");
  await page.fill("#password", "a new password after the reset");
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit].primary")]);
  expect(new URL(page.url()).pathname === "/portal/", `after the reset: ${page.url()}`);
  const login = await fetch(`${base}/api/v1/auth/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: focal, password: "a new password after the reset" }),
  });
  expect(login.status === 200, `the new password signs in to the API: ${login.status}`);
} catch (e) {
  problems.push(`the walk-through stopped: ${e.stack || e}`);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}

console.log("axe-core:");
for (const line of axeSummary) console.log(`  ${line}`);
if (problems.length) {
  console.error("portal check failed:");
  for (const p of problems) console.error(`  - ${p}`);
  process.exit(1);
}
console.log("portal check passed: invitation, nominations (one over the quota refused), spreadsheet, credentials, decisions seen, sign-out, password reset");
