/**
 * The fan-out's D1 rows per event do not grow with the data: one event to 10 endpoints is measured
 * on a world with none of their earlier deliveries and on one where thousands exist (pending and
 * delivered, across the same endpoints), so a statement that walks the deliveries table — or an
 * index over all pending deliveries — instead of seeking the event's own rows fails here. So does a
 * run that lost the race for the event and still reads per endpoint: the bench's 20 nudges at once
 * each paid that for every event of the burst, and rows per event grew with the burst.
 */
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import type { ServiceContext } from "../../src/context";
import { meteredEnv, newMeter, type RowMeter } from "../../src/db/meter";
import type { Env } from "../../src/env";
import { jobContext } from "../../src/jobs/context";
import { dispatchEvents } from "../../src/modules/integrations/fanout";
import { insertEvent } from "../../src/modules/integrations/outbox";
import type { QueueMessage } from "../../src/queues/messages";
import { createSubject, createTutor } from "../sessions/helpers";
import { deliveriesOf, endpointAt, newAdmin, receiverName } from "./helpers";

const ENDPOINTS = 10;
/** Earlier events in the large world, each with a delivery to every endpoint: 8,000 deliveries. */
const EARLIER_EVENTS = 800;
/** B-tree entries a delivery writes: its row and its 6 indexes (unique id, endpoint+event, …). */
const DELIVERY_ENTRIES = 7;
/** Rendering a tutor event reads the tutor's subjects (one link and one subject each, the plan's choice). */
const RENDER_READS = 8;

/**
 * Per event to 10 endpoints, at most: the run's read of the enabled endpoints, then per delivery the
 * endpoint's seek (still enabled) and one row D1 counts for the insert itself (the status CHECK's
 * IN list), and the event three times (selected, the INSERT's guard, the claiming UPDATE); written,
 * each delivery's entries and the event.
 */
const BOUND = { read: 3 * ENDPOINTS + 3 + RENDER_READS, written: ENDPOINTS * DELIVERY_ENTRIES + 1 };
/** A run that lost the race: the same reads of the events and endpoints and the render, then two seeks. */
const LOST_BOUND = { read: 1 + ENDPOINTS + RENDER_READS + 2, written: 0 };

interface Measured {
  read: number;
  written: number;
  top: string[];
}

/**
 * Earlier events (already dispatched) and their deliveries to `endpointIds`, written in bulk: every
 * other event's deliveries are still pending and unattempted (what the old follow-up SELECT matched
 * on status), the rest delivered.
 */
async function earlierDeliveries(endpointIds: string[], events: number) {
  const tag = crypto.randomUUID().slice(0, 8);
  const numbers = "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 - 1)";
  await env.DB.batch([
    env.DB.prepare(
      `${numbers} INSERT INTO webhookEvents (id, type, objectId, snapshot, body, dedupeKey, createdAt, dispatchedAt)
SELECT 'evt_bulk_' || ?2 || '_' || i, 'tutor.status_changed', 'tpr_bulk', '{}', '{}', 'bulk:' || ?2 || ':' || i, ?3 - i, ?3 - i FROM n`,
    ).bind(events, tag, Date.now()),
    env.DB.prepare(
      `${numbers} INSERT INTO webhookDeliveries (id, endpointId, eventId, eventType, status, attempts, nextAttemptAt, deliveredAt, createdAt, updatedAt)
SELECT 'whd_bulk_' || ?2 || '_' || i || '_' || e.key, e.value, 'evt_bulk_' || ?2 || '_' || i, 'tutor.status_changed',
  CASE i % 2 WHEN 0 THEN 'pending' ELSE 'delivered' END, i % 2, CASE i % 2 WHEN 0 THEN ?3 + i END,
  CASE i % 2 WHEN 1 THEN ?3 - i END, ?3 - i, ?3 - i
FROM n, json_each(?4) AS e`,
    ).bind(events, tag, Date.now(), JSON.stringify(endpointIds)),
  ]);
}

/** A job context whose D1 rows count into `meter` and whose queue messages land in `sent`. */
async function meteredJob(meter: RowMeter, sent: QueueMessage[]): Promise<ServiceContext> {
  const recording = {
    send: async (body: QueueMessage) => void sent.push(body),
    sendBatch: async (batch: { body: QueueMessage }[]) => void sent.push(...batch.map((b) => b.body)),
  } as unknown as Queue<QueueMessage>;
  const svc = await jobContext(meteredEnv({ ...env, WEBHOOKS: recording } as Env, meter), "test:fanout-rows");
  // the job context's clock read is not the fan-out's
  Object.assign(meter, newMeter());
  return svc;
}

/** `svc` whose write batch waits for `winner` to run first: it read the events, then lost them. */
function losing(svc: ServiceContext, winner: () => Promise<unknown>): ServiceContext {
  let batches = 0;
  const d1 = new Proxy(svc.d1, {
    get(target, prop) {
      if (prop === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          if (++batches === 2) await winner();
          return target.batch(statements);
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { ...svc, d1 };
}

const measured = (m: RowMeter): Measured => ({
  read: m.read,
  written: m.written,
  top: [...m.bySql]
    .sort((a, b) => b[1].read - a[1].read)
    .map(([sql, c]) => `${c.read} read, ${c.written} written: ${sql.replace(/\s+/g, " ").slice(0, 120)}`),
});

/** One event fanned out to 10 fresh endpoints after `earlier` events' deliveries to them, raced by a run that loses. */
async function measure(earlier: number): Promise<{ won: Measured; lost: Measured }> {
  const admin = await newAdmin();
  // exactly these subscribers: the endpoints of other tests stop listening
  await env.DB.prepare("UPDATE webhookEndpoints SET enabled = 0").run();
  const endpoints = [];
  for (let i = 0; i < ENDPOINTS; i++) {
    endpoints.push(await endpointAt(admin, receiverName(), ["tutor.status_changed"], { register: false }));
  }
  const subject = await createSubject();
  const tutor = await createTutor(subject.id);
  await dispatchEvents(await jobContext(env, "test:drain"), 100); // what the set-up announced
  if (earlier > 0)
    await earlierDeliveries(
      endpoints.map((e) => e.id),
      earlier,
    );
  await insertEvent(env.DB, {
    type: "tutor.status_changed",
    objectId: tutor.tutorProfileId,
    dedupeKey: `fanout-rows:${crypto.randomUUID()}`,
    at: Date.now(),
  }).run();

  // the messages are recorded, not sent: no attempt runs to write rows of its own meanwhile
  const sent: QueueMessage[] = [];
  const [wonRows, lostRows] = [newMeter(), newMeter()];
  const winner = await meteredJob(wonRows, sent);
  const loser = losing(await meteredJob(lostRows, sent), () => dispatchEvents(winner, 50));
  expect(await dispatchEvents(loser, 50)).toBe(1);

  // the behaviour measured is the whole fan-out: a delivery per endpoint, each enqueued once
  const deliveries = (await Promise.all(endpoints.map((e) => deliveriesOf(e.id)))).map((ds) =>
    ds.filter((d) => !d.id.startsWith("whd_bulk_")),
  );
  expect(deliveries.map((ds) => ds.length)).toEqual(Array(ENDPOINTS).fill(1));
  const ids = deliveries.flat().map((d) => d.id);
  expect(
    sent
      .filter((m) => m.type === "webhooks.deliver")
      .map((m) => m.deliveryId)
      .sort(),
  ).toEqual(ids.sort());
  return { won: measured(wonRows), lost: measured(lostRows) };
}

it("rows per event fanned out to 10 endpoints do not grow with the deliveries table or a lost race", async () => {
  const small = await measure(0);
  const large = await measure(EARLIER_EVENTS);
  const named = (m: Measured) => `${m.read} read, ${m.written} written:\n    ${m.top.join("\n    ")}`;
  const report = [
    `small world: won ${named(small.won)}\n  lost ${named(small.lost)}`,
    `large world (${EARLIER_EVENTS * ENDPOINTS} earlier deliveries): won ${named(large.won)}\n  lost ${named(large.lost)}`,
  ].join("\n");
  console.log(report);
  for (const run of ["won", "lost"] as const) {
    expect(large[run].read, report).toBeLessThanOrEqual(small[run].read + 3);
    expect(large[run].written, report).toBeLessThanOrEqual(small[run].written);
  }
  for (const m of [small, large]) {
    expect(m.won.read, report).toBeLessThanOrEqual(BOUND.read);
    expect(m.won.written, report).toBeLessThanOrEqual(BOUND.written);
    expect(m.lost.read, report).toBeLessThanOrEqual(LOST_BOUND.read);
    expect(m.lost.written, report).toBe(LOST_BOUND.written);
  }
}, 60_000);

it("an event to more endpoints than one INSERT binds gets a delivery to each, each enqueued once", async () => {
  const tag = crypto.randomUUID().slice(0, 8);
  await env.DB.prepare("UPDATE webhookEndpoints SET enabled = 0").run();
  await env.DB.prepare(
    `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 94)
INSERT INTO webhookEndpoints (id, url, events, secret, createdAt, updatedAt)
SELECT 'whe_many_' || ?1 || '_' || i, 'http://127.0.0.1/many', '["tutor.status_changed"]', 'secret', ?2, ?2 FROM n`,
  )
    .bind(tag, Date.now())
    .run();
  const tutor = await createTutor((await createSubject()).id);
  await dispatchEvents(await jobContext(env, "test:drain"), 100);
  await insertEvent(env.DB, {
    type: "tutor.status_changed",
    objectId: tutor.tutorProfileId,
    dedupeKey: `fanout-many:${tag}`,
    at: Date.now(),
  }).run();
  const sent: QueueMessage[] = [];
  expect(await dispatchEvents(await meteredJob(newMeter(), sent), 50)).toBe(1);
  const { results } = await env.DB.prepare("SELECT id FROM webhookDeliveries WHERE endpointId LIKE ?")
    .bind(`whe_many_${tag}_%`)
    .all<{ id: string }>();
  expect(results).toHaveLength(95);
  const enqueued = sent.filter((m) => m.type === "webhooks.deliver").map((m) => m.deliveryId);
  expect(enqueued.sort()).toEqual(results.map((d) => d.id).sort());
});
