import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { handleQueue } from "../../src/queues/consumer";
import { call, createUser, env, expectProblem, json } from "../helpers/api";

async function deadLetter(body: unknown) {
  const id = `dl-${crypto.randomUUID()}`;
  const batch = createMessageBatch("tutorloop-jobs-dlq", [{ id, timestamp: Date.now(), attempts: 6, body }]);
  const ctx = createExecutionContext();
  await handleQueue(batch, env, ctx);
  await getQueueResult(batch, ctx);
  return id;
}

interface DeadLetterPage {
  items: { messageId: string; queue: string; type: string | null; attempts: number; body: string }[];
  nextCursor: string | null;
}

describe("GET /v1/admin/dead-letters", () => {
  it("lists recorded dead letters newest first, with cursor pages", async () => {
    const admin = await createUser("admin");
    const first = await deadLetter({
      type: "stripe.fulfil",
      orderId: "ord_dead",
      eventId: "evt_dead",
      outcome: "paid",
    });
    const second = await deadLetter({ type: "video.create_room", sessionId: "ses_dead" });
    const page1 = await json<DeadLetterPage>(await call("/v1/admin/dead-letters?limit=1", { token: admin.token }));
    expect(page1.items).toHaveLength(1);
    expect(page1.nextCursor).toEqual(expect.any(String));
    const all = await json<DeadLetterPage>(await call("/v1/admin/dead-letters?limit=100", { token: admin.token }));
    const ids = all.items.map((i) => i.messageId);
    expect(ids).toContain(first);
    expect(ids).toContain(second);
    expect(ids.indexOf(second)).toBeLessThan(ids.indexOf(first));
    const payment = all.items.find((i) => i.messageId === first);
    expect(payment).toMatchObject({ queue: "tutorloop-jobs-dlq", type: "stripe.fulfil", attempts: 6 });
    expect(payment?.body).toContain("ord_dead");
    const page2 = await json<DeadLetterPage>(
      await call(`/v1/admin/dead-letters?limit=1&cursor=${page1.nextCursor}`, { token: admin.token }),
    );
    expect(page2.items[0]?.messageId).not.toBe(page1.items[0]?.messageId);
  });

  it("authorization and bad input: anonymous 401, student and tutor 403, bad limit or cursor 400", async () => {
    await expectProblem(await call("/v1/admin/dead-letters"), 401, "unauthorized");
    await expectProblem(
      await call("/v1/admin/dead-letters", { token: (await createUser("student")).token }),
      403,
      "forbidden",
    );
    await expectProblem(
      await call("/v1/admin/dead-letters", { token: (await createUser("tutor")).token }),
      403,
      "forbidden",
    );
    const admin = await createUser("admin");
    await expectProblem(await call("/v1/admin/dead-letters?limit=0", { token: admin.token }), 400, "validation_failed");
    await expectProblem(
      await call("/v1/admin/dead-letters?cursor=nope", { token: admin.token }),
      400,
      "validation_failed",
    );
  });
});

describe("e-mail dead letters", () => {
  it("keep no address (it would outlive a closed account): its domain and SHA-256 only", async () => {
    const admin = await createUser("admin");
    const id = await deadLetter({
      type: "email.send",
      to: "Quentin.Doe@Example.com",
      idempotencyKey: "otp:dead",
      subject: "Your code",
      text: "123456",
    });
    const all = await json<DeadLetterPage>(await call("/v1/admin/dead-letters?limit=100", { token: admin.token }));
    const row = all.items.find((i) => i.messageId === id);
    expect(row?.body).not.toMatch(/quentin/i);
    expect(row?.body).not.toContain("123456");
    const digest = [
      ...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode("quentin.doe@example.com"))),
    ]
      .map((b) => b.toString(16).padStart(2, "0"))
      .join("");
    expect(JSON.parse(row?.body ?? "{}").body).toEqual({
      type: "email.send",
      toDomain: "example.com",
      toSha256: digest,
      idempotencyKey: "otp:dead",
    });
  });
});
