/**
 * The emulator's webhook receivers (`/hooks/:name`) on their own, black box over HTTP: deliveries
 * signed here with the Standard Webhooks reference implementation, verified by the receiver with the
 * SDK's verifyWebhook; refusals, key rotation, failure injection, the pages, and mode `hang`.
 * The last test starts an emulator of its own, to close it while a request hangs.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Webhook } from "standardwebhooks";
import { startEmulator } from "../tools/emulator/server.ts";
import type { HookDelivery } from "../tools/emulator/state.ts";
import { poll, rand } from "../tools/offline/client.ts";

const E = process.env.E2E_EMULATOR_URL ?? "";
if (!E) throw new Error("E2E_EMULATOR_URL is unset: run the e2e suite with npm run test:e2e");

interface ReceiverView {
  name: string;
  secret: string | null;
  mode: "ok" | "hang";
  delivered: number;
  verified: number;
  refused: number;
  hanging: number;
}

const newSecret = () => `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64")}`;
/** a receiver of this run only (the e2e files share one emulator) */
const newName = () => `e2e-${rand()}${rand()}`;

const json = async <T>(path: string, init?: RequestInit): Promise<{ status: number; body: T }> => {
  const r = await fetch(`${E}${path}`, init);
  return { status: r.status, body: (await r.json()) as T };
};
const postJson = <T = unknown>(path: string, body: unknown) =>
  json<T>(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
const configure = async (name: string, settings: { secret?: string | null; mode?: "ok" | "hang" }) => {
  const r = await postJson<ReceiverView>(`/__control/hooks/${name}`, settings);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
};
const deliveries = async (name: string, query = "") =>
  (await json<HookDelivery[]>(`/__control/hooks/${name}/deliveries${query}`)).body;

/** An event as the platform sends it: its body and Standard Webhooks headers signed with `secret`. */
function signed(secret: string, opts: { id?: string; type?: string; data?: unknown } = {}) {
  const id = opts.id ?? `msg_${rand()}${rand()}`;
  const at = new Date();
  const body = JSON.stringify({
    type: opts.type ?? "session.booked",
    timestamp: at.toISOString(),
    data: opts.data ?? { id: `ses_${rand()}`, status: "booked" },
  });
  return {
    id,
    body,
    headers: {
      "content-type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": new Webhook(secret).sign(id, at, body),
    } as Record<string, string>,
  };
}

const deliver = (name: string, d: { body: string; headers: Record<string, string> }, signal?: AbortSignal) =>
  json<{ received?: true; error?: string }>(`/hooks/${name}`, {
    method: "POST",
    headers: d.headers,
    body: d.body,
    signal,
  });

describe("emulator webhook receivers", () => {
  it("verifies a good delivery with the receiver's secret and answers 200; keeps it as sent", async () => {
    const name = newName();
    const secret = newSecret();
    const view = await configure(name, { secret });
    assert.deepEqual(view, { name, secret, mode: "ok", delivered: 0, verified: 0, refused: 0, hanging: 0 });
    const d = signed(secret, { type: "session.booked" });
    const r = await deliver(name, d);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { received: true });
    const [got, ...rest] = await deliveries(name);
    assert.equal(rest.length, 0);
    assert.ok(got);
    assert.equal(got.receiver, name);
    assert.equal(got.webhookId, d.id);
    assert.equal(got.timestamp, d.headers["webhook-timestamp"]);
    assert.equal(got.signature, d.headers["webhook-signature"]);
    assert.equal(got.type, "session.booked");
    assert.equal(got.body, d.body);
    assert.equal(got.status, 200);
    assert.equal(got.verified, true);
    assert.equal(got.verifyError, undefined);
    assert.ok(Math.abs(got.receivedAt - Date.now()) < 60_000);
  });

  it("refuses a tampered body or a wrong secret with 400 and keeps them as not verified", async () => {
    const name = newName();
    const secret = newSecret();
    await configure(name, { secret });
    const good = signed(secret);
    const tampered = await deliver(name, { ...good, body: good.body.replace('"booked"', '"cancelled"') });
    assert.equal(tampered.status, 400);
    assert.match(tampered.body.error ?? "", /signature/i);
    const wrongKey = signed(newSecret());
    const wrong = await deliver(name, wrongKey);
    assert.equal(wrong.status, 400);
    const noSignature = signed(secret);
    delete noSignature.headers["webhook-signature"];
    assert.equal((await deliver(name, noSignature)).status, 400);

    const kept = await deliveries(name);
    assert.equal(kept.length, 3);
    for (const d of kept) {
      assert.equal(d.verified, false);
      assert.equal(d.status, 400);
      assert.ok(d.verifyError, "the reason is kept");
    }
    // newest first
    assert.equal(kept[0]?.webhookId, noSignature.id);
    assert.equal(kept[0]?.signature, null);
    assert.equal(kept[1]?.webhookId, wrongKey.id);
    const view = (await json<ReceiverView>(`/__control/hooks/${name}`)).body;
    assert.equal(view.delivered, 3);
    assert.equal(view.verified, 0);
    assert.equal(view.refused, 3);
  });

  it("during a secret rotation, a header with two signatures verifies when one of them matches", async () => {
    const name = newName();
    const oldSecret = newSecret();
    const newer = newSecret();
    await configure(name, { secret: newer });
    const d = signed(oldSecret);
    const at = new Date(Number(d.headers["webhook-timestamp"]) * 1000);
    const current = new Webhook(newer).sign(d.id, at, d.body);
    for (const signature of [
      `${d.headers["webhook-signature"]} ${current}`,
      `${current} ${d.headers["webhook-signature"]}`,
    ]) {
      const r = await deliver(name, { ...d, headers: { ...d.headers, "webhook-signature": signature } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    // neither of two signatures matches: refused
    const other = signed(newSecret());
    const both = `${other.headers["webhook-signature"]} ${d.headers["webhook-signature"]}`;
    assert.equal((await deliver(name, { ...d, headers: { ...d.headers, "webhook-signature": both } })).status, 400);
    const kept = await deliveries(name, `?webhookId=${d.id}`);
    assert.deepEqual(
      kept.map((k) => k.verified),
      [false, true, true],
    );
    assert.ok(kept.every((k) => k.webhookId === d.id));
  });

  it("without a secret, accepts every delivery and keeps it as not checked (verified null)", async () => {
    const name = newName();
    const d = signed(newSecret(), { type: "review.created" });
    const r = await deliver(name, d);
    assert.equal(r.status, 200);
    const [got] = await deliveries(name);
    assert.equal(got?.verified, null);
    assert.equal(got?.status, 200);
    assert.deepEqual(await deliveries(name, "?type=session.booked"), []);
    assert.equal((await deliveries(name, "?type=review.created")).length, 1);
  });

  it("failure injection answers 500, is recorded, and the delivery is still kept (then the retry goes through)", async () => {
    const name = newName();
    const secret = newSecret();
    await configure(name, { secret });
    const fail = await postJson("/__control/fail", { path: `/hooks/${name}`, status: 500, times: 1 });
    assert.equal(fail.status, 200);
    const d = signed(secret);
    const first = await deliver(name, d);
    assert.equal(first.status, 500);
    assert.deepEqual(first.body, { error: "injected 500" });
    const retry = await deliver(name, d);
    assert.equal(retry.status, 200);

    const kept = await deliveries(name, `?webhookId=${d.id}`);
    assert.deepEqual(
      kept.map((k) => [k.status, k.verified]),
      [
        [200, true],
        [500, true],
      ],
    );
    const recorded = (await json<{ method: string; body: string }[]>(`/__control/requests?path=/hooks/${name}`)).body;
    assert.equal(recorded.length, 2);
    assert.ok(recorded.every((r) => r.method === "POST" && r.body === d.body));
    const view = (await json<ReceiverView>(`/__control/hooks/${name}`)).body;
    assert.deepEqual([view.delivered, view.verified, view.refused], [2, 2, 1]);
  });

  it("the pages list the receiver and show the delivery with its webhook-id and ✓ badge", async () => {
    const name = newName();
    const secret = newSecret();
    await configure(name, { secret });
    const good = signed(secret, { type: "session.cancelled" });
    await deliver(name, good);
    const bad = signed(newSecret());
    await deliver(name, bad);

    const page = await fetch(`${E}/hooks/${name}`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /text\/html/);
    const html = await page.text();
    assert.match(html, /<html lang="en">/);
    assert.doesNotMatch(html, /<script/i);
    const rows = html.split("<tr>");
    const goodRow = rows.find((r) => r.includes(good.id));
    const badRow = rows.find((r) => r.includes(bad.id));
    assert.ok(goodRow, "the good delivery's webhook-id is shown");
    assert.match(goodRow, /✓ verified/);
    assert.match(goodRow, /session\.cancelled/);
    assert.match(goodRow, /<details>/);
    assert.ok(badRow);
    assert.match(badRow, /✗ No matching signature found/);
    assert.ok(html.indexOf(bad.id) < html.indexOf(good.id), "newest first");
    assert.match(html, /<label for="secret">/);
    assert.match(html, new RegExp(`<form[^>]+method="post"[^>]+action="/hooks/${name}/settings"`));

    const index = await (await fetch(`${E}/hooks`)).text();
    const row = index.split("<tr>").find((r) => r.includes(`href="/hooks/${name}"`));
    assert.ok(row, "the receiver is listed");
    assert.match(row, /<td>2<\/td><td>1<\/td><td>1<\/td>/, "delivered 2, verified 1, refused 1");
    assert.match(await (await fetch(`${E}/`)).text(), /href="\/hooks"/);
  });

  it("the page's form sets the secret and mode without scripts; a bad secret is refused", async () => {
    const name = newName();
    const secret = newSecret();
    const form = (fields: Record<string, string>) =>
      fetch(`${E}/hooks/${name}/settings`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(fields).toString(),
        redirect: "manual",
      });
    const saved = await form({ secret, mode: "ok" });
    assert.equal(saved.status, 303);
    assert.equal(saved.headers.get("location"), `/hooks/${name}`);
    assert.equal((await json<ReceiverView>(`/__control/hooks/${name}`)).body.secret, secret);
    const refused = await form({ secret: "not-a-secret", mode: "ok" });
    assert.equal(refused.status, 400);
    assert.match(await refused.text(), /role="alert"/);
    assert.equal((await json<ReceiverView>(`/__control/hooks/${name}`)).body.secret, secret, "unchanged");
    assert.equal((await form({ secret: "", mode: "ok" })).status, 303);
    assert.equal((await json<ReceiverView>(`/__control/hooks/${name}`)).body.secret, null, "empty: no secret");
  });

  it("control routes validate names and settings, and DELETE forgets the receiver", async () => {
    assert.equal((await postJson(`/__control/hooks/Not_Allowed`, {})).status, 404);
    assert.equal((await postJson(`/__control/hooks/${"a".repeat(41)}`, {})).status, 404);
    assert.equal((await deliver("Not_Allowed", signed(newSecret()))).status, 404);
    const name = newName();
    assert.equal((await postJson(`/__control/hooks/${name}`, { secret: "plain" })).status, 400);
    assert.equal((await postJson(`/__control/hooks/${name}`, { secret: "whsec_!!" })).status, 400);
    assert.equal((await postJson(`/__control/hooks/${name}`, { mode: "slow" })).status, 400);
    await configure(name, { secret: newSecret() });
    await deliver(name, signed(newSecret()));
    assert.equal((await deliveries(name)).length, 1);
    const del = await json(`/__control/hooks/${name}`, { method: "DELETE" });
    assert.equal(del.status, 200);
    assert.deepEqual(await deliveries(name), []);
    const list = (await json<ReceiverView[]>("/__control/hooks")).body;
    assert.ok(!list.some((r) => r.name === name));
  });

  it("mode hang keeps the request open until the client gives up, then lets go of the connection", async () => {
    const name = newName();
    const secret = newSecret();
    await configure(name, { secret, mode: "hang" });
    const d = signed(secret);
    const started = Date.now();
    await assert.rejects(deliver(name, d, AbortSignal.timeout(1000)), (err: Error) => {
      assert.equal(err.name, "TimeoutError");
      return true;
    });
    assert.ok(Date.now() - started >= 900, "the receiver did not answer before the client's timeout");
    const [got] = await deliveries(name);
    assert.equal(got?.webhookId, d.id);
    assert.equal(got?.status, null, "never answered");
    assert.equal(got?.verified, true);
    await poll("the hung connection released after the abort", 5_000, async () => {
      const view = (await json<ReceiverView>(`/__control/hooks/${name}`)).body;
      return view.hanging === 0 ? view : undefined;
    });
    // back to answering
    await configure(name, { mode: "ok" });
    assert.equal((await deliver(name, signed(secret))).status, 200);
  });
});

describe("an emulator with a hanging receiver", () => {
  it("closes at once, dropping the hung connection", async () => {
    const own = await startEmulator({ log: "quiet" });
    try {
      const secret = newSecret();
      const set = await fetch(`${own.url}/__control/hooks/slow`, {
        method: "POST",
        body: JSON.stringify({ secret, mode: "hang" }),
      });
      assert.equal(set.status, 200);
      const d = signed(secret);
      const pending = fetch(`${own.url}/hooks/slow`, { method: "POST", headers: d.headers, body: d.body }).then(
        () => "answered",
        () => "dropped",
      );
      await poll("the request hanging", 5_000, async () => {
        const view = (await (await fetch(`${own.url}/__control/hooks/slow`)).json()) as ReceiverView;
        return view.hanging === 1 ? view : undefined;
      });
      const closing = Date.now();
      await own.close();
      assert.equal(await pending, "dropped");
      assert.ok(Date.now() - closing < 2_000, "close() did not wait for the hung request");
    } finally {
      await own.close().catch(() => undefined);
    }
  });
});
