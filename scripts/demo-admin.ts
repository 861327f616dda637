/**
 * The demo's back office: the page at /admin is served by the Worker with its strict CSP, and what
 * its dashboard shows right now is read through the same public routes the page calls (with the
 * admin's token, through the typed SDK). The demo prints where to open it and how to sign in.
 */
import { unwrap } from "../sdk/src/index.ts";
import type { Client, Tokens } from "../tools/offline/client.ts";
import { sdkAs } from "./demo-sdk.ts";

export interface BackOfficeDemo {
  c: Client;
  step: (msg: string, detail?: unknown) => void;
  admin: Tokens;
  adminEmail: string;
  emulatorUrl: string;
}

export async function backOfficeJourney({ c, step, admin, adminEmail, emulatorUrl }: BackOfficeDemo) {
  const page = await fetch(`${c.apiUrl}/admin/`);
  const csp = page.headers.get("content-security-policy") ?? "";
  if (!page.ok || !/script-src 'self'/.test(csp)) {
    throw new Error(`/admin/ answered ${page.status} with CSP "${csp}": is public/admin built (npm run build:admin)?`);
  }
  step(
    `The back office is served at ${c.apiUrl}/admin (static assets, CSP script-src 'self', nothing from another origin)`,
  );

  // the typed SDK, as an integrator would write it: paths, queries and answers checked by tsc
  const api = sdkAs(c, admin);
  const count = (p: { items: unknown[]; nextCursor: string | null }) => `${p.items.length}${p.nextCursor ? "+" : ""}`;
  const [pending, disputed, failed, letters, due, sold] = await Promise.all([
    api.GET("/v1/admin/tutors", { params: { query: { status: "pending", limit: 100 } } }).then(unwrap),
    api.GET("/v1/admin/sessions", { params: { query: { settlementStatus: "disputed", limit: 100 } } }).then(unwrap),
    api.GET("/v1/admin/recordings", { params: { query: { status: "failed", limit: 100 } } }).then(unwrap),
    api.GET("/v1/admin/dead-letters", { params: { query: { limit: 100 } } }).then(unwrap),
    api.GET("/v1/admin/payouts/due", { params: { query: { limit: 100 } } }).then(unwrap),
    api.GET("/v1/admin/stats/credits-sold", { params: { query: { timezone: "UTC" } } }).then(unwrap),
  ]);
  step("What its dashboard shows now, through the same admin routes it calls", {
    tutorsWaitingForApproval: count(pending),
    disputedSessions: count(disputed),
    failedRecordings: count(failed),
    deadLetters: count(letters),
    payoutsDue: `${count(due)} tutors at or above ${due.minimumCents} cents`,
    creditsSoldLast30Days: `${sold.totals.credits} credits in ${sold.totals.orders} orders`,
  });
  step(
    `Open ${c.apiUrl}/admin and sign in as ${adminEmail} with the code from ${emulatorUrl}/inbox: approve the seeded applicant, resolve the seeded dispute, and find both in the audit log`,
  );
}
