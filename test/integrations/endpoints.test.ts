import { createExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { refuseTarget } from "../../src/modules/integrations/target";
import { call, createUser, env, expectProblem, json, productionEnv } from "../helpers/api";
import { createSubject, createTutor } from "../sessions/helpers";
import { type Endpoint, endpointAt, newAdmin, receiverName } from "./helpers";

const base = "/v1/admin/webhook-endpoints";

describe("webhook endpoints (admin)", () => {
  it("creates, reads, lists, updates and deletes an endpoint; the secret is shown only on create", async () => {
    const admin = await newAdmin();
    const created = await endpointAt(admin, receiverName(), ["session.booked", "payout.paid"]);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(created).toMatchObject({ enabled: true, events: ["session.booked", "payout.paid"], failingSince: null });

    const one = await json<Endpoint>(await call(`${base}/${created.id}`, { token: admin.token }));
    expect(one).not.toHaveProperty("secret");
    const list = await json<{ items: Endpoint[] }>(await call(`${base}?limit=100`, { token: admin.token }));
    const listed = list.items.find((e) => e.id === created.id);
    expect(listed).toBeDefined();
    expect(listed).not.toHaveProperty("secret");

    const patched = await call(`${base}/${created.id}`, {
      method: "PATCH",
      token: admin.token,
      body: { events: ["*"], description: null, enabled: false },
    });
    expect(patched.status).toBe(200);
    const off = await json<Endpoint & { description: string | null }>(patched);
    expect(off).toMatchObject({ events: ["*"], description: null, enabled: false });
    expect(off.disabledAt).toBeTypeOf("number");
    const on = await json<Endpoint>(
      await call(`${base}/${created.id}`, { method: "PATCH", token: admin.token, body: { enabled: true } }),
    );
    expect(on).toMatchObject({ enabled: true, disabledAt: null });

    const del = await call(`${base}/${created.id}`, { method: "DELETE", token: admin.token });
    expect(del.status).toBe(204);
    await expectProblem(await call(`${base}/${created.id}`, { token: admin.token }), 404, "not_found");
    await expectProblem(
      await call(`${base}/${created.id}`, { method: "DELETE", token: admin.token }),
      404,
      "not_found",
    );

    const audit = await json<{ items: { action: string }[] }>(
      await call(`/v1/admin/audit-log?targetId=${created.id}`, { token: admin.token }),
    );
    expect(audit.items.map((a) => a.action).sort()).toEqual([
      "webhook_endpoint.create",
      "webhook_endpoint.delete",
      "webhook_endpoint.update",
      "webhook_endpoint.update",
    ]);
  });

  it("rotates the secret: a new one at once, the previous one signing beside it for 24 hours", async () => {
    const admin = await newAdmin();
    const created = await endpointAt(admin, receiverName());
    const res = await call(`${base}/${created.id}/rotate-secret`, { method: "POST", token: admin.token });
    expect(res.status).toBe(200);
    const rotated = await json<{ secret: string; previousSecretExpiresAt: number }>(res);
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(created.secret);
    const row = await env.DB.prepare(
      "SELECT secret, previousSecret, previousSecretExpiresAt FROM webhookEndpoints WHERE id = ?",
    )
      .bind(created.id)
      .first<{ secret: string; previousSecret: string; previousSecretExpiresAt: number }>();
    expect(row).toMatchObject({ secret: rotated.secret, previousSecret: created.secret });
    expect(rotated.previousSecretExpiresAt).toBe(row?.previousSecretExpiresAt);
  });

  it("is for admins only: anonymous 401, student and tutor 403, unknown ids 404", async () => {
    const admin = await newAdmin();
    const endpoint = await endpointAt(admin, receiverName());
    const student = await createUser("student");
    const tutor = await createTutor((await createSubject()).id);
    const routes: [string, string, unknown?][] = [
      ["POST", base, { url: "https://example.com/hook", events: ["*"] }],
      ["GET", base],
      ["GET", `${base}/${endpoint.id}`],
      ["PATCH", `${base}/${endpoint.id}`, { enabled: false }],
      ["DELETE", `${base}/${endpoint.id}`],
      ["POST", `${base}/${endpoint.id}/rotate-secret`],
      ["GET", `${base}/${endpoint.id}/deliveries`],
      ["POST", "/v1/admin/webhook-deliveries/whd_nope/retry"],
    ];
    for (const [method, path, body] of routes) {
      await expectProblem(await call(path, { method, body }), 401, "unauthorized");
      await expectProblem(await call(path, { method, body, token: student.token }), 403, "forbidden");
      await expectProblem(await call(path, { method, body, token: tutor.token }), 403, "forbidden");
    }
    for (const [method, path, body] of [
      ["GET", `${base}/whe_nope`],
      ["PATCH", `${base}/whe_nope`, { enabled: false }],
      ["DELETE", `${base}/whe_nope`],
      ["POST", `${base}/whe_nope/rotate-secret`],
      ["GET", `${base}/whe_nope/deliveries`],
      ["POST", "/v1/admin/webhook-deliveries/whd_nope/retry"],
    ] as [string, string, unknown?][]) {
      await expectProblem(await call(path, { method, body, token: admin.token }), 404, "not_found");
    }
    // the endpoint survived every refused call
    expect((await call(`${base}/${endpoint.id}`, { token: admin.token })).status).toBe(200);
  });

  it("refuses bad input with problem+json 400 / 415, never a 5xx", async () => {
    const admin = await newAdmin();
    const bad: unknown[] = [
      {},
      { url: "https://example.com/h" },
      { url: "https://example.com/h", events: [] },
      { url: "https://example.com/h", events: ["session.booked", "*"] },
      { url: "https://example.com/h", events: ["session.booked", "session.booked"] },
      { url: "https://example.com/h", events: ["session.exploded"] },
      { url: "https://example.com/h", events: ["*"], secret: "whsec_mine" },
      { url: "not a url", events: ["*"] },
      { url: "ftp://example.com/h", events: ["*"] },
      { url: "https://user:pw@example.com/h", events: ["*"] },
      { url: `https://example.com/${"a".repeat(2100)}`, events: ["*"] },
      { url: 42, events: ["*"] },
      { url: "https://example.com/h", events: ["*"], description: "x".repeat(501) },
    ];
    for (const body of bad) {
      await expectProblem(await call(base, { token: admin.token, body }), 400, "validation_failed");
    }
    await expectProblem(
      await call(base, { token: admin.token, rawBody: "{not json", headers: { "content-type": "application/json" } }),
      400,
      "validation_failed",
    );
    await expectProblem(
      await call(base, { token: admin.token, rawBody: "url=x", headers: { "content-type": "text/plain" } }),
      415,
      "unsupported_media_type",
    );
    const endpoint = await endpointAt(admin, receiverName());
    for (const body of [{}, { enabled: "yes" }, { url: "http://example.com/h" }, { events: [] }, { other: 1 }]) {
      await expectProblem(
        await call(`${base}/${endpoint.id}`, { method: "PATCH", token: admin.token, body }),
        400,
        "validation_failed",
      );
    }
    await expectProblem(await call(`${base}?cursor=%%%`, { token: admin.token }), 400, "validation_failed");
    await expectProblem(await call(`${base}?limit=0`, { token: admin.token }), 400, "validation_failed");
  });
});

describe("webhook targets (SSRF)", () => {
  const refusedInProduction = [
    "http://127.0.0.1/hook",
    "https://127.0.0.1/hook",
    "https://169.254.169.254/latest/meta-data",
    "https://[::1]/hook",
    "https://10.0.0.8/hook",
    "https://172.16.4.2/hook",
    "https://192.168.1.1/hook",
    "https://100.64.0.1/hook",
    "https://0.0.0.0/hook",
    "https://[fd00::1]/hook",
    "https://[fe80::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://[::ffff:10.0.0.1]/hook",
    "https://2130706433/hook",
    "https://0x7f.1/hook",
    "https://localhost/hook",
    "https://api.localhost/hook",
    "https://224.0.0.1/hook",
    "http://example.com/hook",
  ];

  it("refuses loopback, private, link-local and non-https targets in production", () => {
    for (const url of refusedInProduction) expect(refuseTarget(url, "production"), url).not.toBeNull();
    for (const url of ["https://example.com/hook", "https://8.8.8.8/hook", "https://[2606:4700::1111]/hook"]) {
      expect(refuseTarget(url, "production"), url).toBeNull();
    }
  });

  it("allows http://localhost and 127.0.0.1 outside production only", () => {
    for (const url of ["http://localhost:8788/h", "http://127.0.0.1:9000/h", "http://[::1]:9000/h"]) {
      expect(refuseTarget(url, "development"), url).toBeNull();
      expect(refuseTarget(url, "production"), url).not.toBeNull();
    }
    expect(refuseTarget("http://10.0.0.1/h", "development")).not.toBeNull();
    expect(refuseTarget("http://example.com/h", "development")).not.toBeNull();
  });

  it("answers 400 for a private target when the Worker runs in production", async () => {
    const { createApp } = await import("../../src/app");
    const admin = await newAdmin();
    const prod = productionEnv();
    for (const url of ["http://127.0.0.1/h", "https://169.254.169.254/h", "https://[::1]/h", "https://10.1.2.3/h"]) {
      const res = await createApp().fetch(
        new Request(`http://api.test${base}`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            authorization: `Bearer ${admin.token}`,
            origin: "https://app.test",
          },
          body: JSON.stringify({ url, events: ["*"] }),
        }),
        prod,
        createExecutionContext(),
      );
      await expectProblem(res, 400, "validation_failed");
    }
  });
});
