import { describe, expect, it } from "vitest";
import { call, createUser, expectProblem, failNext, fakeRequests, json } from "../helpers/api";
import { checkout } from "./helpers";

describe("credit packs and checkout", () => {
  it("lists the configured packs", async () => {
    const res = await call("/v1/credits/packs");
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({
      items: [
        { id: "pack_5", credits: 5, priceCents: 5000, currency: "usd" },
        { id: "pack_20", credits: 20, priceCents: 18000, currency: "usd" },
      ],
      nextCursor: null,
    });
  });

  it("creates a pending order and a Stripe Checkout Session in the SDK's wire format", async () => {
    const student = await createUser("student");
    const out = await checkout(student, "pack_20");
    expect(out.checkoutSessionId).toMatch(/^cs_test_/);
    expect(out.checkoutUrl).toContain(out.checkoutSessionId);

    const [req] = await fakeRequests("/v1/checkout/sessions", out.orderId);
    expect(req).toBeDefined();
    if (!req) return;
    expect(req.headers.authorization).toBe("Bearer sk_test_fake");
    expect(req.headers["content-type"]).toContain("application/x-www-form-urlencoded");
    expect(req.headers["idempotency-key"]).toBe(`checkout:${out.orderId}`);
    const form = new URLSearchParams(req.body);
    expect(form.get("mode")).toBe("payment");
    expect(form.get("client_reference_id")).toBe(out.orderId);
    expect(form.get("metadata[orderId]")).toBe(out.orderId);
    expect(form.get("metadata[userId]")).toBe(student.id);
    expect(form.get("payment_intent_data[metadata][orderId]")).toBe(out.orderId);
    expect(form.get("line_items[0][price_data][unit_amount]")).toBe("18000");
    expect(form.get("line_items[0][price_data][currency]")).toBe("usd");
    expect(form.get("success_url")).toBeTruthy();
    expect(form.get("cancel_url")).toBeTruthy();
    expect(Number(form.get("expires_at"))).toBeGreaterThan(Date.now() / 1000);

    const orders = await json<{ items: Record<string, unknown>[] }>(
      await call("/v1/credits/orders", { token: student.token }),
    );
    expect(orders.items).toEqual([
      expect.objectContaining({
        id: out.orderId,
        packId: "pack_20",
        status: "pending",
        totalCredits: 20,
        totalCents: 18000,
        currency: "usd",
        checkoutSessionId: out.checkoutSessionId,
        completedAt: null,
      }),
    ]);
  });

  it("honours Idempotency-Key: same body replays, different body is 422", async () => {
    const student = await createUser("student");
    const key = crypto.randomUUID();
    const first = await call("/v1/credits/checkout", {
      token: student.token,
      body: { packId: "pack_5" },
      headers: { "idempotency-key": key },
    });
    const again = await call("/v1/credits/checkout", {
      token: student.token,
      body: { packId: "pack_5" },
      headers: { "idempotency-key": key },
    });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(await json(again)).toEqual(await json(first));
    const orders = await json<{ items: unknown[] }>(await call("/v1/credits/orders", { token: student.token }));
    expect(orders.items).toHaveLength(1);
    await expectProblem(
      await call("/v1/credits/checkout", {
        token: student.token,
        body: { packId: "pack_20" },
        headers: { "idempotency-key": key },
      }),
      422,
      "idempotency_conflict",
    );
  });

  it("concurrent duplicates with one Idempotency-Key create one order", async () => {
    const student = await createUser("student");
    const key = crypto.randomUUID();
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        call("/v1/credits/checkout", {
          token: student.token,
          body: { packId: "pack_5" },
          headers: { "idempotency-key": key },
        }),
      ),
    );
    for (const r of results) expect([201, 409]).toContain(r.status);
    const orders = await json<{ items: unknown[] }>(await call("/v1/credits/orders", { token: student.token }));
    expect(orders.items).toHaveLength(1);
  });

  it("rejects bad input, wrong roles and anonymous callers", async () => {
    const student = await createUser("student");
    const tutor = await createUser("tutor");
    await expectProblem(await call("/v1/credits/checkout", { body: { packId: "pack_5" } }), 401, "unauthorized");
    await expectProblem(
      await call("/v1/credits/checkout", { token: tutor.token, body: { packId: "pack_5" } }),
      403,
      "forbidden",
    );
    await expectProblem(
      await call("/v1/credits/checkout", { token: student.token, body: { packId: "nope" } }),
      400,
      "validation_failed",
    );
    await expectProblem(
      await call("/v1/credits/checkout", { token: student.token, body: {} }),
      400,
      "validation_failed",
    );
    await expectProblem(
      await call("/v1/credits/checkout", { token: student.token, body: { packId: "pack_5", credits: 1000 } }),
      400,
      "validation_failed",
    );
    await expectProblem(
      await call("/v1/credits/checkout", {
        token: student.token,
        body: { packId: "pack_5" },
        headers: { "idempotency-key": "x".repeat(256) },
      }),
      400,
      "validation_failed",
    );
    await expectProblem(await call("/v1/credits/orders?limit=0", { token: student.token }), 400, "validation_failed");
    await expectProblem(
      await call("/v1/credits/orders?cursor=garbage", { token: student.token }),
      400,
      "validation_failed",
    );
    await expectProblem(await call("/v1/credits/balance"), 401, "unauthorized");
    await expectProblem(await call("/v1/credits/ledger", { token: tutor.token }), 403, "forbidden");
  });

  it("answers 503 provider_unavailable when Stripe fails, and settles the order as failed", async () => {
    const student = await createUser("student");
    await failNext("/v1/checkout/sessions", 500, { match: student.id, times: 3 });
    await expectProblem(
      await call("/v1/credits/checkout", { token: student.token, body: { packId: "pack_5" } }),
      503,
      "provider_unavailable",
    );
    const orders = await json<{ items: { status: string }[] }>(
      await call("/v1/credits/orders", { token: student.token }),
    );
    expect(orders.items.map((o) => o.status)).toEqual(["failed"]);
  });

  it("pages orders newest first with a cursor", async () => {
    const student = await createUser("student");
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await checkout(student)).orderId);
    const p1 = await json<{ items: { id: string }[]; nextCursor: string }>(
      await call("/v1/credits/orders?limit=2", { token: student.token }),
    );
    expect(p1.items).toHaveLength(2);
    const p2 = await json<{ items: { id: string }[]; nextCursor: string | null }>(
      await call(`/v1/credits/orders?limit=2&cursor=${p1.nextCursor}`, { token: student.token }),
    );
    expect(p2.nextCursor).toBeNull();
    expect([...p1.items, ...p2.items].map((o) => o.id).sort()).toEqual([...ids].sort());
  });
});
