/**
 * D1 rows per request and per job, as the API's row meter answers them outside production
 * (src/db/meter.ts: `x-d1-rows-read`, `x-d1-rows-written`, `x-d1-statements`, `x-d1-rows-top`, the
 * ledger Durable Object's rows included), and as the bench servers' queue consumer and cron log them
 * (bench/metered-worker.js: one `bench-rows {json}` line per job message and per cron tick). Each
 * figure is checked against bench/budgets.json (the budgets the unit tests enforce in CI); a route
 * without an entry is reported as "no budget", never failed.
 */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { BENCH } from "./config.ts";

/** The costliest statements: `[sql, rows read, rows written]`. */
export type Top = [sql: string, read: number, written: number][];

export interface RowSample {
  read: number;
  written: number;
  statements: number;
  top: Top;
}

/** The rows of one metered response (null: the answer carries no meter, e.g. a static file). */
export function rowsOf(res: { headers: Headers }): RowSample | null {
  const read = res.headers.get("x-d1-rows-read");
  if (read === null) return null;
  let top: Top = [];
  try {
    top = JSON.parse(decodeURIComponent(res.headers.get("x-d1-rows-top") ?? "%5B%5D")) as Top;
  } catch {
    // a header cut short: the totals still count
  }
  return {
    read: Number(read),
    written: Number(res.headers.get("x-d1-rows-written") ?? 0),
    statements: Number(res.headers.get("x-d1-statements") ?? 0),
    top,
  };
}

interface Budget {
  read: number;
  written?: number;
}
const budgets = (JSON.parse(readFileSync(join(BENCH, "budgets.json"), "utf8")) as { rows: Record<string, Budget> })
  .rows;

/** What one route or path costs per request (or per item), and its budget. */
export interface Rows {
  /** The bench/budgets.json entry it is checked against (e.g. `GET /v1/tutors`). */
  budgetKey: string;
  /** What one figure is: "request", "session", "event", … */
  per: string;
  samples: number;
  /** The highest of the samples (a budget holds for every request), and the median. */
  read: number;
  written: number;
  readMedian: number;
  writtenMedian: number;
  statements: number;
  /** The costliest statements of the sample that read the most. */
  top: Top;
  budget: Budget | null;
  /** "ok", "over" (read or written above its budget), or "no budget". */
  status: "ok" | "over" | "no budget";
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : (s[Math.floor((s.length - 1) / 2)] ?? Number.NaN);
};

export function checkRows(budgetKey: string, samples: RowSample[], per = "request"): Rows | null {
  if (samples.length === 0) return null;
  const worst = samples.reduce((a, b) => (b.read > a.read || (b.read === a.read && b.written > a.written) ? b : a));
  const read = Math.max(...samples.map((s) => s.read));
  const written = Math.max(...samples.map((s) => s.written));
  const budget = budgets[budgetKey] ?? null;
  const over = budget !== null && (read > budget.read || (budget.written !== undefined && written > budget.written));
  return {
    budgetKey,
    per,
    samples: samples.length,
    read,
    written,
    readMedian: median(samples.map((s) => s.read)),
    writtenMedian: median(samples.map((s) => s.written)),
    statements: worst.statements,
    top: worst.top,
    budget,
    status: budget === null ? "no budget" : over ? "over" : "ok",
  };
}

/** Items (sessions, events, payouts) that shared a total: the total's rows per item, rounded up. */
export function perItem(total: RowSample, items: number): RowSample {
  const n = Math.max(1, items);
  return {
    read: Math.ceil(total.read / n),
    written: Math.ceil(total.written / n),
    statements: Math.ceil(total.statements / n),
    top: total.top.map(([sql, r, w]) => [sql, Math.ceil(r / n), Math.ceil(w / n)]),
  };
}

/** One metered job message (queue) or cron tick, as bench/metered-worker.js logs it. */
export interface JobRows extends RowSample {
  queue?: string;
  type?: string;
  cron?: string;
  outcome?: string;
  ms: number;
}

/** Where a wrangler log ends now: read the jobs after it with `jobsSince`. */
export function logMark(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** The metered jobs logged after `mark` (`logMark`), optionally only of some message types. */
export function jobsSince(file: string, mark: number, types?: string[]): JobRows[] {
  let text = "";
  try {
    text = readFileSync(file).subarray(mark).toString("utf8");
  } catch {
    return [];
  }
  const out: JobRows[] = [];
  for (const line of text.split("\n")) {
    const at = line.indexOf("bench-rows {");
    if (at < 0) continue;
    try {
      const j = JSON.parse(line.slice(at + "bench-rows ".length)) as JobRows;
      if (!types || (j.type !== undefined && types.includes(j.type))) out.push(j);
    } catch {
      // a line cut by the log's buffering: skipped
    }
  }
  return out;
}

/** The jobs' rows added up, with their costliest statements merged by SQL text. */
export function sumJobs(jobs: RowSample[]): RowSample {
  const bySql = new Map<string, [number, number]>();
  for (const j of jobs) {
    for (const [sql, r, w] of j.top) {
      const x = bySql.get(sql) ?? [0, 0];
      bySql.set(sql, [x[0] + r, x[1] + w]);
    }
  }
  return {
    read: jobs.reduce((s, j) => s + j.read, 0),
    written: jobs.reduce((s, j) => s + j.written, 0),
    statements: jobs.reduce((s, j) => s + j.statements, 0),
    top: [...bySql.entries()]
      .sort((a, b) => b[1][0] - a[1][0] || b[1][1] - a[1][1])
      .slice(0, 3)
      .map(([sql, [r, w]]) => [sql, r, w]),
  };
}

/** Adds row samples (a request and the jobs it caused). */
export const addRows = (...xs: RowSample[]): RowSample => sumJobs(xs);

/** Waits until the log has stopped growing for `quietMs` (the jobs of a path have all logged). */
export async function logSettled(file: string, quietMs = 400, maxMs = 5_000): Promise<void> {
  const deadline = Date.now() + maxMs;
  let size = logMark(file);
  let since = Date.now();
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    const now = logMark(file);
    if (now !== size) {
      size = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return;
  }
}

/**
 * The rows of the jobs of some types logged since `mark`, once the log has settled: each job one
 * sample (`items` unset), or their total shared by `items` (sessions, events, payouts).
 */
export async function jobRows(
  server: { log: string },
  mark: number,
  types: string[],
  budgetKey: string,
  per: string,
  items?: number,
): Promise<Rows | null> {
  await logSettled(server.log);
  const jobs = jobsSince(server.log, mark, types);
  if (jobs.length === 0) return null;
  return checkRows(budgetKey, items === undefined ? jobs : [perItem(sumJobs(jobs), items)], per);
}
