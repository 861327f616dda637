/**
 * The demo's back office: the page at /admin is served by the Worker with its strict CSP, and what
 * its dashboard shows right now is read through the same public routes the page calls (with the
 * admin's token). The demo prints where to open it and how to sign in.
 */
import type { Client, Tokens } from "../tools/offline/client.ts";

export interface BackOfficeDemo {
  c: Client;
  step: (msg: string, detail?: unknown) => void;
  admin: Tokens;
  adminEmail: string;
  emulatorUrl: string;
}

type Page = { items: unknown[]; nextCursor: string | null };

export async function backOfficeJourney({ c, step, admin, adminEmail, emulatorUrl }: BackOfficeDemo) {
  const page = await fetch(`${c.apiUrl}/admin/`);
  const csp = page.headers.get("content-security-policy") ?? "";
  if (!page.ok || !/script-src 'self'/.test(csp)) {
    throw new Error(`/admin/ answered ${page.status} with CSP "${csp}": is public/admin built (npm run build:admin)?`);
  }
  step(
    `The back office is served at ${c.apiUrl}/admin (static assets, CSP script-src 'self', nothing from another origin)`,
  );

  const token = admin.accessToken;
  const count = async (path: string) => {
    const p = await c.ok<Page>(path, { token });
    return `${p.items.length}${p.nextCursor ? "+" : ""}`;
  };
  const sold = await c.ok<{ totals: { orders: number; credits: number } }>(
    "/v1/admin/stats/credits-sold?timezone=UTC",
    { token },
  );
  const due = await c.ok<Page & { minimumCents: number }>("/v1/admin/payouts/due?limit=100", { token });
  step("What its dashboard shows now, through the same admin routes it calls", {
    tutorsWaitingForApproval: await count("/v1/admin/tutors?status=pending&limit=100"),
    disputedSessions: await count("/v1/admin/sessions?settlementStatus=disputed&limit=100"),
    failedRecordings: await count("/v1/admin/recordings?status=failed&limit=100"),
    deadLetters: await count("/v1/admin/dead-letters?limit=100"),
    payoutsDue: `${due.items.length}${due.nextCursor ? "+" : ""} tutors at or above ${due.minimumCents} cents`,
    creditsSoldLast30Days: `${sold.totals.credits} credits in ${sold.totals.orders} orders`,
  });
  step(
    `Open ${c.apiUrl}/admin and sign in as ${adminEmail} with the code from ${emulatorUrl}/inbox: approve the seeded applicant, resolve the seeded dispute, and find both in the audit log`,
  );
}
