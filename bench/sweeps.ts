/**
 * The settlement sweep over a backlog: its own local state with BENCH_SWEEP_SESSIONS (default
 * 100,000) `completed` + `open` sessions, all in the partial index sessions_unsettled_by_end, of which
 * BENCH_SWEEP_DUE (default 1,000) are past their hold by the real clock (the rest end an hour later,
 * so they stay in the index but not due). A `wrangler dev --test-scheduled` server gets one cron
 * trigger; the cron's first batch and the `sessions.sweep` chain on the local queue drain the due
 * rows. Measured: wall time until every due session is settled (by polling the students'
 * `session_settled` notifications), time per session, consumer invocations (wrangler's QUEUE log
 * lines), the D1 rows per session (the server runs bench/metered-worker.js, which logs each job's
 * rows: the cron tick and the `sessions.sweep` chain against the budget, the e-mails and webhook jobs
 * the settlements lead to apart), and afterwards from the stopped state: settled count, one earning
 * per session, nothing not due touched. The DO path (every settlement is a CreditLedger call) makes
 * all 100k a long local run, so the default drains a slice and extrapolates; BENCH_SWEEP_DUE=100000
 * drains everything.
 *
 * E-mails go to a local stand-in for Resend (200 to everything), so their jobs run as in production.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createClient } from "../sdk/src/index.ts";
import { applyMigrations, executeSqlFile, freePort } from "../tools/offline/wrangler.ts";
import { JWT_SECRET, log, NOW, ROOT, round, token } from "./config.ts";
import { checkRows, jobsSince, logMark, logSettled, perItem, type Rows, sumJobs } from "./rows.ts";
import { pad, SqlWriter } from "./seed-base.ts";
import { startMeteredWorker } from "./server.ts";

const HOUR = 3_600_000;
const TOTAL = Number(process.env.BENCH_SWEEP_SESSIONS ?? 100_000);
const DUE = Math.min(TOTAL, Number(process.env.BENCH_SWEEP_DUE ?? 1_000));
const STUDENTS = 20;
const TUTORS = 200;
const HOLD_HOURS = 48; // SETTLEMENT_HOLD_HOURS's default
const CENTS_PER_CREDIT = 800;

/** The sweep's batch size and fan-out, read from the code (Node cannot load that module: it imports the Worker's). */
function constant(name: string): number {
  const src = readFileSync(join(ROOT, "src/modules/sessions/sweeps.ts"), "utf8");
  const m = src.match(new RegExp(`export const ${name} = (\\d+);`));
  if (!m?.[1]) throw new Error(`${name} not found in src/modules/sessions/sweeps.ts`);
  return Number(m[1]);
}
const SWEEP_BATCH = constant("SWEEP_BATCH");
const FANOUT = constant("FANOUT");

const student = (k: number) => `usr_sw_s_${pad(k, 3)}`;

function seed(dir: string) {
  mkdirSync(dir, { recursive: true });
  const w = new SqlWriter(dir);
  const t0 = NOW - 30 * 24 * HOUR;
  w.insert("subjects", ["id", "name", "slug", "createdAt"], [["sub_sw", "Sweep", "sweep", t0]]);
  const userCols = ["id", "email", "name", "context", "studentProfileId", "tutorProfileId", "createdAt", "updatedAt"];
  w.insert(
    "users",
    userCols,
    Array.from({ length: STUDENTS }, (_, k) => [
      student(k),
      `sws${k}@bench.test`,
      null,
      "student",
      `stu_sw_${k}`,
      null,
      t0,
      t0,
    ]),
  );
  w.insert(
    "studentProfiles",
    ["id", "userId", "displayName", "createdAt", "updatedAt"],
    Array.from({ length: STUDENTS }, (_, k) => [`stu_sw_${k}`, student(k), `S${k}`, t0, t0]),
  );
  w.insert(
    "users",
    userCols,
    Array.from({ length: TUTORS }, (_, k) => [
      `usr_sw_t_${k}`,
      `swt${k}@bench.test`,
      null,
      "tutor",
      null,
      `tut_sw_${k}`,
      t0,
      t0,
    ]),
  );
  w.insert(
    "tutorProfiles",
    ["id", "userId", "displayName", "bio", "subjects", "hourlyCreditsPrice", "timezone", "createdAt", "updatedAt"],
    Array.from({ length: TUTORS }, (_, k) => [
      `tut_sw_${k}`,
      `usr_sw_t_${k}`,
      `T${k}`,
      "",
      '["sub_sw"]',
      2,
      "UTC",
      t0,
      t0,
    ]),
  );
  // Due rows end before NOW − hold (oldest first); the others an hour after that line.
  const dueLine = NOW - HOLD_HOURS * HOUR;
  function* sessions(): Generator<(string | number | null)[]> {
    for (let i = 0; i < TOTAL; i++) {
      const end = i < DUE ? dueLine - HOUR - (DUE - i) * 1000 : dueLine + HOUR + i * 1000;
      yield [
        `ses_sw_${pad(i, 6)}`,
        `tut_sw_${i % TUTORS}`,
        `stu_sw_${i % STUDENTS}`,
        "sub_sw",
        end - HOUR,
        end,
        "completed",
        2,
        0,
        t0,
        t0,
      ];
    }
  }
  w.insert(
    "sessions",
    [
      "id",
      "tutorProfileId",
      "studentProfileId",
      "subjectId",
      "startTime",
      "endTime",
      "status",
      "creditsCost",
      "refunded",
      "createdAt",
      "updatedAt",
    ],
    sessions(),
  );
  return w.finish();
}

/** Resend's stand-in: every e-mail is accepted. */
async function fakeResend() {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ id: `re_${Math.random().toString(36).slice(2)}` }));
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

async function query<T>(stateDir: string, tmp: string, sql: string): Promise<T> {
  const file = join(tmp, "sweep-query.sql");
  writeFileSync(file, `${sql}\n`);
  const out = await executeSqlFile(file, stateDir, true);
  const parsed = JSON.parse(out.slice(out.indexOf("["))) as { results: T[] }[];
  return parsed[0]?.results[0] as T;
}

export async function sweepBacklog(tmp: string) {
  const stateDir = join(tmp, "state-sweep");
  log(`sweep: migrations + seed (${TOTAL} completed sessions in the index, ${DUE} due)`);
  await applyMigrations(stateDir, join(tmp, "migrate-sweep.log"));
  const seedStarted = performance.now();
  for (const file of seed(join(tmp, "seed-sweep"))) await executeSqlFile(file, stateDir);
  const seedMs = Math.round(performance.now() - seedStarted);
  const resend = await fakeResend();
  const logFile = join(tmp, "wrangler-dev-sweep.log");
  const worker = await startMeteredWorker({
    port: await freePort(),
    persistTo: stateDir,
    log: logFile,
    args: ["--test-scheduled"],
    vars: {
      ENVIRONMENT: "development",
      RATE_LIMITS: "off",
      JWT_SECRET,
      STRIPE_SECRET_KEY: "",
      AGORA_APP_BUILDER_URL: "",
      AGORA_API_KEY: "",
      DEEPGRAM_API_KEY: "",
      OPENAI_API_KEY: "",
      RESEND_API_KEY: "re_bench",
      RESEND_API_URL: resend.url,
    },
  });
  const tokens = await Promise.all(Array.from({ length: STUDENTS }, (_, k) => token(student(k), "student")));
  // each student as the typed SDK's client
  const clients = tokens.map((t) => createClient({ baseUrl: worker.url, getToken: () => t }));
  const settledSoFar = async () => {
    const counts = await Promise.all(
      clients.map(async (client) => (await client.GET("/v1/notifications/unread-count")).data?.count ?? 0),
    );
    return counts.reduce((a, b) => a + b, 0);
  };
  let drainMs = Number.NaN;
  let settledSeen = 0;
  const queueLinesBefore = queueLines(logFile);
  let mark = 0;
  try {
    log(`sweep: cron trigger on ${worker.url}`);
    mark = logMark(logFile);
    const started = performance.now();
    const cron = await fetch(`${worker.url}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent("*/5 * * * *")}`);
    await cron.arrayBuffer();
    if (!cron.ok) throw new Error(`cron trigger → ${cron.status}`);
    let last = { n: 0, at: performance.now() };
    for (;;) {
      settledSeen = await settledSoFar();
      if (settledSeen >= DUE) break;
      if (settledSeen > last.n) last = { n: settledSeen, at: performance.now() };
      else if (performance.now() - last.at > 60_000) throw new Error(`sweep stalled at ${settledSeen} of ${DUE}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    drainMs = performance.now() - started;
    log(`  ${DUE} settled in ${Math.round(drainMs)} ms`);
    await logSettled(logFile, 1_000, 10_000);
  } finally {
    await worker.stop();
    resend.close();
  }
  const invocations = queueLines(logFile) - queueLinesBefore;
  const rows = sweepRows(logFile, mark);
  const check = await query<{
    settled: number;
    earnings: number;
    distinctEarnings: number;
    cents: number;
    notDue: number;
  }>(
    stateDir,
    tmp,
    `SELECT (SELECT COUNT(*) FROM sessions WHERE settlementStatus = 'settled') AS settled,
  (SELECT COUNT(*) FROM earningsLedger) AS earnings,
  (SELECT COUNT(DISTINCT sessionId) FROM earningsLedger) AS distinctEarnings,
  (SELECT COALESCE(SUM(amountCents), 0) FROM earningsLedger) AS cents,
  (SELECT COUNT(*) FROM sessions WHERE settlementStatus = 'open' AND endTime > ${NOW - HOLD_HOURS * HOUR}) AS notDue`,
  );
  const perSessionMs = drainMs / DUE;
  // Messages the design sends for DUE rows: the cron's batch, then per chain hop FANOUT leaves.
  const leaves = Math.max(0, Math.ceil((DUE - SWEEP_BATCH) / SWEEP_BATCH));
  const chainMessages = DUE > SWEEP_BATCH ? Math.ceil(leaves / FANOUT) : 0;
  const ok =
    check.settled === DUE &&
    check.earnings === DUE &&
    check.distinctEarnings === DUE &&
    check.cents === DUE * 2 * CENTS_PER_CREDIT &&
    check.notDue === TOTAL - DUE;
  return {
    totalSessions: TOTAL,
    dueSessions: DUE,
    seedMs,
    drainMs: Math.round(drainMs),
    perSessionMs: round(perSessionMs, 2),
    sessionsPerSec: round(DUE / (drainMs / 1000), 1),
    batchSize: SWEEP_BATCH,
    fanout: FANOUT,
    batches: 1 + leaves,
    chainMessages,
    consumerInvocations: invocations,
    extrapolated100kMinutes: round((perSessionMs * 100_000) / 60_000, 1),
    check,
    ok,
    ...rows,
  };
}

/**
 * D1 rows per due session (bench/metered-worker.js's job lines): the sweep itself (the cron tick,
 * whose first batch is the sweep's, and the `sessions.sweep` chain), checked against the budget;
 * and, apart, the jobs each settlement leads to (e-mails, the outgoing-webhook fan-out), per type.
 */
function sweepRows(logFile: string, mark: number) {
  const jobs = jobsSince(logFile, mark);
  const sweep = jobs.filter((j) => j.cron !== undefined || j.type === "sessions.sweep");
  const followUps = new Map<string, { jobs: number; read: number; written: number }>();
  for (const j of jobs) {
    if (j.cron !== undefined || j.type === "sessions.sweep") continue;
    const f = followUps.get(j.type ?? "?") ?? { jobs: 0, read: 0, written: 0 };
    f.jobs++;
    f.read += j.read;
    f.written += j.written;
    followUps.set(j.type ?? "?", f);
  }
  const rows: Rows | null =
    sweep.length > 0 ? checkRows("settlement sweep, per session", [perItem(sumJobs(sweep), DUE)], "session") : null;
  return {
    rows,
    /** The sweep's jobs as logged: the cron tick and the chain's `sessions.sweep` messages. */
    sweepJobs: sweep.length,
    followUpRows: [...followUps.entries()].map(([type, f]) => ({
      type,
      jobs: f.jobs,
      readPerSession: round(f.read / DUE, 2),
      writtenPerSession: round(f.written / DUE, 2),
    })),
  };
}

/** wrangler dev logs one `QUEUE <name> n/m (...)` line per consumer invocation (when it does). */
function queueLines(file: string): number {
  try {
    return readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => /QUEUE tutorloop-jobs\b/.test(l)).length;
  } catch {
    return 0;
  }
}
