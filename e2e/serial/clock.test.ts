/**
 * The development test clock, black box: a paid checkout whose webhook was lost is credited by the
 * pending-order sweep once the clock says 30 minutes have passed, through wrangler's scheduled-handler
 * URL. Runs after the concurrent suite (it moves "now" for the whole server) and resets the clock.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { balance, c, newStudent, poll } from "../helpers.ts";

const clock = (body: unknown) => c.ok<{ now: number; offsetMs: number }>("/v1/dev/clock", { body });
const cron = async () => {
  const r = await fetch(`${c.apiUrl}/cdn-cgi/local/scheduled`);
  assert.equal(r.status, 200);
};

describe("test clock", () => {
  after(async () => {
    await clock({ reset: true });
  });

  it("walks a lost webhook through the pending-order sweep in seconds", async () => {
    const s = await newStudent();
    const co = await c.ok<{ orderId: string; checkoutUrl: string }>(
      "/v1/credits/checkout",
      { token: s.token, body: { packId: "pack_5" } },
      201,
    );
    const paid = await fetch(`${co.checkoutUrl}/pay?deliver=none`, {
      method: "POST",
      headers: { accept: "application/json" },
    });
    assert.equal(paid.status, 200);
    await cron(); // too young for the sweep: still pending
    const orders = await c.ok<{ items: { id: string; status: string }[] }>("/v1/credits/orders", { token: s.token });
    assert.equal(orders.items.find((o) => o.id === co.orderId)?.status, "pending");

    const before = await c.ok<{ now: number; offsetMs: number }>("/v1/dev/clock");
    const moved = await clock({ advanceMs: 31 * 60_000 });
    assert.equal(moved.offsetMs, before.offsetMs + 31 * 60_000);
    await cron();
    await poll("the swept order credited", 20_000, async () => ((await balance(s)) === 5 ? true : undefined));
    await cron(); // a second run asks nothing and credits nothing more
    assert.equal(await balance(s), 5);
    const reset = await clock({ reset: true });
    assert.equal(reset.offsetMs, 0);
  });
});
