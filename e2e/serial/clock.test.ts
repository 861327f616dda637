/**
 * The development test clock, black box: a paid checkout whose webhook was lost is credited by the
 * pending-order sweep once the clock says 30 minutes have passed, through wrangler's scheduled-handler
 * URL. Runs after the concurrent suite (it moves "now" for the whole server) and resets the clock.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { unwrap } from "../../sdk/src/index.ts";
import { balance, c, newStudent, poll, sdkAs } from "../helpers.ts";

const anyone = sdkAs();
const clock = async (body: { advanceMs: number } | { reset: true }) =>
  unwrap(await anyone.POST("/v1/dev/clock", { body }));
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
    const asStudent = sdkAs(s.token);
    const checkout = await asStudent.POST("/v1/credits/checkout", { body: { packId: "pack_5" } });
    assert.equal(checkout.response.status, 201, JSON.stringify(checkout.error ?? null));
    const co = unwrap(checkout);
    const paid = await fetch(`${co.checkoutUrl}/pay?deliver=none`, {
      method: "POST",
      headers: { accept: "application/json" },
    });
    assert.equal(paid.status, 200);
    await cron(); // too young for the sweep: still pending
    const orders = unwrap(await asStudent.GET("/v1/credits/orders"));
    assert.equal(orders.items.find((o) => o.id === co.orderId)?.status, "pending");

    const before = unwrap(await anyone.GET("/v1/dev/clock"));
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
