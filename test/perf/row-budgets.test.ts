/**
 * D1 rows per request as budgets (bench/budgets.json), in CI: every request outside production
 * answers its rows read and written (src/db/meter.ts: its own statements and its ledger Durable
 * Object's), so each route is measured here on a small and a large world. A route over its budget
 * fails with its costliest statements named; rows that grow with the data (large > small + slack)
 * fail too, because a bounded read must not.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import budgetsFile from "../../bench/budgets.json";
import { meteredEnv, newMeter } from "../../src/db/meter";
import { jobContext } from "../../src/jobs/context";
import { dispatchEvents } from "../../src/modules/integrations/fanout";
import { runSweepBatch } from "../../src/modules/sessions/sweeps";
import { call, createUser, json, type TestUser } from "../helpers/api";
import { endpointAt, newAdmin, receiverName } from "../integrations/helpers";
import { book, createSubject, createTutor, fund, slotAt, type Tutor } from "../sessions/helpers";
import { seedTutors } from "../tutors/seeded-tutors";

interface Budget {
  read: number;
  written?: number;
  roundTrips?: number;
}
// (bench/budgets.json also records, per route, the target where the budget is above it, and why)
const budgets = (budgetsFile as { rows: Record<string, Budget> }).rows;

interface Rows {
  read: number;
  written: number;
  top: [string, number, number][];
  roundTrips?: number;
}

async function rowsOf(res: Response): Promise<Rows> {
  await res.arrayBuffer();
  const read = res.headers.get("x-d1-rows-read");
  if (read === null) throw new Error(`no row headers on ${res.url} (${res.status})`);
  return {
    read: Number(read),
    written: Number(res.headers.get("x-d1-rows-written")),
    roundTrips: Number(res.headers.get("x-d1-round-trips")),
    top: JSON.parse(decodeURIComponent(res.headers.get("x-d1-rows-top") ?? "%5B%5D")),
  };
}

const measured: { route: string; scale: string; read: number; written: number }[] = [];

function within(route: string, scale: string, r: Rows) {
  const budget = budgets[route];
  if (!budget) throw new Error(`no budget for ${route} in bench/budgets.json`);
  measured.push({ route, scale, read: r.read, written: r.written });
  const named = r.top.map(([sql, read, written]) => `  ${read} read, ${written} written: ${sql}`).join("\n");
  expect(r.read, `${route} (${scale}) read ${r.read} rows > ${budget.read}; costliest:\n${named}`).toBeLessThanOrEqual(
    budget.read,
  );
  if (budget.roundTrips !== undefined) {
    expect(
      r.roundTrips,
      `${route} (${scale}): ${r.roundTrips} round trips to D1 > ${budget.roundTrips}`,
    ).toBeLessThanOrEqual(budget.roundTrips);
  }
  if (budget.written !== undefined) {
    expect(
      r.written,
      `${route} (${scale}) wrote ${r.written} rows > ${budget.written}; costliest:\n${named}`,
    ).toBeLessThanOrEqual(budget.written);
  }
}

interface World {
  subject: { id: string; slug: string };
  /** A subject with `n` seeded tutors (the directory's pages). */
  listed: { slug: string };
  /** Unread notifications the world gave the student. */
  unread: number;
  tutor: Tutor;
  student: TestUser;
  admin: TestUser;
  sessionId: string;
  endpointId: string;
}

/** A student with `n` sessions, ledger entries and notifications, and an endpoint with `n` deliveries. */
async function world(n: number): Promise<World> {
  const subject = await createSubject();
  const tutor = await createTutor(subject.id);
  const student = await createUser("student");
  const admin = await newAdmin();
  await fund(student, 10);
  for (let i = 1; i < n; i++) await fund(student, 1);
  const now = Date.now();
  const rows: D1PreparedStatement[] = [];
  for (let i = 0; i < n; i++) {
    const start = now + 30 * 86_400_000 + i * 3_600_000;
    rows.push(
      env.DB.prepare(
        `INSERT INTO sessions (id, tutorProfileId, studentProfileId, subjectId, startTime, endTime, status, creditsCost, createdAt, updatedAt)
VALUES (?, ?, ?, ?, ?, ?, 'scheduled', 1, ?, ?)`,
      ).bind(
        `ses_w${n}_${i}_${crypto.randomUUID()}`,
        tutor.tutorProfileId,
        student.studentProfileId,
        subject.id,
        start,
        start + 3_600_000,
        now,
        now,
      ),
      env.DB.prepare(
        "INSERT INTO notifications (id, userId, type, data, read, dedupeKey, createdAt) VALUES (?, ?, 'session_scheduled', '{}', 0, ?, ?)",
      ).bind(`ntf_w_${crypto.randomUUID()}`, student.id, `w:${crypto.randomUUID()}`, now + i),
    );
  }
  await env.DB.batch(rows);
  const endpoint = await endpointAt(admin, receiverName(), ["payout.failed"], { register: false });
  const deliveries: D1PreparedStatement[] = [];
  for (let i = 0; i < n; i++) {
    deliveries.push(
      env.DB.prepare(
        "INSERT INTO webhookDeliveries (id, endpointId, eventId, eventType, status, attempts, createdAt, updatedAt) VALUES (?, ?, ?, 'payout.failed', 'delivered', 1, ?, ?)",
      ).bind(`whd_w_${crypto.randomUUID()}`, endpoint.id, `evt_w_${crypto.randomUUID()}`, now + i, now + i),
    );
  }
  await env.DB.batch(deliveries);
  const booked = await book(student, tutor, subject.id, slotAt(72));
  expect(booked.status).toBe(201);
  const { id: sessionId } = await json<{ id: string }>(booked);
  const { subject: listed } = await seedTutors(n, `rows${n}_${crypto.randomUUID().slice(0, 6)}`);
  return { subject, listed, unread: n, tutor, student, admin, sessionId, endpointId: endpoint.id };
}

async function reads(w: World, scale: string) {
  const page = "limit=20";
  const cases: [string, string, string | undefined][] = [
    ["GET /v1/sessions", `/v1/sessions?${page}`, w.student.token],
    ["GET /v1/notifications", `/v1/notifications?${page}`, w.student.token],
    ["GET /v1/credits/ledger", `/v1/credits/ledger?${page}`, w.student.token],
    ["GET /v1/tutors", `/v1/tutors?subject=${w.listed.slug}&${page}`, undefined],
    ["GET /v1/tutors", `/v1/tutors?subject=${w.listed.slug}&sort=rating&minRating=2&${page}`, undefined],
    ["GET /v1/tutors", `/v1/tutors?sort=price_asc&${page}`, undefined],
    ["GET /v1/admin/sessions", `/v1/admin/sessions?status=scheduled&${page}`, w.admin.token],
    [
      "GET /v1/admin/webhook-endpoints/{id}/deliveries",
      `/v1/admin/webhook-endpoints/${w.endpointId}/deliveries?${page}`,
      w.admin.token,
    ],
    ["GET /v1/sessions/{id}", `/v1/sessions/${w.sessionId}`, w.student.token],
    ["GET /v1/tutors/{id}", `/v1/tutors/${w.tutor.tutorProfileId}`, undefined],
    ["GET /v1/credits/balance", "/v1/credits/balance", w.student.token],
  ];
  for (const [route, path, token] of cases) {
    const res = await call(path, { token });
    expect(res.status, `${route} → ${res.status}`).toBe(200);
    const body = (await res.clone().json()) as { nextCursor?: string | null };
    within(route, scale, await rowsOf(res));
    if (route === "GET /v1/tutors" && body.nextCursor) {
      // a later page costs what the first does
      const next = await call(`${path}&cursor=${body.nextCursor}`);
      expect(next.status).toBe(200);
      within(route, `${scale}, later page`, await rowsOf(next));
    }
  }
  // The unread count is exact: it reads one index entry per unread notification (a counter would
  // cost a written row, billed as 1,000 read ones, on every notification and every read-marking),
  // and nothing else that grows.
  const res = await call("/v1/notifications/unread-count", { token: w.student.token });
  expect(res.status).toBe(200);
  const { count } = (await res.clone().json()) as { count: number };
  expect(count).toBeGreaterThanOrEqual(w.unread);
  const r = await rowsOf(res);
  within("GET /v1/notifications/unread-count, beyond one per unread", scale, { ...r, read: r.read - count });
}

async function writes(w: World, scale: string) {
  const res = await book(w.student, w.tutor, w.subject.id, slotAt(96));
  expect(res.status).toBe(201);
  within("POST /v1/sessions", scale, await rowsOf(res.clone()));
  const { id } = await json<{ id: string }>(res);
  const moved = await call(`/v1/sessions/${id}/reschedule`, {
    token: w.student.token,
    body: { startTime: slotAt(120) },
  });
  expect(moved.status).toBe(200);
  within("POST /v1/sessions/{id}/reschedule", scale, await rowsOf(moved));
  const cancelled = await call(`/v1/sessions/${id}/cancel`, { token: w.student.token, body: {} });
  expect(cancelled.status).toBe(200);
  within("POST /v1/sessions/{id}/cancel", scale, await rowsOf(cancelled));
}

/** The settle-held sweep over `n` due lessons, in one metered job: its rows per session. */
async function settlement(n: number, scale: string) {
  const subject = await createSubject();
  const tutor = await createTutor(subject.id);
  const student = await createUser("student");
  await fund(student, 2 * n);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await book(student, tutor, subject.id, slotAt(200 + i), 60);
    expect(r.status).toBe(201);
    ids.push((await json<{ id: string }>(r)).id);
  }
  // held lessons whose hold ended long ago
  const past = Date.now() - 10 * 86_400_000;
  await env.DB.batch(
    ids.map((id, i) =>
      env.DB.prepare("UPDATE sessions SET status = 'completed', startTime = ?, endTime = ? WHERE id = ?").bind(
        past + i * 3_600_000,
        past + i * 3_600_000 + 3_600_000,
        id,
      ),
    ),
  );
  const meter = newMeter();
  const svc = await jobContext(meteredEnv(env, meter), `test:settle:${scale}`);
  const run = await runSweepBatch(svc, "settle_held", { limit: 100 });
  const settled = await env.DB.prepare(
    `SELECT COUNT(*) AS n FROM sessions WHERE settlementStatus = 'settled' AND id IN (SELECT value FROM json_each(?))`,
  )
    .bind(JSON.stringify(ids))
    .first<{ n: number }>();
  expect(settled?.n, JSON.stringify(run)).toBe(n);
  within("settlement sweep, per session", scale, {
    read: Math.ceil(meter.read / n),
    written: Math.ceil(meter.written / n),
    top: [...meter.bySql.entries()]
      .sort((a, b) => b[1].read - a[1].read)
      .slice(0, 3)
      .map(([s, c]) => [s, c.read, c.written]),
  });
}

/** One fan-out over `n` events to 10 subscribed endpoints: its rows per event. */
async function fanOut(n: number, scale: string) {
  const admin = await newAdmin();
  // exactly 10 subscribers: the endpoints of earlier measurements stop listening
  await env.DB.prepare("UPDATE webhookEndpoints SET enabled = 0").run();
  for (let i = 0; i < 10; i++) await endpointAt(admin, receiverName(), ["tutor.status_changed"], { register: false });
  const subject = await createSubject();
  const tutor = await createTutor(subject.id);
  const insert = (await import("../../src/modules/integrations/outbox")).insertEvent;
  await dispatchEvents(await jobContext(env, "test:drain"), 100); // what other tests left
  await env.DB.batch(
    Array.from({ length: n }, (_, i) =>
      insert(env.DB, {
        type: "tutor.status_changed",
        objectId: tutor.tutorProfileId,
        dedupeKey: `fan:${crypto.randomUUID()}:${i}`,
        at: Date.now(),
      }),
    ),
  );
  const meter = newMeter();
  const took = await dispatchEvents(await jobContext(meteredEnv(env, meter), `test:fanout:${scale}`), n);
  expect(took).toBeGreaterThanOrEqual(n);
  within("webhook fan-out, per event to 10 endpoints", scale, {
    read: Math.ceil(meter.read / took),
    written: Math.ceil(meter.written / took),
    top: [...meter.bySql.entries()]
      .sort((a, b) => b[1].read - a[1].read)
      .slice(0, 3)
      .map(([s, c]) => [s, c.read, c.written]),
  });
}

describe("D1 rows per request (bench/budgets.json)", () => {
  it("read routes and booking, reschedule, cancel stay within budget on a small and a large world", async () => {
    for (const [scale, n] of [
      ["small", 5],
      ["large", 150],
    ] as const) {
      const w = await world(n);
      await reads(w, scale);
      await writes(w, scale);
    }
    // rows do not grow with the data
    // (a list reads its page: the small world has fewer rows than a page, so lists are held to their budget only)
    for (const m of measured.filter(
      (x) => x.scale === "large" && ((budgets[x.route]?.read ?? 0) <= 12 || x.route.startsWith("POST")),
    )) {
      const small = measured.find((x) => x.scale === "small" && x.route === m.route);
      expect(
        m.read,
        `${m.route}: ${small?.read} rows read on the small world, ${m.read} on the large`,
      ).toBeLessThanOrEqual((small?.read ?? 0) + 5);
    }
  }, 120_000);

  it("the settlement sweep and the webhook fan-out stay within their per-item budgets", async () => {
    await settlement(3, "small");
    await settlement(30, "large");
    await fanOut(3, "small");
    await fanOut(40, "large");
    console.log(
      ["| route | scale | rows read | rows written |", "|---|---|---|---|"]
        .concat(measured.map((m) => `| ${m.route} | ${m.scale} | ${m.read} | ${m.written} |`))
        .join("\n"),
    );
  }, 120_000);
});
