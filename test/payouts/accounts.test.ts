/** POST / GET /v1/me/payout-account: one Stripe Connect Express account per tutor, a fresh link each call. */
import { describe, expect, it } from "vitest";
import { call, createUser, env, expectProblem, failNext, fakeRequests, json } from "../helpers/api";
import { accountRow, newTutor } from "./helpers";

interface Onboarding {
  accountId: string;
  onboardingUrl: string;
  payoutsEnabled: boolean;
}

const open = (token: string) => call("/v1/me/payout-account", { method: "POST", token });
const form = (body: string) => new URLSearchParams(body);

describe("POST /v1/me/payout-account", () => {
  it("creates the Express account once (201), then answers 200 with a new onboarding link each time", async () => {
    const tutor = await newTutor();
    await expectProblem(await call("/v1/me/payout-account", { token: tutor.token }), 404, "not_found");

    const first = await open(tutor.token);
    expect(first.status).toBe(201);
    const created = await json<Onboarding>(first);
    expect(created).toEqual({
      accountId: expect.stringMatching(/^acct_/),
      onboardingUrl: expect.stringContaining("/connect/onboarding/"),
      payoutsEnabled: false,
    });
    const second = await open(tutor.token);
    expect(second.status).toBe(200);
    const again = await json<Onboarding>(second);
    expect(again.accountId).toBe(created.accountId);
    expect(again.onboardingUrl).not.toBe(created.onboardingUrl);

    expect(await json(await call("/v1/me/payout-account", { token: tutor.token }))).toEqual({
      accountId: created.accountId,
      payoutsEnabled: false,
      detailsSubmitted: false,
    });

    // on the wire: one account, form-encoded, keyed by the tutor; a link per call
    const accounts = await fakeRequests("/v1/accounts", tutor.id);
    expect(accounts).toHaveLength(1);
    const a = accounts[0];
    expect(a?.method).toBe("POST");
    expect(a?.headers["content-type"]).toContain("application/x-www-form-urlencoded");
    expect(a?.headers["idempotency-key"]).toBe(`connect-account:${tutor.id}`);
    const params = form(a?.body ?? "");
    expect(params.get("type")).toBe("express");
    expect(params.get("capabilities[transfers][requested]")).toBe("true");
    expect(params.get("metadata[userId]")).toBe(tutor.id);
    expect(params.get("email")).toBe(tutor.email);

    const links = await fakeRequests("/v1/account_links", created.accountId);
    expect(links).toHaveLength(2);
    for (const l of links) {
      const p = form(l.body);
      expect(p.get("account")).toBe(created.accountId);
      expect(p.get("type")).toBe("account_onboarding");
      expect(p.get("return_url")).toBe("http://localhost:3000/earnings/payouts");
      expect(p.get("refresh_url")).toBe("http://localhost:3000/earnings/payouts/refresh");
    }
  });

  it("two concurrent first clicks get one Stripe account: one 201, one 200, one row", async () => {
    const tutor = await newTutor();
    const answers = await Promise.all([open(tutor.token), open(tutor.token)]);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 201]);
    const bodies = await Promise.all(answers.map((r) => json<Onboarding>(r)));
    expect(bodies[0]?.accountId).toBe(bodies[1]?.accountId);
    expect((await accountRow(tutor.id))?.stripeAccountId).toBe(bodies[0]?.accountId);
    const calls = await fakeRequests("/v1/accounts", tutor.id);
    expect(calls.length).toBeGreaterThanOrEqual(1);
    expect(new Set(calls.map((c) => c.headers["idempotency-key"]))).toEqual(new Set([`connect-account:${tutor.id}`]));
    const emulated = (await (await fetch(`${env.FAKE_PROVIDERS_URL}/__control/stripe/accounts`)).json()) as {
      id: string;
      metadata: Record<string, string>;
    }[];
    expect(emulated.filter((x) => x.metadata.userId === tutor.id).map((x) => x.id)).toEqual([bodies[0]?.accountId]);
  });

  it("Stripe down → 503 provider_unavailable and no account row; the next call creates it", async () => {
    const tutor = await newTutor();
    await failNext("/v1/accounts", 500, { match: tutor.id, times: 3 });
    await expectProblem(await open(tutor.token), 503, "provider_unavailable");
    expect(await accountRow(tutor.id)).toBeNull();
    expect((await open(tutor.token)).status).toBe(201);
  });

  it("a failing account link → 503, the account is kept; the next call answers 200 with a link", async () => {
    const tutor = await newTutor();
    await failNext("/v1/account_links", 400, {
      times: 1,
      body: { error: { type: "invalid_request_error", message: "no" } },
    });
    await expectProblem(await open(tutor.token), 503, "provider_unavailable");
    expect(await accountRow(tutor.id)).not.toBeNull();
    const res = await open(tutor.token);
    expect(res.status).toBe(200);
    expect((await json<Onboarding>(res)).onboardingUrl).toContain("/connect/onboarding/");
  });

  it("a body of any kind changes nothing: never a 5xx", async () => {
    const tutor = await newTutor();
    for (const [type, body] of [
      ["application/json", "{"],
      ["text/plain", "hello"],
      ["application/json; charset=utf-16", '{"x":1}'],
      ["multipart/form-data", "\u0000\u0001"],
    ] as const) {
      const res = await call("/v1/me/payout-account", {
        method: "POST",
        token: tutor.token,
        rawBody: body,
        headers: { "content-type": type },
      });
      expect(res.status, `${type} ${body}`).toBeLessThan(500);
    }
  });

  it("is for tutors only: anonymous 401, a student 403, an admin 403", async () => {
    const student = await createUser("student");
    const admin = await createUser("admin");
    for (const method of ["POST", "GET"]) {
      await expectProblem(await call("/v1/me/payout-account", { method }), 401, "unauthorized");
      await expectProblem(await call("/v1/me/payout-account", { method, token: student.token }), 403, "forbidden");
      await expectProblem(await call("/v1/me/payout-account", { method, token: admin.token }), 403, "forbidden");
    }
    expect(await fakeRequests("/v1/accounts", student.id)).toEqual([]);
  });

  it("another tutor's account is never shown: each tutor sees only their own", async () => {
    const [a, b] = [await newTutor(), await newTutor()];
    const mine = await json<Onboarding>(await open(a.token));
    await expectProblem(await call("/v1/me/payout-account", { token: b.token }), 404, "not_found");
    const theirs = await json<Onboarding>(await open(b.token));
    expect(theirs.accountId).not.toBe(mine.accountId);
  });
});
