/**
 * The SDK (sdk/) against the running stack: its committed types match the served document (a
 * drift fails here: run `npm run sdk:generate`), the consumer script books, pages and cancels, a 401
 * is refreshed once and retried, problems arrive typed, and verifyWebhook accepts what the Standard
 * Webhooks reference implementation signs and refuses a tampered body.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { before, describe, it } from "node:test";
import { Webhook } from "standardwebhooks";
import { SCHEMA_FILE, typesFromDocument } from "../sdk/generate.ts";
import { createClient, ProblemError, unwrap, verifyWebhook } from "../sdk/src/index.ts";
import { bookPageCancel } from "../sdk/test/consumer.ts";
import { adminEmail, c, fund, newStudent, newSubject, newTutor, slotIn, type Tokens } from "./helpers.ts";

describe("the TypeScript SDK", () => {
  let admin: Tokens;
  before(async () => {
    admin = await c.login(adminEmail("sdk"));
  });

  it("has committed types that match the served OpenAPI document", async () => {
    const served = await typesFromDocument(await c.ok<unknown>("/v1/openapi.json", { direct: true }));
    const committed = readFileSync(SCHEMA_FILE, "utf8");
    assert.ok(served === committed, "sdk/src/schema.d.ts is stale: run `npm run sdk:generate` and commit it");
  });

  it("books, pages through the student's sessions and cancels, typed end to end", async () => {
    const subject = await newSubject(admin);
    const tutor = await newTutor(admin, [subject.id]);
    const student = await newStudent();
    await fund(admin, student.userId, 10);
    const client = createClient({ baseUrl: c.apiUrl, fetch: c.fetchFor(), getToken: () => student.token });
    // two lessons first: with the consumer's own, three sessions over pages of 2
    for (const hours of [30, 50]) {
      unwrap(
        await client.POST("/v1/sessions", {
          body: {
            tutorProfileId: tutor.profileId,
            subjectId: subject.id,
            startTime: slotIn(hours),
            durationMinutes: 60,
          },
        }),
      );
    }
    const run = await bookPageCancel(client, {
      tutorProfileId: tutor.profileId,
      subjectId: subject.id,
      startTime: slotIn(70),
    });
    assert.equal(run.seen.length, 3, "paginate followed nextCursor across pages of 2");
    assert.equal(new Set(run.seen).size, 3);
    assert.ok(run.seen.includes(run.booked.id));
    assert.equal(run.cancelled, "cancelled");
  });

  it("refreshes once on a 401 and retries the request with the new token", async () => {
    const student = await newStudent();
    let refreshed = 0;
    let token = "not-a-valid-token";
    const client = createClient({
      baseUrl: c.apiUrl,
      fetch: c.fetchFor(),
      getToken: () => token,
      onRefresh: async () => {
        refreshed += 1;
        token = student.token;
        return token;
      },
    });
    const [a, b] = await Promise.all([client.GET("/v1/me"), client.GET("/v1/credits/balance")]);
    assert.equal(unwrap(a).id, student.userId);
    assert.equal(unwrap(b).balance, 0);
    assert.equal(refreshed, 1, "two concurrent 401s share one refresh");
    // no token on purpose: a request the document's security requirement refuses
    const anonymous = createClient({
      baseUrl: c.apiUrl,
      fetch: c.fetchFor({ expectViolation: true }),
      onRefresh: async () => student.token,
    });
    assert.equal((await anonymous.GET("/v1/me")).response.status, 401, "no token: nothing to refresh");
  });

  it("returns problems typed and unwrap throws them as ProblemError", async () => {
    const student = await newStudent();
    const client = createClient({ baseUrl: c.apiUrl, fetch: c.fetchFor(), getToken: () => student.token });
    const res = await client.GET("/v1/sessions/{id}", { params: { path: { id: "ses_nope" } } });
    assert.equal(res.error?.code, "not_found");
    assert.throws(
      () => unwrap(res),
      (e: unknown) => e instanceof ProblemError && e.status === 404 && e.code === "not_found",
    );
  });

  it("verifyWebhook accepts a Standard Webhooks signature and refuses a tampered body or an old timestamp", () => {
    const secret = `whsec_${Buffer.from("a secret of the endpoint, 32 bytes").toString("base64")}`;
    const body = JSON.stringify({ type: "session.booked", timestamp: new Date().toISOString(), data: { id: "ses_1" } });
    const id = "msg_2c9f";
    const now = new Date();
    const signature = new Webhook(secret).sign(id, now, body);
    const headers = {
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
      "webhook-signature": signature,
    };
    assert.equal(verifyWebhook(secret, new Headers(headers), body).type, "session.booked");
    assert.throws(() => verifyWebhook(secret, headers, body.replace("ses_1", "ses_2")));
    const old = new Date(now.getTime() - 10 * 60_000);
    const oldHeaders = {
      ...headers,
      "webhook-timestamp": String(Math.floor(old.getTime() / 1000)),
      "webhook-signature": new Webhook(secret).sign(id, old, body),
    };
    assert.throws(() => verifyWebhook(secret, oldHeaders, body));
  });
});
