/**
 * Outgoing webhooks, black box: an admin registers an endpoint at the emulator's receiver (through
 * the SDK), a student books and cancels, and the receiver gets session.booked, session.cancelled and
 * session.settled, each verified with the SDK's verifyWebhook (by the receiver) and again here with
 * the `standardwebhooks` reference package. A delivery the receiver refuses once is retried with the
 * same webhook-id; the SSRF rules and the admin-only guard hold over HTTP too.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { Webhook } from "standardwebhooks";
import { createClient, idempotencyKey, ProblemError, unwrap } from "../sdk/src/index.ts";
import {
  adminEmail,
  book,
  c,
  fund,
  newStudent,
  newSubject,
  newTutor,
  poll,
  rand,
  slotIn,
  type Tokens,
} from "./helpers.ts";

interface Received {
  webhookId: string;
  timestamp: string;
  signature: string;
  type: string;
  body: string;
  status: number | null;
  verified: boolean | null;
}

const received = (name: string) => c.emulator<Received[]>(`/__control/hooks/${name}/deliveries`);

describe("outgoing webhooks", () => {
  let admin: Tokens;
  let asAdmin: ReturnType<typeof createClient>;
  before(async () => {
    admin = await c.login(adminEmail("hooks"));
    asAdmin = createClient({ baseUrl: c.apiUrl, fetch: c.fetchFor(), getToken: () => admin.accessToken });
  });

  async function endpointFor(
    name: string,
    events: ("*" | "session.booked" | "session.cancelled" | "session.settled")[],
  ) {
    const created = unwrap(
      await asAdmin.POST("/v1/admin/webhook-endpoints", {
        params: { header: idempotencyKey() },
        body: { url: `${c.emulatorUrl}/hooks/${name}`, events, description: `e2e ${name}` },
      }),
    );
    await c.emulator(`/__control/hooks/${name}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ secret: created.secret }),
    });
    return created;
  }

  it("delivers a booking's and a cancellation's events, signed and verified", async () => {
    const name = `e2e-${rand()}`;
    const endpoint = await endpointFor(name, ["session.booked", "session.cancelled", "session.settled"]);
    const subject = await newSubject(admin);
    const tutor = await newTutor(admin, [subject.id]);
    const student = await newStudent();
    await fund(admin, student.userId, 5);
    const booked = await book(student, tutor, subject.id, slotIn(40));
    assert.equal(booked.status, 201);
    const session = booked.body;
    await c.ok(`/v1/sessions/${session.id}/cancel`, { token: student.token, body: {} });
    const got = await poll("three deliveries at the receiver", 30_000, async () => {
      const mine = (await received(name)).filter((d) => d.body.includes(session.id));
      return mine.length >= 3 ? mine : undefined;
    });
    assert.deepEqual(got.map((d) => d.type).sort(), ["session.booked", "session.cancelled", "session.settled"]);
    for (const d of got) {
      assert.equal(d.verified, true, "the receiver verified it with the SDK's verifyWebhook");
      const event = new Webhook(endpoint.secret).verify(d.body, {
        "webhook-id": d.webhookId,
        "webhook-timestamp": d.timestamp,
        "webhook-signature": d.signature,
      }) as { data: { id: string; status: string } };
      assert.equal(event.data.id, session.id);
    }
    const cancelled = JSON.parse(got.find((d) => d.type === "session.cancelled")?.body ?? "{}");
    assert.equal(cancelled.data.status, "cancelled");
    const log = unwrap(
      await asAdmin.GET("/v1/admin/webhook-endpoints/{id}/deliveries", { params: { path: { id: endpoint.id } } }),
    );
    assert.ok(log.items.length >= 3 && log.items.every((d) => d.status === "delivered" && d.attempts === 1));
  });

  it("retries a refused delivery with the same webhook-id until it is delivered", async () => {
    const name = `e2e-${rand()}`;
    const endpoint = await endpointFor(name, ["session.booked"]);
    await c.emulator("/__control/fail", {
      method: "POST",
      body: JSON.stringify({ path: `/hooks/${name}`, status: 500, times: 1 }),
    });
    const subject = await newSubject(admin);
    const tutor = await newTutor(admin, [subject.id]);
    const student = await newStudent();
    await fund(admin, student.userId, 5);
    assert.equal((await book(student, tutor, subject.id, slotIn(44))).status, 201);
    const delivered = await poll("the retried delivery", 60_000, async () => {
      const [d] = unwrap(
        await asAdmin.GET("/v1/admin/webhook-endpoints/{id}/deliveries", { params: { path: { id: endpoint.id } } }),
      ).items;
      return d?.status === "delivered" ? d : undefined;
    });
    assert.equal(delivered.attempts, 2);
    const got = (await received(name)).filter((d) => d.webhookId === delivered.eventId);
    assert.equal(got.length, 2, "both attempts reached the receiver");
    assert.deepEqual(got.map((d) => d.status).sort(), [200, 500]);
  });

  it("refuses private targets and non-admins", async () => {
    for (const url of ["http://10.0.0.1/hook", "http://169.254.169.254/latest", "ftp://example.com/x"]) {
      const r = await asAdmin.POST("/v1/admin/webhook-endpoints", {
        params: { header: idempotencyKey() },
        body: { url, events: ["*"] },
      });
      assert.equal(r.response.status, 400, url);
      assert.equal(r.error?.code, "validation_failed");
    }
    const student = await newStudent();
    const asStudent = createClient({ baseUrl: c.apiUrl, fetch: c.fetchFor(), getToken: () => student.token });
    const r = await asStudent.GET("/v1/admin/webhook-endpoints");
    assert.equal(r.response.status, 403);
    await assert.rejects(async () => unwrap(r), ProblemError);
  });
});
