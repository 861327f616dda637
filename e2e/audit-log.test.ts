/**
 * The admin audit log, black box: after each kind of admin action (a new subject, an adjustment, an
 * order refund, a recording retry) the log shows exactly one row for it, found by its target and
 * carrying the request id the admin sent; a replay with the same Idempotency-Key, a refused action
 * and a dead letter that cannot run again add none. (A successful dead-letter replay needs a provider
 * failure nobody else may hit: e2e/serial/audit-replay.test.ts.)
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { before, describe, it } from "node:test";
import {
  adminEmail,
  book,
  c,
  expectProblem,
  fund,
  newStudent,
  newSubject,
  newTutor,
  nextQuarter,
  poll,
  rand,
  type Student,
  start,
  type Tokens,
} from "./helpers.ts";

interface AuditRow {
  id: string;
  actorUserId: string;
  action: string;
  targetType: string;
  targetId: string;
  details: Record<string, unknown>;
  requestId: string | null;
  createdAt: number;
}

const requestId = () => `e2e-audit-${rand()}${rand()}`;

describe("admin audit log", () => {
  let admin: Tokens;
  const log = (query: string) =>
    c.ok<{ items: AuditRow[]; nextCursor: string | null }>(`/v1/admin/audit-log?${query}`, {
      token: admin.accessToken,
    });
  const rowsOf = async (targetId: string) => (await log(`targetId=${targetId}&limit=100`)).items;

  before(async () => {
    admin = await c.login(adminEmail("audit"));
  });

  it("a new subject and credit adjustments, each once; a replay and a refused debit add nothing", async () => {
    const rid = requestId();
    const slug = `audit-${rand()}`;
    const subject = await c.ok<{ id: string }>(
      "/v1/admin/subjects",
      { token: admin.accessToken, body: { name: `Audit ${slug}`, slug }, headers: { "x-request-id": rid } },
      201,
    );
    const [created] = await rowsOf(subject.id);
    assert.deepEqual(
      [created?.action, created?.targetType, created?.actorUserId, created?.requestId, created?.details],
      ["subject.create", "subject", admin.user.id, rid, { name: `Audit ${slug}`, slug }],
    );
    await expectProblem(
      await c.call("/v1/admin/subjects", { token: admin.accessToken, body: { name: "Again", slug } }),
      409,
      "conflict",
    );
    assert.equal((await rowsOf(subject.id)).length, 1);

    const s = await newStudent();
    const adjust = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
      c.call<{ id: string }>("/v1/admin/credits/adjustments", {
        token: admin.accessToken,
        body: { userId: s.userId, ...body },
        headers,
      });
    const adjustRid = requestId();
    const credit = { type: "credit", amount: 3, description: "audit e2e goodwill" };
    const first = await adjust(credit, { "idempotency-key": `audit-${adjustRid}`, "x-request-id": adjustRid });
    assert.equal(first.status, 201, first.text);
    const replay = await adjust(credit, { "idempotency-key": `audit-${adjustRid}` });
    assert.equal(replay.status, 201);
    assert.equal(replay.body.id, first.body.id);
    await expectProblem(await adjust({ ...credit, type: "debit", amount: 1000 }), 402, "insufficient_credits");
    const rows = await log(`actorId=${admin.user.id}&targetId=${s.userId}`);
    assert.deepEqual(
      rows.items.map((r) => [r.action, r.targetType, r.requestId, r.details.amount, r.details.ledgerEntryId]),
      [["credits.adjust", "user", adjustRid, 3, first.body.id]],
    );

    // students and tutors cannot read it
    await expectProblem(await c.call("/v1/admin/audit-log", { token: s.token }), 403, "forbidden");
    await expectProblem(await c.call("/v1/admin/audit-log", { expectViolation: true }), 401, "unauthorized");
  });

  it("an order refund once (not again on its replay); a dead letter that cannot run again is not logged", async () => {
    const s = await newStudent();
    // the student's next e-mail (the payment receipt) is refused by Resend: a dead letter of email.send
    await c.emulator("/__control/fail", {
      method: "POST",
      body: JSON.stringify({ path: "/emails", status: 422, match: s.email, times: 1 }),
    });
    const orderId = await buy(s);
    const rid = requestId();
    const refund = (headers: Record<string, string>) =>
      c.call<{ reversedCredits: number }>(`/v1/admin/credits/orders/${orderId}/refund`, {
        token: admin.accessToken,
        body: { credits: 2 },
        headers,
      });
    const key = `audit-refund-${rid}`;
    const done = await refund({ "idempotency-key": key, "x-request-id": rid });
    assert.equal(done.status, 200, done.text);
    assert.equal((await refund({ "idempotency-key": key })).body.reversedCredits, 2);
    const rows = await rowsOf(orderId);
    assert.deepEqual(
      rows.map((r) => [r.action, r.targetType, r.actorUserId, r.requestId, r.details.credits, r.details.cents]),
      [["order.refund", "order", admin.user.id, rid, 2, 2000]],
    );

    // dead e-mail jobs keep the recipient only as a SHA-256 of the address (and its domain)
    const toSha256 = createHash("sha256").update(s.email.toLowerCase()).digest("hex");
    const letter = await poll("the receipt's dead letter", 20_000, async () => {
      const page = await c.ok<{ items: { id: string; type: string | null; body: string }[] }>(
        "/v1/admin/dead-letters?limit=100",
        { token: admin.accessToken },
      );
      return page.items.find((d) => d.type === "email.send" && d.body.includes(toSha256));
    });
    await expectProblem(
      await c.call(`/v1/admin/dead-letters/${letter.id}/replay`, { method: "POST", token: admin.accessToken }),
      409,
      "conflict",
    );
    assert.deepEqual(await rowsOf(letter.id), []);
  });

  it("a recording retry: one row per restart", async () => {
    const subject = await newSubject(admin);
    const t = await newTutor(admin, [subject.id], 1);
    const s = await newStudent();
    await fund(admin, s.userId, 5);
    const booked = await book(s, t, subject.id, nextQuarter(), 60);
    assert.equal(booked.status, 201, booked.text);
    const sessionId = booked.body.id;
    await start(t, sessionId);
    const junk = new TextEncoder().encode("this is not audio at all, just text");
    const up = await c.call<{ id: string }>(`/v1/sessions/${sessionId}/recording`, {
      method: "PUT",
      token: t.token,
      raw: junk,
      headers: { "content-type": "audio/wav" },
    });
    assert.equal(up.status, 202, up.text);
    const recordingId = up.body.id;
    const status = () =>
      c.ok<{ transcriptionStatus: string }>(`/v1/sessions/${sessionId}/recording`, { token: s.token });
    await poll("the recording to fail", 30_000, async () =>
      (await status()).transcriptionStatus === "failed" ? true : undefined,
    );
    const rid = requestId();
    const retry = await c.call(`/v1/admin/recordings/${recordingId}/retry`, {
      method: "POST",
      token: admin.accessToken,
      headers: { "x-request-id": rid },
    });
    assert.equal(retry.status, 202, retry.text);
    const rows = await rowsOf(recordingId);
    assert.deepEqual(
      rows.map((r) => [r.action, r.targetType, r.actorUserId, r.requestId, r.details.restarted, r.details.sessionId]),
      [["recording.retry", "recording", admin.user.id, rid, "transcription", sessionId]],
    );
    // the junk fails again; the next retry is a second row
    await poll("the recording to fail again", 30_000, async () =>
      (await status()).transcriptionStatus === "failed" ? true : undefined,
    );
    const second = await c.call(`/v1/admin/recordings/${recordingId}/retry`, {
      method: "POST",
      token: admin.accessToken,
    });
    assert.equal(second.status, 202, second.text);
    assert.equal((await rowsOf(recordingId)).length, 2);

    // newest first, and by actor: this admin's retries are among its latest actions
    const mine = await log(`actorId=${admin.user.id}&limit=100`);
    const times = mine.items.map((r) => r.createdAt);
    assert.deepEqual(
      times,
      [...times].sort((a, b) => b - a),
    );
    assert.ok(mine.items.every((r) => r.actorUserId === admin.user.id));
    assert.ok(mine.items.some((r) => r.action === "recording.retry" && r.targetId === recordingId));
  });
});

/** A paid pack_5 order of the student (5 credits, 5000 cents), once the webhook credited it. */
async function buy(s: Student): Promise<string> {
  const co = await c.ok<{ orderId: string; checkoutUrl: string }>(
    "/v1/credits/checkout",
    { token: s.token, body: { packId: "pack_5" } },
    201,
  );
  assert.equal((await c.checkoutAction(co.checkoutUrl, "pay")).status, 200);
  await poll(`order ${co.orderId}`, 20_000, async () => {
    const orders = await c.ok<{ items: { id: string; status: string }[] }>("/v1/credits/orders?limit=100", {
      token: s.token,
    });
    return orders.items.find((o) => o.id === co.orderId && o.status === "completed");
  });
  return co.orderId;
}
