/**
 * The outbox's guarantees: an event exists exactly when its change does (a rolled-back batch or a
 * refused booking announces nothing), endpoints that fail for five days are disabled with every
 * admin told, and slow endpoints never hold up the API's routes.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/env";
import { jobContext } from "../../src/jobs/context";
import { insertEvent } from "../../src/modules/integrations/outbox";
import { disableFailingEndpoints } from "../../src/modules/integrations/sweep";
import type { QueueMessage } from "../../src/queues/messages";
import { call, createUser, eventually, expectProblem, json } from "../helpers/api";
import { moveClockTo, serverNow } from "../helpers/clock";
import { book, createSubject, createTutor, DAY, fund, slotAt } from "../sessions/helpers";
import {
  attemptNow,
  deliveriesOf,
  dispatchNow,
  endpointAt,
  eventTypesOf,
  jobSvc,
  newAdmin,
  receiverName,
  setReceiver,
} from "./helpers";

const eventsOfStudent = async (studentProfileId: string | null) =>
  (
    await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM webhookEvents WHERE json_extract(snapshot, '$.studentProfileId') = ?",
    )
      .bind(studentProfileId)
      .first<{ n: number }>()
  )?.n ?? 0;

describe("the outbox", () => {
  it("writes nothing for a change that rolled back: a refused booking or series, a failed batch", async () => {
    const subject = await createSubject();
    const tutor = await createTutor(subject.id, { price: 4 });
    const student = await createUser("student");
    await fund(student, 5);
    await expectProblem(await book(student, tutor, subject.id, slotAt(50), 120), 402, "insufficient_credits");
    const series = await call("/v1/sessions/series", {
      token: student.token,
      body: {
        tutorProfileId: tutor.tutorProfileId,
        subjectId: subject.id,
        startTime: slotAt(60),
        durationMinutes: 60,
        count: 4,
      },
    });
    expect(series.status).toBe(402);
    expect(await eventsOfStudent(student.studentProfileId)).toBe(0);

    // the one that fits is announced once
    const ok = await json<{ id: string }>(await book(student, tutor, subject.id, slotAt(50), 60));
    expect(await eventTypesOf(ok.id)).toEqual(["session.booked"]);
    // the same slot again: refused, nothing more
    await expectProblem(await book(student, tutor, subject.id, slotAt(50), 60), 409, "slot_unavailable");
    expect(await eventsOfStudent(student.studentProfileId)).toBe(1);

    // an event statement in a batch that fails is rolled back with it
    const failing = env.DB.prepare("INSERT INTO creditsLedger (id) VALUES (NULL)");
    await expect(
      env.DB.batch([insertEvent(env.DB, { type: "session.cancelled", objectId: ok.id, at: Date.now() }), failing]),
    ).rejects.toThrow();
    expect(await eventTypesOf(ok.id)).toEqual(["session.booked"]);
  });

  it("a cancellation announces session.cancelled and session.settled, once, with the refunded session", async () => {
    const subject = await createSubject();
    const tutor = await createTutor(subject.id);
    const student = await createUser("student");
    await fund(student, 5);
    const s = await json<{ id: string }>(await book(student, tutor, subject.id, slotAt(96)));
    const cancel = () => call(`/v1/sessions/${s.id}/cancel`, { method: "POST", token: student.token, body: {} });
    expect((await cancel()).status).toBe(200);
    await cancel();
    expect(await eventTypesOf(s.id)).toEqual(["session.booked", "session.cancelled", "session.settled"]);
    const snap = await env.DB.prepare(
      "SELECT snapshot FROM webhookEvents WHERE objectId = ? AND type = 'session.cancelled'",
    )
      .bind(s.id)
      .first<{ snapshot: string }>();
    expect(JSON.parse(snap?.snapshot ?? "{}")).toMatchObject({
      status: "cancelled",
      settlementStatus: "refunded",
      refunded: 1,
    });
  });
});

describe("auto-disable", () => {
  it("disables an endpoint after 5 days of failed attempts and tells every admin; a success in between resets it", async () => {
    const admin = await newAdmin();
    const name = receiverName();
    const endpoint = await endpointAt(admin, name, ["session.booked"]);
    await setReceiver(name, { secret: "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" }); // a receiver that refuses (400)
    const subject = await createSubject();
    const tutor = await createTutor(subject.id);
    const student = await createUser("student");
    await fund(student, 10);
    await book(student, tutor, subject.id, slotAt(80));
    await dispatchNow();
    const [d] = await deliveriesOf(endpoint.id);
    if (!d) throw new Error("no delivery");
    await attemptNow(d.id);
    const failing = await eventually(async () => {
      const row = await env.DB.prepare("SELECT failingSince FROM webhookEndpoints WHERE id = ?")
        .bind(endpoint.id)
        .first<{ failingSince: number | null }>();
      return row?.failingSince ?? undefined;
    });
    expect((await deliveriesOf(endpoint.id))[0]).toMatchObject({ lastStatusCode: 400, status: "pending" });

    const svc = await jobSvc();
    expect(await disableFailingEndpoints(svc, failing + 4 * DAY)).not.toContain(endpoint.id);
    await moveClockTo(failing + 5 * DAY + 1000);
    expect(await disableFailingEndpoints(await jobSvc())).toContain(endpoint.id);
    expect(await disableFailingEndpoints(await jobSvc())).not.toContain(endpoint.id);
    const off = await json<{ enabled: boolean; disabledAt: number | null }>(
      await call(`/v1/admin/webhook-endpoints/${endpoint.id}`, { token: admin.token }),
    );
    expect(off.enabled).toBe(false);
    expect(off.disabledAt).toBeGreaterThanOrEqual(failing + 5 * DAY);
    const notes = await json<{ items: { type: string; data: { endpointId: string } }[] }>(
      await call("/v1/notifications?limit=100", { token: admin.token }),
    );
    expect(
      notes.items.filter((n) => n.type === "webhook_endpoint_disabled" && n.data.endpointId === endpoint.id),
    ).toHaveLength(1);
    // its pending delivery fails at its next attempt instead of being sent
    await moveClockTo((await serverNow()) + DAY);
    await attemptNow(d.id);
    expect((await deliveriesOf(endpoint.id))[0]).toMatchObject({
      status: "failed",
      lastError: "The endpoint is disabled",
    });
    await expectProblem(
      await call(`/v1/admin/webhook-deliveries/${d.id}/retry`, { method: "POST", token: admin.token }),
      409,
      "conflict",
    );
  });
});

describe("slow endpoints", () => {
  it("100 events to an endpoint that never answers: the routes answer while the attempts hang", async () => {
    const admin = await newAdmin();
    const name = receiverName();
    const endpoint = await endpointAt(admin, name, ["session.booked"]);
    await setReceiver(name, { mode: "hang" });
    const subject = await createSubject();
    const tutor = await createTutor(subject.id);
    const student = await createUser("student");
    await fund(student, 10);
    // an earlier test moved the clock: slots count from the server's now
    const slot = async (hours: number) => Math.ceil(((await serverNow()) + hours * 3_600_000) / 900_000) * 900_000;
    const first = await book(student, tutor, subject.id, await slot(90));
    expect(first.status).toBe(201);
    const s = await json<{ id: string }>(first);
    const now = Date.now();
    await env.DB.batch(
      Array.from({ length: 99 }, (_, i) =>
        insertEvent(env.DB, { type: "session.booked", objectId: s.id, dedupeKey: `load:${s.id}:${i}`, at: now }),
      ),
    );
    await dispatchNow();
    const inFlight = async () =>
      (await deliveriesOf(endpoint.id)).filter((d) => d.attempts >= 1 && d.lastError === null).length;
    await eventually(async () => ((await inFlight()) > 0 ? true : undefined), 20_000);
    // while attempts wait on the endpoint, the API answers: a read, a list and a booking
    expect((await call(`/v1/sessions/${s.id}`, { token: student.token })).status).toBe(200);
    expect((await call("/v1/sessions", { token: student.token })).status).toBe(200);
    expect((await book(student, tutor, subject.id, await slot(120))).status).toBe(201);
    expect(await inFlight()).toBeGreaterThan(0);
    expect((await deliveriesOf(endpoint.id)).length).toBeGreaterThanOrEqual(100);
    // and the attempts end as timeouts, to be retried
    const timedOut = await eventually(async () => {
      const d = (await deliveriesOf(endpoint.id)).find((x) => x.lastError?.startsWith("No answer within 10 s"));
      return d;
    }, 40_000);
    expect(timedOut).toMatchObject({ status: "pending", lastStatusCode: null });
  }, 90_000);
});

describe("retention", () => {
  it("purges deliveries and events after 30 days, keeping a pending delivery and its event", async () => {
    const old = Date.now() - 31 * DAY;
    const ids = { done: `evt_old_${crypto.randomUUID()}`, pending: `evt_old_${crypto.randomUUID()}` };
    await env.DB.batch([
      ...Object.values(ids).map((id) =>
        env.DB.prepare(
          "INSERT INTO webhookEvents (id, type, objectId, snapshot, body, dedupeKey, createdAt, dispatchedAt) VALUES (?, 'session.booked', 'ses_x', '{}', '{}', ?, ?, ?)",
        ).bind(id, id, old, old),
      ),
      env.DB.prepare(
        "INSERT INTO webhookDeliveries (id, endpointId, eventId, eventType, status, attempts, createdAt, updatedAt) VALUES (?, 'whe_x', ?, 'session.booked', 'delivered', 1, ?, ?)",
      ).bind(`whd_${ids.done}`, ids.done, old, old),
      env.DB.prepare(
        "INSERT INTO webhookDeliveries (id, endpointId, eventId, eventType, status, attempts, nextAttemptAt, createdAt, updatedAt) VALUES (?, 'whe_x', ?, 'session.booked', 'pending', 9, ?, ?, ?)",
      ).bind(`whd_${ids.pending}`, ids.pending, Date.now(), old, old),
    ]);
    const { purgeExpired } = await import("../../src/jobs/cleanup");
    await purgeExpired(await jobSvc());
    const left = async (table: string, id: string) =>
      (await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE id = ?`).bind(id).first<{ n: number }>())?.n;
    expect(await left("webhookEvents", ids.done)).toBe(0);
    expect(await left("webhookDeliveries", `whd_${ids.done}`)).toBe(0);
    expect(await left("webhookEvents", ids.pending)).toBe(1);
    expect(await left("webhookDeliveries", `whd_${ids.pending}`)).toBe(1);
  });
});

describe("the fan-out raced", () => {
  it("two runs at once over the same events enqueue each delivery once", async () => {
    const admin = await newAdmin();
    const endpoint = await endpointAt(admin, receiverName(), ["tutor.status_changed"], { register: false });
    const subject = await createSubject();
    const tutor = await createTutor(subject.id);
    await dispatchNow(); // what earlier tests left
    await env.DB.batch(
      Array.from({ length: 5 }, (_, i) =>
        insertEvent(env.DB, {
          type: "tutor.status_changed",
          objectId: tutor.tutorProfileId,
          dedupeKey: `race:${crypto.randomUUID()}:${i}`,
          at: Date.now(),
        }),
      ),
    );
    const sent: { type: string; deliveryId?: string }[] = [];
    const recording = {
      send: async (body: { type: string }) => void sent.push(body),
      sendBatch: async (batch: { body: { type: string } }[]) => void sent.push(...batch.map((b) => b.body)),
    } as unknown as Queue<QueueMessage>;
    const svc = async () => jobContext({ ...env, WEBHOOKS: recording } as Env, `test:race:${crypto.randomUUID()}`);
    const { dispatchEvents } = await import("../../src/modules/integrations/fanout");
    await Promise.all([dispatchEvents(await svc(), 50), dispatchEvents(await svc(), 50)]);
    const deliveries = await deliveriesOf(endpoint.id);
    expect(deliveries).toHaveLength(5);
    const mine = sent.filter((m) => m.type === "webhooks.deliver" && deliveries.some((d) => d.id === m.deliveryId));
    expect(mine).toHaveLength(5);
    expect(new Set(mine.map((m) => m.deliveryId)).size).toBe(5);
  });
});
