/** The short banner `npm run dev` prints once the Worker answers and the demo data is in place. */
import { DEMO_STUDENT, DEMO_TUTORS } from "./demo-data.ts";
import type { SeedSummary } from "./seed.ts";
import { PROVIDER_NAMES, PROVIDERS, type Provider } from "./vars.ts";

export interface BannerInput {
  apiUrl: string;
  emulatorUrl: string | null;
  emulated: Provider[];
  adminEmail: string;
  /** Whether GET /admin answers (the back-office page). */
  adminPage: boolean;
  /** What the seed did: its summary, "present" when the data was already there, or why it did not run. */
  seed: SeedSummary | "present" | { skipped: string };
}

const names = (ps: Provider[]) => (ps.length ? ps.map((p) => PROVIDER_NAMES[p]).join(", ") : "none");

export function banner(b: BannerInput): string {
  const real = PROVIDERS.filter((p) => !b.emulated.includes(p));
  const rows: [string, string][] = [
    ["API", b.apiUrl],
    ["Docs", `${b.apiUrl}/v1/docs`],
  ];
  if (b.adminPage) rows.push(["Admin", `${b.apiUrl}/admin`]);
  if (b.emulatorUrl) {
    if (b.emulated.includes("resend")) rows.push(["Inbox", `${b.emulatorUrl}/inbox   (every e-mail, login codes too)`]);
    rows.push(["Emulator", `${b.emulatorUrl}   for ${names(b.emulated)}`]);
  }
  rows.push(["Real", `${names(real)}   (set keys in .dev.vars to use a real provider)`]);
  rows.push(["Cron", `curl ${b.apiUrl}/cdn-cgi/local/scheduled`]);
  const out = ["", "  tutorloop is running. Ctrl-C stops it.", ...rows.map(([k, v]) => `  ${k.padEnd(9)} ${v}`)];

  const login = b.emulated.includes("resend") ? "code from the inbox" : "code from the e-mail";
  out.push(`  Log in    POST /v1/auth/otp/request { email }, then /v1/auth/otp/verify with the ${login}:`);
  out.push(`    admin   ${b.adminEmail}`);
  if (typeof b.seed === "object" && "skipped" in b.seed) {
    out.push(`  Demo data not seeded: ${b.seed.skipped}`);
  } else {
    const s = b.seed === "present" ? null : b.seed.student;
    const detail = s ? `   (${s.balance} credits, ${s.upcoming} upcoming and ${s.past} past lessons)` : "";
    out.push(`    student ${DEMO_STUDENT.email}${detail}`);
    for (const t of DEMO_TUTORS) out.push(`    tutor   ${t.email.padEnd(32)} ${t.displayName}, ${t.timezone}`);
    out.push(
      `  Demo data ${b.seed === "present" ? "already present" : "seeded"} (npm run seed re-runs it; npm run demo walks a lesson).`,
    );
  }
  out.push("");
  return out.join("\n");
}
