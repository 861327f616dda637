/**
 * The read routes under load, each against the bare ceiling (GET /v1/health) on the same server in
 * alternating slices, so every figure is a ratio that a change of the machine's load hits on both
 * sides alike.
 */
import { createClient } from "../sdk/src/index.ts";
import { CONNECTIONS, DURATION_S, log, NOW, READ_RATIO_TARGET, round, SLICES, token, WARMUP_S } from "./config.ts";
import { emptyRaw, merge, type ReadResult, readLoad, summarizeRaw } from "./load.ts";
import { checkRows, type RowSample, type Rows, rowsOf } from "./rows.ts";
import { ids, slotsWindow } from "./seed-base.ts";
import { rulesCalendar } from "./seed-scheduling.ts";
import type { Server } from "./server.ts";

export interface RouteResult extends ReadResult {
  name: string;
  path: string;
  /** The health route's throughput, p50 and server CPU per request in the slices paired with this route's. */
  healthRps: number;
  healthP50: number;
  healthCpuMsPerRequest: number | null;
  /** Throughput ratio to health (the target). */
  ratio: number;
  /** Health's server CPU per request ÷ the route's: the throughput ratio of a CPU-bound server. */
  cpuRatio: number | null;
  ok: boolean;
  /** D1 rows per request, from a few requests before the load (src/db/meter.ts headers). */
  rows: Rows | null;
}

/** Requests whose row headers are read before a route's load. */
const ROW_PROBES = 3;

/** The rows of `ROW_PROBES` requests, one at a time. */
async function probeRows(
  url: string,
  headers: Record<string, string> | undefined,
  budgetKey: string,
  /** Rows the budget allows on top, from the answer (the unread count: one per unread notification). */
  allowed?: (body: string) => number,
) {
  const samples: RowSample[] = [];
  for (let i = 0; i < ROW_PROBES; i++) {
    const res = await fetch(url, { headers });
    const body = await res.text();
    const r = rowsOf(res);
    if (r) samples.push(allowed ? { ...r, read: r.read - allowed(body) } : r);
  }
  return checkRows(budgetKey, samples);
}

/**
 * The directory's every sort (src/modules/tutors/directory-sql.ts: newest, rating, price_asc,
 * price_desc), with and without a subject: rows per request only for those the loaded routes above
 * do not request.
 */
const DIRECTORY_SORTS = ["newest", "rating", "price_asc", "price_desc"] as const;

export async function readRoutes(server: Server) {
  const student = await token(ids.benchUser, "student");
  const admin = await token(ids.adminUser, "admin");
  const { from, to } = slotsWindow(NOW);
  const rc = rulesCalendar(NOW);
  const feed = await calendarFeedPath(server);
  const routes: {
    name: string;
    path: string;
    /** The route as bench/budgets.json names it. */
    budget: string;
    allowed?: (body: string) => number;
    auth?: string;
    check?: (body: string) => string | null;
  }[] = [
    { name: "tutors by subject (newest)", path: `/v1/tutors?subject=${ids.listSubjectSlug}`, budget: "GET /v1/tutors" },
    {
      name: "tutors by subject, by rating",
      path: `/v1/tutors?subject=${ids.listSubjectSlug}&sort=rating`,
      budget: "GET /v1/tutors",
    },
    {
      name: "tutors by subject, cheapest first",
      path: `/v1/tutors?subject=${ids.listSubjectSlug}&sort=price_asc`,
      budget: "GET /v1/tutors",
    },
    {
      name: "tutors, dearest first, maxPrice and minRating",
      path: `/v1/tutors?sort=price_desc&maxPrice=4&minRating=2.5`,
      budget: "GET /v1/tutors",
    },
    {
      name: "tutor slots (7 days)",
      path: `/v1/tutors/${ids.slotsTutor}/slots?from=${from}&to=${to}&durationMinutes=60`,
      budget: "GET /v1/tutors/{id}/slots",
    },
    {
      name: "tutor slots with rules and time off (31 days)",
      path: `/v1/tutors/${ids.rulesTutor}/slots?from=${rc.from}&to=${rc.to}&durationMinutes=60`,
      budget: "GET /v1/tutors/{id}/slots",
      check: (body) => rulesViolation(JSON.parse(body), rc),
    },
    {
      name: `calendar feed, tutor with ${ids.calendarSessions} sessions`,
      path: feed,
      budget: "GET /v1/calendar/{token}.ics",
      check: (body) => feedViolation(body),
    },
    { name: "credits balance", path: "/v1/credits/balance", budget: "GET /v1/credits/balance", auth: student },
    { name: "credits ledger", path: "/v1/credits/ledger", budget: "GET /v1/credits/ledger", auth: student },
    { name: "my sessions", path: "/v1/sessions", budget: "GET /v1/sessions", auth: student },
    {
      name: "unread count",
      path: "/v1/notifications/unread-count",
      budget: "GET /v1/notifications/unread-count, beyond one per unread",
      auth: student,
      allowed: (body) => (JSON.parse(body) as { count: number }).count,
    },
    {
      name: "admin sessions by status",
      path: "/v1/admin/sessions?status=scheduled",
      budget: "GET /v1/admin/sessions",
      auth: admin,
    },
  ];
  // Paired slices: health and the route alternate (SLICES times each), so a change in the machine's
  // load during the run (other processes) hits both sides of each ratio alike.
  const slice = Math.max(1, Math.round(DURATION_S / SLICES));
  const healthAll = emptyRaw();
  const results: RouteResult[] = [];
  for (const r of routes) {
    log(`  GET ${r.path.split("?")[0]} ⇄ GET /v1/health, ${SLICES} × ${slice} s each`);
    const headers = r.auth ? { authorization: `Bearer ${r.auth}` } : undefined;
    // Sanity: the route answers 2xx with this data before it is measured.
    const probe = await fetch(`${server.url}${r.path}`, { headers });
    if (!probe.ok) throw new Error(`GET ${r.path} → ${probe.status}: ${(await probe.text()).slice(0, 300)}`);
    const wrong = r.check?.(await probe.text());
    if (wrong) throw new Error(`GET ${r.path}: ${wrong}`);
    const rows = await probeRows(`${server.url}${r.path}`, headers, r.budget, r.allowed);
    const load = (path: string, durationS: number, h?: Record<string, string>) =>
      readLoad({
        url: `${server.url}${path}`,
        headers: h,
        connections: CONNECTIONS,
        durationS,
        serverCpu: server.cpuMs,
      });
    await load(r.path, WARMUP_S, headers);
    const health = emptyRaw();
    const route = emptyRaw();
    for (let i = 0; i < SLICES; i++) {
      merge(health, await load("/v1/health", slice));
      merge(route, await load(r.path, slice, headers));
    }
    merge(healthAll, health);
    const h = summarizeRaw(health);
    const x = summarizeRaw(route);
    const ratio = round(x.rps / h.rps, 3);
    results.push({
      name: r.name,
      path: r.path,
      ...x,
      healthRps: h.rps,
      healthP50: h.p50,
      healthCpuMsPerRequest: h.cpuMsPerRequest,
      ratio,
      cpuRatio: h.cpuMsPerRequest && x.cpuMsPerRequest ? round(h.cpuMsPerRequest / x.cpuMsPerRequest, 3) : null,
      ok: ratio >= READ_RATIO_TARGET,
      rows,
    });
  }
  // Rows only: the directory's other sorts (every sort with and without a subject, but the loaded ones).
  const directory: { name: string; path: string; rows: Rows | null }[] = [];
  for (const sort of DIRECTORY_SORTS) {
    for (const subject of [ids.listSubjectSlug, null]) {
      if (subject && sort !== "price_desc") continue; // loaded above
      const path = `/v1/tutors?sort=${sort}${subject ? `&subject=${subject}` : ""}`;
      directory.push({
        name: `tutors, ${sort}${subject ? ", by subject" : ", all subjects"}`,
        path,
        rows: await probeRows(`${server.url}${path}`, undefined, "GET /v1/tutors"),
      });
    }
  }
  return { health: summarizeRaw(healthAll), routes: results, directory };
}

/** The calendar tutor's private feed path (`GET /v1/me/calendar` makes the feed on first use). */
async function calendarFeedPath(server: Server): Promise<string> {
  const bearer = await token(ids.calendarTutorUser, "tutor");
  const client = createClient({ baseUrl: server.url, getToken: () => bearer });
  const { data, error } = await client.GET("/v1/me/calendar");
  if (!data) throw new Error(`GET /v1/me/calendar → ${JSON.stringify(error).slice(0, 300)}`);
  return new URL(data.url).pathname;
}

/** Why the feed is not the calendar tutor's (null: it is): its window's sessions, capped per side. */
function feedViolation(body: string): string | null {
  if (!body.startsWith("BEGIN:VCALENDAR")) return `not iCalendar: ${body.slice(0, 80)}`;
  const events = body.split("BEGIN:VEVENT").length - 1;
  const { past, upcoming, cap } = ids.calendarWindow;
  const expected = Math.min(past, cap) + Math.min(upcoming, cap);
  // a few of the past may have slid out of the 30-day window since the seed's clock
  if (events < expected - 5 || events > expected) return `${events} events, expected ${expected}`;
  return null;
}

const DAY_MS = 86_400_000;

/**
 * Why the rules tutor's listing does not show the seeded rules applied (null: it does): it must list
 * slots, none overlapping a time off, none within the buffers (15 + 15 min) of a seeded session,
 * none on a day the seeded sessions fill to the cap, and none before the minimum notice.
 */
function rulesViolation(body: unknown, rc: ReturnType<typeof rulesCalendar>): string | null {
  const items = (body as { items?: { startTime: number; endTime: number }[] }).items;
  if (!Array.isArray(items) || items.length === 0) return "no slots listed";
  const gap = (rc.rules.bufferBeforeMinutes + rc.rules.bufferAfterMinutes) * 60_000;
  for (const { startTime: s, endTime: e } of items) {
    const at = new Date(s).toISOString();
    if (s < NOW + rc.rules.minNoticeMinutes * 60_000) return `slot ${at} inside the minimum notice`;
    if (rc.timeOff.some(([ts, te]) => ts < e && te > s)) return `slot ${at} overlaps a time off`;
    if (rc.sessions.some(([ss, se]) => ss < e + gap && se > s - gap))
      return `slot ${at} within ${gap / 60_000} min of a session`;
    if (rc.cappedDays.includes(Math.floor((s - rc.from) / DAY_MS))) return `slot ${at} on a day at the daily cap`;
  }
  return null;
}
