/**
 * Delivery end to end in the Workers runtime: booking → outbox → fan-out → queue → the emulator's
 * receiver; signatures checked with the independent `standardwebhooks` package; the retry schedule,
 * the 1 KiB cap and the 10 s timeout off the request path.
 */
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { RETRY_SCHEDULE_MS } from "../../src/modules/integrations/deliver";
import { call, createUser, eventually, failNext, json } from "../helpers/api";
import { moveClockTo, serverNow } from "../helpers/clock";
import { book, createSubject, createTutor, fund, slotAt } from "../sessions/helpers";
import {
  attemptNow,
  deliveriesOf,
  dispatchNow,
  endpointAt,
  eventTypesOf,
  newAdmin,
  received,
  receiverName,
  setReceiver,
} from "./helpers";

async function bookedSession() {
  const subject = await createSubject();
  const tutor = await createTutor(subject.id);
  const student = await createUser("student");
  await fund(student, 10);
  const res = await book(student, tutor, subject.id, slotAt(72));
  expect(res.status).toBe(201);
  return { ...(await json<{ id: string; status: string }>(res)), student, tutor, subject };
}

describe("outgoing webhook delivery", () => {
  it("delivers session.booked, signed the Standard Webhooks way, with the session as the API shows it", async () => {
    const admin = await newAdmin();
    const name = receiverName();
    const endpoint = await endpointAt(admin, name, ["session.booked"]);
    const session = await bookedSession();
    expect(await eventTypesOf(session.id)).toEqual(["session.booked"]);
    const [got] = await eventually(async () => {
      const r = (await received(name)).filter((d) => d.body.includes(session.id));
      return r.length > 0 ? r : undefined;
    });
    if (!got) throw new Error("no delivery");
    // an independent verifier: the specification's own package, not the platform's code
    const event = new Webhook(endpoint.secret).verify(got.body, {
      "webhook-id": got.webhookId,
      "webhook-timestamp": got.timestamp,
      "webhook-signature": got.signature,
    }) as { type: string; timestamp: string; data: Record<string, unknown> };
    expect(got.verified).toBe(true);
    expect(event.type).toBe("session.booked");
    expect(new Date(event.timestamp).toISOString()).toBe(event.timestamp);
    // the session as the API shows it, as it was when booked (its room is created afterwards)
    const view = await json<Record<string, unknown>>(
      await call(`/v1/sessions/${session.id}`, { token: session.student.token }),
    );
    expect(Object.keys(event.data).sort()).toEqual(Object.keys(view).sort());
    const { videoSessionUrl: _u, agoraChannelName: _c, updatedAt: _t, ...stable } = view;
    expect(event.data).toMatchObject({ ...stable, status: "scheduled" });
    expect(event.data).not.toHaveProperty("agoraHostPassPhrase");

    const list = await json<{ items: { eventId: string; status: string; attempts: number; lastStatusCode: number }[] }>(
      await call(`/v1/admin/webhook-endpoints/${endpoint.id}/deliveries`, { token: admin.token }),
    );
    expect(list.items[0]).toMatchObject({
      eventId: got.webhookId,
      status: "delivered",
      attempts: 1,
      lastStatusCode: 200,
    });
  });

  it("answered 500, 500, then 200: the same webhook-id, 3 attempts, on the schedule", async () => {
    const admin = await newAdmin();
    const name = receiverName();
    const endpoint = await endpointAt(admin, name, ["session.booked"]);
    await failNext(`/hooks/${name}`, 500, { times: 2, body: { error: "x".repeat(5000) } });
    const session = await bookedSession();
    await dispatchNow();
    const [delivery] = await deliveriesOf(endpoint.id);
    if (!delivery) throw new Error("no delivery row");
    // the first attempt (queue or here: the claim lets only one run)
    await attemptNow(delivery.id);
    const first = await eventually(async () => {
      const [d] = await deliveriesOf(endpoint.id);
      return d && d.attempts === 1 && d.lastStatusCode === 500 ? d : undefined;
    });
    expect(first.status).toBe("pending");
    // at most 1 KiB of the answer is kept
    expect(new TextEncoder().encode(first.lastResponseBody ?? "").byteLength).toBeLessThanOrEqual(1024);
    expect(first.lastResponseBody?.length).toBeGreaterThan(1000);
    const now = await serverNow();
    expect((first.nextAttemptAt ?? 0) - now).toBeLessThanOrEqual(RETRY_SCHEDULE_MS[0] ?? 0);

    await moveClockTo(now + (RETRY_SCHEDULE_MS[0] ?? 0) + 1000);
    await attemptNow(delivery.id);
    const second = await eventually(async () => {
      const [d] = await deliveriesOf(endpoint.id);
      return d && d.attempts === 2 ? d : undefined;
    });
    expect(second).toMatchObject({ status: "pending", lastStatusCode: 500 });
    // the third attempt is 5 minutes later: not before
    await attemptNow(delivery.id);
    expect((await deliveriesOf(endpoint.id))[0]?.attempts).toBe(2);
    await moveClockTo((await serverNow()) + (RETRY_SCHEDULE_MS[1] ?? 0) + 1000);
    await attemptNow(delivery.id);
    const third = await eventually(async () => {
      const [d] = await deliveriesOf(endpoint.id);
      return d?.status === "delivered" ? d : undefined;
    });
    expect(third).toMatchObject({ attempts: 3, lastStatusCode: 200, nextAttemptAt: null, lastError: null });

    const got = (await received(name)).filter((d) => d.body.includes(session.id));
    expect(got).toHaveLength(3);
    expect(new Set(got.map((d) => d.webhookId)).size).toBe(1);
    expect(got[0]?.webhookId).toBe(delivery.eventId);
    expect(new Set(got.map((d) => d.body)).size).toBe(1);
  });

  it("marks a delivery failed after the whole schedule, and an admin can retry it once", async () => {
    const admin = await newAdmin();
    const name = receiverName();
    const endpoint = await endpointAt(admin, name, ["session.booked"]);
    await failNext(`/hooks/${name}`, 503, { times: RETRY_SCHEDULE_MS.length + 2 });
    await bookedSession();
    await dispatchNow();
    const [delivery] = await deliveriesOf(endpoint.id);
    if (!delivery) throw new Error("no delivery row");
    for (let i = 0; i <= RETRY_SCHEDULE_MS.length; i++) {
      await attemptNow(delivery.id);
      const d = (await deliveriesOf(endpoint.id))[0];
      if (d?.status !== "pending") break;
      await moveClockTo((d.nextAttemptAt ?? 0) + 1);
    }
    const failed = (await deliveriesOf(endpoint.id))[0];
    expect(failed).toMatchObject({ status: "failed", attempts: RETRY_SCHEDULE_MS.length + 1, nextAttemptAt: null });

    const retry = await call(`/v1/admin/webhook-deliveries/${delivery.id}/retry`, {
      method: "POST",
      token: admin.token,
    });
    expect(retry.status).toBe(202);
    expect(await json(retry)).toMatchObject({ id: delivery.id, status: "pending" });
    // one more attempt (answered 503 again: the injected failures are not used up): failed, not rescheduled
    await attemptNow(delivery.id);
    const after = await eventually(async () => {
      const d = (await deliveriesOf(endpoint.id))[0];
      return d && d.attempts === RETRY_SCHEDULE_MS.length + 2 && d.status !== "pending" ? d : undefined;
    });
    expect(after).toMatchObject({ status: "failed", nextAttemptAt: null });
    // then the receiver is fixed: the next manual retry delivers
    expect(
      (await call(`/v1/admin/webhook-deliveries/${delivery.id}/retry`, { method: "POST", token: admin.token })).status,
    ).toBe(202);
    await attemptNow(delivery.id);
    expect((await deliveriesOf(endpoint.id))[0]).toMatchObject({ status: "delivered", lastStatusCode: 200 });
    const audit = await json<{ items: { action: string }[] }>(
      await call(`/v1/admin/audit-log?targetId=${delivery.id}`, { token: admin.token }),
    );
    expect(audit.items.map((a) => a.action)).toEqual(["webhook_delivery.retry", "webhook_delivery.retry"]);
  });

  it("signs with both secrets during a rotation's grace period, then with the new one only", async () => {
    const admin = await newAdmin();
    const name = receiverName();
    const endpoint = await endpointAt(admin, name, ["session.booked"]);
    const rotated = await json<{ secret: string }>(
      await call(`/v1/admin/webhook-endpoints/${endpoint.id}/rotate-secret`, { method: "POST", token: admin.token }),
    );
    await setReceiver(name, { secret: rotated.secret });
    const first = await bookedSession();
    const got = await eventually(async () => (await received(name)).find((d) => d.body.includes(first.id)));
    const headers = (d: typeof got) => ({
      "webhook-id": d.webhookId,
      "webhook-timestamp": d.timestamp,
      "webhook-signature": d.signature,
    });
    expect(got.signature.split(" ")).toHaveLength(2);
    expect(() => new Webhook(endpoint.secret).verify(got.body, headers(got))).not.toThrow();
    expect(() => new Webhook(rotated.secret).verify(got.body, headers(got))).not.toThrow();

    await moveClockTo((await serverNow()) + 25 * 3_600_000);
    const second = await bookedSession();
    const later = await eventually(async () => (await received(name)).find((d) => d.body.includes(second.id)));
    expect(later.signature.split(" ")).toHaveLength(1);
    expect(() => new Webhook(rotated.secret).verify(later.body, headers(later))).not.toThrow();
    expect(() => new Webhook(endpoint.secret).verify(later.body, headers(later))).toThrow();
  });

  it("sends only the subscribed types to enabled endpoints", async () => {
    const admin = await newAdmin();
    const wanted = await endpointAt(admin, receiverName(), ["session.booked"]);
    const other = await endpointAt(admin, receiverName(), ["payout.paid"]);
    const off = await endpointAt(admin, receiverName(), ["*"]);
    await call(`/v1/admin/webhook-endpoints/${off.id}`, {
      method: "PATCH",
      token: admin.token,
      body: { enabled: false },
    });
    const session = await bookedSession();
    await dispatchNow();
    const ofSession = async (id: string) =>
      (await deliveriesOf(id)).filter((d) => d.eventType === "session.booked").length;
    await eventually(async () => ((await ofSession(wanted.id)) === 1 ? true : undefined));
    expect(await ofSession(other.id)).toBe(0);
    expect(await ofSession(off.id)).toBe(0);
    expect(await eventTypesOf(session.id)).toEqual(["session.booked"]);
  });
});
