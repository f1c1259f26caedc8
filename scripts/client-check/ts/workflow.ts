// The client workflow of scripts/client-check/workflow.py in TypeScript: openapi-fetch with the
// types openapi-typescript made of the spec (generate-types.mjs), type-checked by `tsc` in
// strict mode and then run. Usage: node workflow.js BASE_URL TOKEN PDF_FILE.
import { readFileSync } from "node:fs";
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Problem = components["schemas"]["Problem"];

const [base, token, pdfFile] = process.argv.slice(2);
if (base === undefined || token === undefined || pdfFile === undefined) {
  throw new Error("usage: node workflow.js BASE_URL TOKEN PDF_FILE");
}
const client = createClient<paths>({
  baseUrl: base,
  headers: { Authorization: `Bearer ${token}` },
});
const anonymous = createClient<paths>({ baseUrl: base });
let steps = 0;

/** The body of a success with `status`, or the check fails. */
function ok<T>(r: { data?: T; error?: unknown; response: Response }, status: number): T {
  steps += 1;
  if (r.response.status !== status || r.data === undefined) {
    throw new Error(`expected ${status}, got ${r.response.status}: ${JSON.stringify(r.error)}`);
  }
  return r.data;
}

/** The problem of an error with `status`, or the check fails. */
function problem(r: { error?: Problem; response: Response }, status: number): Problem {
  steps += 1;
  if (r.response.status !== status || r.error === undefined) {
    throw new Error(`expected a ${status} problem, got ${r.response.status}`);
  }
  return r.error;
}

const conference = ok(
  await client.POST("/api/v1/conferences", {
    body: {
      title: "Client check (TypeScript)",
      start_date: "2026-10-20",
      end_date: "2026-10-21",
      time_zone: "Asia/Bangkok",
      venue: { city: "Bangkok", country: "TH" },
    },
  }),
  201,
);
console.log(`conference ${conference.id}: ${conference.title}, ${conference.time_zone}`);
const path = { id: conference.id };

const created = ok(
  await client.POST("/api/v1/conferences/{id}/delegations", {
    params: { path },
    body: {
      country: "KH",
      role: "observer",
      head: { name: "SOK Chenda", title: "Secretary of State" },
      size: 2,
    },
  }),
  201,
);
if (!("id" in created)) {
  throw new Error("one delegation was sent, a batch came back");
}
const delegation = created;
console.log(
  `delegation ${delegation.id}: ${delegation.country}, role ${delegation.role}, head ` +
    `${delegation.head?.name} (${delegation.head?.title}), size ${delegation.size}`,
);
const inDelegation = { id: conference.id, delegation_id: delegation.id };

const added = ok(
  await client.POST("/api/v1/conferences/{id}/delegations/{delegation_id}/members", {
    params: { path: inDelegation },
    body: { full_name: "CHAN Sophea", category: "adviser" },
  }),
  201,
);
if (!("id" in added)) {
  throw new Error("one member was sent, a batch came back");
}
const member = added;
console.log(`member ${member.id}: ${member.full_name}, ${member.category}`);

const pdf = readFileSync(pdfFile);
const credentials = ok(
  await client.PUT("/api/v1/conferences/{id}/delegations/{delegation_id}/credentials", {
    params: { path: inDelegation },
    body: new Blob([pdf], { type: "application/pdf" }),
    headers: { "Content-Type": "application/pdf" },
    bodySerializer: (body) => body,
  }),
  200,
);
console.log(`credentials ${credentials.status}: ${credentials.bytes} bytes`);
const document = ok(
  await client.GET("/api/v1/conferences/{id}/delegations/{delegation_id}/credentials/document", {
    params: { path: inDelegation },
    parseAs: "arrayBuffer",
  }),
  200,
);
if (!Buffer.from(document).equals(pdf)) {
  throw new Error("the downloaded document differs from the upload");
}
console.log(`credentials document downloaded: ${document.byteLength} bytes, identical`);

const missing = problem(
  await anonymous.GET("/api/v1/conferences/{id}", {
    params: { path: { id: "019954f8-0000-7000-8000-000000000000" } },
  }),
  404,
);
const notFound: Problem["type"] = "/problems/not-found";
if (missing.type !== notFound) {
  throw new Error(`type ${missing.type}`);
}
console.log(`problem ${missing.status} ${missing.type}: ${missing.detail}`);
const invalid = problem(
  await client.POST("/api/v1/conferences", {
    body: {
      title: "Client check",
      start_date: "2026-10-21",
      end_date: "2026-10-20",
      time_zone: "Mars/Olympus_Mons",
      venue: { city: "Bangkok", country: "TH" },
    },
  }),
  422,
);
const fields = (invalid.errors ?? []).map((e) => e.field).sort();
if (fields.join() !== "end_date,time_zone") {
  throw new Error(`fields ${fields.join()}`);
}
console.log(`problem ${invalid.status} ${invalid.type}: ${fields.join(", ")}`);
console.log(`client workflow (TypeScript): ${steps} passed, 0 failed`);
