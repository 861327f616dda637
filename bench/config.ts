/**
 * Settings, targets and small helpers every part of `npm run bench` shares: the env knobs, the
 * budgets, the Worker's bench-only secrets and tokens signed with them, the run's clock and log.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { SignJWT } from "jose";
import { signingKey } from "../src/lib/keys.ts";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const BENCH = join(ROOT, "bench");

export const DURATION_S = Number(process.env.BENCH_DURATION ?? 6);
export const WARMUP_S = Number(process.env.BENCH_WARMUP ?? 1);
export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
export const SCALES = (process.env.BENCH_SCALES ?? "small,large").split(",").map((s) => s.trim());
export const WRITES = process.env.BENCH_WRITES !== "0";
export const SLICES = 3;

export const BUNDLE_BUDGET_GZIP = 600 * 1024;
/** The back-office page's JavaScript, gzipped (docs/back-office.md). */
export const ADMIN_JS_BUDGET_GZIP = 100 * 1024;
/** Cloudflare refuses a Worker whose global scope takes longer than this to evaluate. */
export const STARTUP_LIMIT_MS = 400;
export const READ_RATIO_TARGET = 0.6;
export const SCALE_P50_TARGET = 1.3;
export const FLOOR_MARGIN = 0.5;

export const JWT_SECRET = "bench-only-secret-bench-only-secret-0123456789";
export const STRIPE_WEBHOOK_SECRET = "whsec_bench_only";
export const NOW = Date.now();

export const T0 = performance.now();
export const log = (msg: string) => console.log(`[bench ${((performance.now() - T0) / 1000).toFixed(1)}s] ${msg}`);
export const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

/**
 * An access token as the API signs them (the seed's users exist only as rows, never logged in):
 * with the access-token key derived from JWT_SECRET and its kid, by the Worker's own code.
 */
export async function token(sub: string, role: "student" | "tutor" | "admin"): Promise<string> {
  const { kid, key } = await signingKey({ JWT_SECRET }, "access-token");
  return new SignJWT({ role })
    .setProtectedHeader({ alg: "HS256", typ: "JWT", kid })
    .setSubject(sub)
    .setIssuer("tutorloop")
    .setAudience("tutorloop-api")
    .setIssuedAt()
    .setExpirationTime("2h")
    .sign(key);
}
