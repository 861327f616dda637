/**
 * The admin audit log: every admin action writes exactly one row in the same atomic step as the action
 * (nothing when the action fails or is an idempotent replay), rows cannot be changed or deleted, and
 * GET /v1/admin/audit-log lists them newest first by actor or target.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ledgerFor } from "../../src/ledger/client";
import { newId } from "../../src/lib/crypto";
import type { AuditEntry } from "../../src/modules/audit/store";
import { handleQueue } from "../../src/queues/consumer";
import { paidOrder } from "../credits/charge-events";
import { balance } from "../credits/helpers";
import { call, createUser, env, expectProblem, failNext, json, type TestUser } from "../helpers/api";
import { recWorld } from "../recordings/helpers";

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

const requestId = () => `req-${crypto.randomUUID()}`;

/** Every audit row of a target, read from the table itself (not through the route under test). */
async function rowsOf(targetId: string): Promise<AuditRow[]> {
  const { results } = await env.DB.prepare(
    "SELECT * FROM adminAuditLog WHERE targetId = ? ORDER BY createdAt DESC, id DESC",
  )
    .bind(targetId)
    .all<AuditRow & { details: string }>();
  return results.map((r) => ({ ...r, details: JSON.parse(r.details) as Record<string, unknown> }));
}

const adminPost = (admin: TestUser, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  call(path, { method: "POST", token: admin.token, body, headers });

async function deadLetter(body: unknown) {
  const messageId = `dl-${crypto.randomUUID()}`;
  const batch = createMessageBatch("tutorloop-jobs-dlq", [{ id: messageId, timestamp: Date.now(), attempts: 6, body }]);
  const ctx = createExecutionContext();
  await handleQueue(batch, env, ctx);
  await getQueueResult(batch, ctx);
  const row = await env.DB.prepare("SELECT id FROM deadLetters WHERE messageId = ?")
    .bind(messageId)
    .first<{ id: string }>();
  if (!row) throw new Error("dead letter not recorded");
  return row.id;
}

describe("audit rows of admin actions", () => {
  it("credits.adjust: one row per adjustment, none for a replay or a refused debit", async () => {
    const admin = await createUser("admin");
    const student = await createUser("student");
    const rid = requestId();
    const body = { userId: student.id, type: "credit", amount: 7, description: "goodwill after an outage" };
    const first = await adminPost(admin, "/v1/admin/credits/adjustments", body, {
      "idempotency-key": "A1",
      "x-request-id": rid,
    });
    expect(first.status).toBe(201);
    const entry = await json<{ id: string }>(first);
    const rows = await rowsOf(student.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      actorUserId: admin.id,
      action: "credits.adjust",
      targetType: "user",
      targetId: student.id,
      requestId: rid,
      details: { type: "credit", amount: 7, description: "goodwill after an outage", ledgerEntryId: entry.id },
    });

    // the same Idempotency-Key (the middleware's replay) and the ledger's own replay of a derived key
    expect((await adminPost(admin, "/v1/admin/credits/adjustments", body, { "idempotency-key": "A1" })).status).toBe(
      201,
    );
    const auto = { ...body, description: "no key, sent twice" };
    expect((await adminPost(admin, "/v1/admin/credits/adjustments", auto)).status).toBe(201);
    expect((await adminPost(admin, "/v1/admin/credits/adjustments", auto)).status).toBe(201);
    expect(await rowsOf(student.id)).toHaveLength(2);

    // a debit below zero: 402, and neither ledger entry nor audit row
    await expectProblem(
      await adminPost(admin, "/v1/admin/credits/adjustments", { ...body, type: "debit", amount: 100 }),
      402,
      "insufficient_credits",
    );
    expect(await rowsOf(student.id)).toHaveLength(2);
    expect(await balance(student.id)).toBe(14);
  });

  it("the audit INSERT is part of the ledger's batch: an audit row that cannot be written takes the entry with it", async () => {
    const student = await createUser("student");
    const broken = {
      actorUserId: null,
      action: "credits.adjust",
      targetId: student.id,
      details: {},
      requestId: null,
      at: Date.now(),
    } as unknown as AuditEntry;
    // (an async wrapper: expect().rejects wants a plain promise, not an RPC one)
    await expect(
      (async () =>
        ledgerFor(env, student.id).adjust({
          userId: student.id,
          type: "credit",
          amount: 3,
          description: "must not land",
          key: `k-${crypto.randomUUID()}`,
          at: Date.now(),
          audit: broken,
        }))(),
    ).rejects.toThrow(/NOT NULL/);
    expect(await balance(student.id)).toBe(0);

    const { student: buyer, orderId } = await paidOrder();
    await expect(
      (async () =>
        ledgerFor(env, buyer.id).reverseForAdminRefund({
          userId: buyer.id,
          orderId,
          credits: 1,
          cents: 1000,
          key: `k-${crypto.randomUUID()}`,
          actorUserId: "usr_x",
          at: Date.now(),
          audit: { ...broken, targetId: orderId },
        }))(),
    ).rejects.toThrow(/NOT NULL/);
    expect(await balance(buyer.id)).toBe(5);
    const refunds = await env.DB.prepare("SELECT COUNT(*) AS n FROM cardRefunds WHERE orderId = ?")
      .bind(orderId)
      .first<{ n: number }>();
    expect(refunds?.n).toBe(0);
  });

  it("order.refund: one row per refund, none for a replay or a refusal; a Stripe refusal adds the system's undo", async () => {
    const admin = await createUser("admin");
    const { student, orderId, paymentIntent } = await paidOrder();
    const rid = requestId();
    const refund = (credits: number, headers: Record<string, string> = {}) =>
      adminPost(admin, `/v1/admin/credits/orders/${orderId}/refund`, { credits }, headers);
    expect((await refund(2, { "idempotency-key": "R1", "x-request-id": rid })).status).toBe(200);
    expect((await refund(2, { "idempotency-key": "R1" })).status).toBe(200); // replay
    const rows = await rowsOf(orderId);
    expect(rows).toHaveLength(1);
    const refundRow = await env.DB.prepare("SELECT id FROM cardRefunds WHERE orderId = ?")
      .bind(orderId)
      .first<{ id: string }>();
    expect(rows[0]).toMatchObject({
      actorUserId: admin.id,
      action: "order.refund",
      targetType: "order",
      targetId: orderId,
      requestId: rid,
      details: { credits: 2, cents: 2000, refundId: refundRow?.id, ledgerEntryId: expect.stringMatching(/^led_/) },
    });

    // refused by the rules (more than is left): no row
    await expectProblem(await refund(4), 409, "conflict");
    expect(await rowsOf(orderId)).toHaveLength(1);

    // refused by Stripe: the admin's refund and the system's undo, both under this request's id
    await failNext("/v1/refunds", 400, {
      match: paymentIntent,
      body: { error: { type: "invalid_request_error", code: "charge_disputed", message: "Charge is disputed." } },
    });
    const undoRid = requestId();
    await expectProblem(await refund(1, { "x-request-id": undoRid }), 409, "conflict");
    expect(await balance(student.id)).toBe(3);
    const after = await rowsOf(orderId);
    expect(after.map((r) => [r.action, r.actorUserId, r.requestId])).toEqual([
      ["order.refund_undone", "system", undoRid],
      ["order.refund", admin.id, undoRid],
      ["order.refund", admin.id, rid],
    ]);
    expect(after[0]?.details).toMatchObject({ credits: 1, reason: expect.stringContaining("disputed") });
  });

  it("dead_letter.replay: one row per replay, none for a dead letter that cannot run again", async () => {
    const admin = await createUser("admin");
    const job = await deadLetter({ type: "video.create_room", sessionId: `ses_${crypto.randomUUID()}` });
    const rid = requestId();
    expect(
      (await adminPost(admin, `/v1/admin/dead-letters/${job}/replay`, undefined, { "x-request-id": rid })).status,
    ).toBe(202);
    const rows = await rowsOf(job);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      actorUserId: admin.id,
      action: "dead_letter.replay",
      targetType: "dead_letter",
      targetId: job,
      requestId: rid,
      details: { type: "video.create_room", replayCount: 1 },
    });
    expect((await adminPost(admin, `/v1/admin/dead-letters/${job}/replay`)).status).toBe(202);
    expect((await rowsOf(job)).map((r) => r.details.replayCount)).toEqual([2, 1]);
    // concurrent replays: each one recorded has its row, each one refused (409) has none
    const burst = await Promise.all([1, 2, 3].map(() => adminPost(admin, `/v1/admin/dead-letters/${job}/replay`)));
    expect(burst.every((r) => r.status === 202 || r.status === 409)).toBe(true);
    const accepted = burst.filter((r) => r.status === 202).length;
    expect(accepted).toBeGreaterThanOrEqual(1);
    const count = await env.DB.prepare("SELECT replayCount FROM deadLetters WHERE id = ?")
      .bind(job)
      .first<{ replayCount: number }>();
    expect(count?.replayCount).toBe(2 + accepted);
    expect(await rowsOf(job)).toHaveLength(2 + accepted);

    const email = await deadLetter({ type: "email.send", to: "x@example.test", idempotencyKey: "k", subject: "s" });
    await expectProblem(await adminPost(admin, `/v1/admin/dead-letters/${email}/replay`), 409, "conflict");
    expect(await rowsOf(email)).toHaveLength(0);
  });

  it("recording.retry: one row per restart, none when there is nothing to retry", async () => {
    const admin = await createUser("admin");
    const w = await recWorld("completed");
    const recordingId = newId("rec");
    const now = Date.now();
    await env.DB.prepare(
      "INSERT INTO sessionRecordings (id, sessionId, s3Key, transcriptionStatus, transcriptionError, createdAt, updatedAt) VALUES (?, ?, ?, 'failed', 'Deepgram rejected the audio', ?, ?)",
    )
      .bind(recordingId, w.sessionId, `recordings/${recordingId}`, now, now)
      .run();
    const rid = requestId();
    const retry = await adminPost(admin, `/v1/admin/recordings/${recordingId}/retry`, undefined, {
      "x-request-id": rid,
    });
    expect(retry.status).toBe(202);
    const rows = await rowsOf(recordingId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      actorUserId: admin.id,
      action: "recording.retry",
      targetType: "recording",
      targetId: recordingId,
      requestId: rid,
      details: { restarted: "transcription", sessionId: w.sessionId },
    });
    // no longer failed: 409 and no row (whatever the restarted job has done by now, it is not `failed` again
    // until the job runs; make that certain)
    await env.DB.prepare("UPDATE sessionRecordings SET transcriptionStatus = 'processing' WHERE id = ?")
      .bind(recordingId)
      .run();
    await expectProblem(await adminPost(admin, `/v1/admin/recordings/${recordingId}/retry`), 409, "conflict");
    expect(await rowsOf(recordingId)).toHaveLength(1);
  });

  it("subject.create: one row, none for a slug already in use", async () => {
    const admin = await createUser("admin");
    const slug = `audit-${crypto.randomUUID().slice(0, 8)}`;
    const rid = requestId();
    const res = await adminPost(admin, "/v1/admin/subjects", { name: "Audit Subject", slug }, { "x-request-id": rid });
    expect(res.status).toBe(201);
    const subject = await json<{ id: string }>(res);
    expect(await rowsOf(subject.id)).toMatchObject([
      {
        actorUserId: admin.id,
        action: "subject.create",
        targetType: "subject",
        targetId: subject.id,
        requestId: rid,
        details: { name: "Audit Subject", slug },
      },
    ]);
    await expectProblem(await adminPost(admin, "/v1/admin/subjects", { name: "Again", slug }), 409, "conflict");
    const bySlug = await env.DB.prepare("SELECT COUNT(*) AS n FROM adminAuditLog WHERE targetId = ? OR actorUserId = ?")
      .bind(subject.id, admin.id)
      .first<{ n: number }>();
    expect(bySlug?.n).toBe(1);
  });
});

describe("append-only", () => {
  it("an UPDATE or DELETE of an audit row is refused by the database", async () => {
    const admin = await createUser("admin");
    const slug = `ao-${crypto.randomUUID().slice(0, 8)}`;
    const subject = await json<{ id: string }>(await adminPost(admin, "/v1/admin/subjects", { name: "AO", slug }));
    await expect(
      env.DB.prepare("UPDATE adminAuditLog SET actorUserId = 'someone-else' WHERE targetId = ?").bind(subject.id).run(),
    ).rejects.toThrow(/audit_append_only/);
    await expect(env.DB.prepare("DELETE FROM adminAuditLog WHERE targetId = ?").bind(subject.id).run()).rejects.toThrow(
      /audit_append_only/,
    );
    expect(await rowsOf(subject.id)).toMatchObject([{ actorUserId: admin.id }]);
  });
});

describe("GET /v1/admin/audit-log", () => {
  type Page = { items: AuditRow[]; nextCursor: string | null };
  const list = async (token: string, query: string) =>
    json<Page>(await call(`/v1/admin/audit-log?${query}`, { token }));

  async function world() {
    const a = await createUser("admin");
    const b = await createUser("admin");
    const s1 = await createUser("student");
    const s2 = await createUser("student");
    const adjust = (admin: TestUser, userId: string, amount: number) =>
      adminPost(admin, "/v1/admin/credits/adjustments", {
        userId,
        type: "credit",
        amount,
        description: `audit list ${amount}`,
      });
    for (const [admin, user, amount] of [
      [a, s1, 1],
      [a, s2, 2],
      [b, s1, 3],
      [a, s1, 4],
    ] as const) {
      expect((await adjust(admin, user.id, amount)).status).toBe(201);
    }
    return { a, b, s1, s2 };
  }

  it("filters by actor, by target or both, newest first, in cursor pages", async () => {
    const { a, b, s1, s2 } = await world();
    const amounts = (p: Page) => p.items.map((i) => i.details.amount);
    expect(amounts(await list(a.token, `actorId=${a.id}`))).toEqual([4, 2, 1]);
    expect(amounts(await list(a.token, `actorId=${b.id}`))).toEqual([3]);
    expect(amounts(await list(a.token, `targetId=${s1.id}`))).toEqual([4, 3, 1]);
    expect(amounts(await list(a.token, `targetId=${s2.id}`))).toEqual([2]);
    expect(amounts(await list(a.token, `actorId=${a.id}&targetId=${s1.id}`))).toEqual([4, 1]);
    expect((await list(a.token, "actorId=usr_nobody")).items).toEqual([]);

    const page1 = await list(a.token, `targetId=${s1.id}&limit=2`);
    expect(amounts(page1)).toEqual([4, 3]);
    expect(page1.nextCursor).toEqual(expect.any(String));
    const page2 = await list(a.token, `targetId=${s1.id}&limit=2&cursor=${page1.nextCursor}`);
    expect(amounts(page2)).toEqual([1]);
    expect(page2.nextCursor).toBeNull();
    expect(page1.items[0]).toMatchObject({
      actorUserId: a.id,
      action: "credits.adjust",
      targetType: "user",
      targetId: s1.id,
      requestId: expect.any(String),
      createdAt: expect.any(Number),
    });

    // unfiltered: everything, newest first (this file's rows are the newest at this point)
    const all = await list(a.token, "limit=3");
    expect(amounts(all)).toEqual([4, 3, 2]);
  });

  it("is in the OpenAPI document (so the admin authorization matrix covers it) with its row schema", async () => {
    const doc = await json<{
      paths: Record<string, { get?: { security?: unknown[]; responses: Record<string, unknown> } }>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    }>(await call("/v1/openapi.json"));
    expect(doc.paths["/v1/admin/audit-log"]?.get?.security).toEqual([{ bearerAuth: expect.any(Array) }]);
    expect(Object.keys(doc.components.schemas.AuditLogEntry?.properties ?? {}).sort()).toEqual(
      ["action", "actorUserId", "createdAt", "details", "id", "requestId", "targetId", "targetType"].sort(),
    );
  });

  it("authorization and bad input: anonymous 401, student and tutor 403, bad limit, cursor or id 400", async () => {
    await expectProblem(await call("/v1/admin/audit-log"), 401, "unauthorized");
    for (const context of ["student", "tutor"] as const) {
      await expectProblem(
        await call("/v1/admin/audit-log", { token: (await createUser(context)).token }),
        403,
        "forbidden",
      );
    }
    const admin = await createUser("admin");
    for (const q of ["limit=0", "limit=101", "cursor=nope", "actorId=", `targetId=${"x".repeat(101)}`]) {
      await expectProblem(await call(`/v1/admin/audit-log?${q}`, { token: admin.token }), 400, "validation_failed");
    }
  });
});
