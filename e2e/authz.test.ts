import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { before, describe, it } from "node:test";
import { avatarPng } from "../tools/offline/avatar.ts";
import {
  adminEmail,
  book,
  c,
  expectProblem,
  fund,
  newStudent,
  newSubject,
  newTutor,
  poll,
  type Session,
  type Student,
  type Subject,
  slotIn,
  type Tokens,
  type Tutor,
} from "./helpers.ts";

/**
 * The route list is the running server's own /v1/openapi.json. An operation's `security` names the
 * roles its guard needs (`bearerAuth: ["admin"]`; `[]` = any valid token; none = anyone), so the
 * authorization matrix below covers every route, including the ones added after this file. Every
 * operation must also be described in the docs (docs/*.md, `METHOD /v1/path` with `:param` or
 * `{param}`): a route added without its documentation fails here.
 */
interface Operation {
  method: string;
  path: string;
  summary: string;
  /** null: no token needed; []: any valid token; otherwise the roles the guard accepts. */
  roles: string[] | null;
}

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, { summary?: string; security?: Record<string, string[]>[] }>>;
  components?: { securitySchemes?: Record<string, unknown> };
}

const ROLES = ["student", "tutor", "admin"] as const;
const HTTP_METHODS = new Set(["get", "post", "put", "patch", "delete"]);
const DOCS_DIR = new URL("../docs/", import.meta.url);

async function servedOperations(): Promise<{ doc: OpenApiDocument; operations: Operation[] }> {
  const r = await c.call<OpenApiDocument>("/v1/openapi.json", { direct: true });
  if (r.status !== 200 || typeof r.body !== "object" || !r.body?.paths) {
    throw new Error(`GET /v1/openapi.json did not return an OpenAPI document: ${r.status} ${r.text.slice(0, 200)}`);
  }
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(r.body.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!HTTP_METHODS.has(method)) continue;
      const requirement = op.security?.[0];
      operations.push({
        method: method.toUpperCase(),
        path,
        summary: op.summary ?? "",
        roles: requirement ? (requirement.bearerAuth ?? []) : null,
      });
    }
  }
  if (operations.length === 0) throw new Error("/v1/openapi.json lists no operations");
  return { doc: r.body, operations };
}

/** `/v1/sessions/{id}/cancel` and `/v1/sessions/:id/cancel` are the same route. */
const routeKey = (method: string, path: string) => `${method} ${path.replace(/\{[^}/]+\}|:[A-Za-z]\w*/g, "{}")}`;

/** Every `METHOD /v1/...` mentioned in docs/*.md. Throws when the docs are missing. */
function documentedRoutes(): Set<string> {
  if (!existsSync(new URL("api-guide.md", DOCS_DIR))) {
    throw new Error(`docs/api-guide.md is missing (${DOCS_DIR.pathname}): the API's routes must be documented there`);
  }
  const found = new Set<string>();
  for (const file of readdirSync(DOCS_DIR).filter((f) => f.endsWith(".md"))) {
    const text = readFileSync(new URL(file, DOCS_DIR), "utf8");
    for (const m of text.matchAll(/\b(GET|POST|PUT|PATCH|DELETE) `?(\/v1\/[\w\-/{}:.]*\w|\/v1\/)/g)) {
      found.add(routeKey(m[1] as string, m[2] as string));
    }
  }
  return found;
}

/** A concrete URL for an operation: path parameters become an id that does not exist. */
const concrete = (path: string) => path.replace(/\{[^}/]+\}/g, "e2e-no-such-id");

describe("authorization matrix, bad input, notifications, admin and service routes", () => {
  let admin: Tokens;
  let subject: Subject;
  let t: Tutor;
  let s: Student;
  let other: Student;
  let session: Session;
  before(async () => {
    admin = await c.login(adminEmail("authz"));
    subject = await newSubject(admin);
    t = await newTutor(admin, [subject.id], 2);
    s = await newStudent();
    other = await newStudent();
    await fund(admin, s.userId, 10);
    const r = await book(s, t, subject.id, slotIn(0.5), 60);
    assert.equal(r.status, 201, r.text);
    session = r.body;
  });

  it("the served document and docs/ agree: every operation is documented, every admin path is admin-only", async () => {
    const { doc, operations } = await servedOperations();
    assert.match(doc.openapi, /^3\.1/);
    assert.ok(doc.components?.securitySchemes?.bearerAuth, "the document declares the bearerAuth scheme");
    const documented = documentedRoutes();
    const undocumented = operations.filter((o) => !documented.has(routeKey(o.method, o.path)));
    if (undocumented.length > 0) {
      throw new Error(
        `${undocumented.length} operation(s) of /v1/openapi.json are not in docs/api-guide.md (or another docs/*.md): ` +
          undocumented.map((o) => `${o.method} ${o.path}`).join(", "),
      );
    }
    const unguardedAdmin = operations.filter(
      (o) => o.path.startsWith("/v1/admin/") && JSON.stringify(o.roles) !== JSON.stringify(["admin"]),
    );
    assert.deepEqual(
      unguardedAdmin.map((o) => `${o.method} ${o.path}`),
      [],
      "operations under /v1/admin/ must need the admin role",
    );
    for (const o of operations) {
      for (const role of o.roles ?? []) assert.ok(ROLES.includes(role as never), `${o.method} ${o.path}: role ${role}`);
    }
  });

  it("anonymous callers get 401 on every operation that needs a token, and never on the public reads", async () => {
    const { operations } = await servedOperations();
    const secured = operations.filter((o) => o.roles !== null);
    assert.ok(secured.length >= 30, `only ${secured.length} secured operations`);
    for (const o of secured) {
      const r = await c.call(concrete(o.path), { method: o.method, expectViolation: true });
      assert.equal(r.status, 401, `anonymous ${o.method} ${o.path}: ${r.status} ${r.text.slice(0, 200)}`);
      await expectProblem(r, 401, "unauthorized");
    }
    for (const o of operations.filter((x) => x.roles === null && x.method === "GET")) {
      const r = await c.call(concrete(o.path), { expectViolation: true });
      assert.ok(r.status !== 401 && r.status !== 403, `anonymous ${o.method} ${o.path}: ${r.status}`);
    }
  });

  it("every role-guarded operation answers 403 to the other roles, and any-user reads accept every role", async () => {
    const { operations } = await servedOperations();
    const tokens: Record<(typeof ROLES)[number], string> = {
      student: s.token,
      tutor: t.token,
      admin: admin.accessToken,
    };
    let checked = 0;
    for (const o of operations) {
      if (o.roles === null) continue;
      for (const role of ROLES) {
        if (o.roles.length === 0 || o.roles.includes(role)) continue;
        const r = await c.call(concrete(o.path), { method: o.method, token: tokens[role], expectViolation: true });
        assert.equal(r.status, 403, `${role} on ${o.method} ${o.path}: ${r.status} ${r.text.slice(0, 200)}`);
        await expectProblem(r, 403, "forbidden");
        checked += 1;
      }
      // a safe read open to any user: the guard lets every role through (the route may still say 404)
      if (o.roles.length === 0 && o.method === "GET") {
        for (const role of ROLES) {
          const r = await c.call(concrete(o.path), { token: tokens[role] });
          assert.ok(r.status !== 401, `${role} on ${o.method} ${o.path}: 401 ${r.text.slice(0, 200)}`);
        }
      }
    }
    assert.ok(checked >= 40, `only ${checked} wrong-role calls`);
  });

  it("wrong context is 403 with real bodies: a tutor booking, an admin joining", async () => {
    await expectProblem(
      await c.call("/v1/sessions", {
        token: t.token,
        body: { tutorProfileId: t.profileId, subjectId: subject.id, startTime: slotIn(40), durationMinutes: 60 },
      }),
      403,
      "forbidden",
    );
    await expectProblem(
      await c.call("/v1/admin/subjects", { token: s.token, body: { name: "X", slug: "x-forbidden" } }),
      403,
      "forbidden",
    );
    // admins are not participants
    await expectProblem(
      await c.call(`/v1/sessions/${session.id}/join`, { token: admin.accessToken }),
      403,
      "forbidden",
    );
  });

  it("another student's session, recording, report and notifications are 404", async () => {
    for (const path of [
      `/v1/sessions/${session.id}`,
      `/v1/sessions/${session.id}/join`,
      `/v1/sessions/${session.id}/recording`,
      `/v1/sessions/${session.id}/report`,
    ]) {
      await expectProblem(await c.call(path, { token: other.token }), 404, "not_found");
    }
    await expectProblem(
      await c.call(`/v1/sessions/${session.id}/cancel`, { token: other.token, body: {} }),
      404,
      "not_found",
    );
    const mine = await c.ok<{ items: Session[] }>("/v1/sessions", { token: other.token });
    assert.equal(mine.items.length, 0);
    const notes = await c.ok<{ items: { id: string }[] }>("/v1/notifications", { token: s.token });
    const first = notes.items[0];
    assert.ok(first);
    await expectProblem(
      await c.call(`/v1/notifications/${first.id}/read`, { method: "POST", token: other.token }),
      404,
      "not_found",
    );
    // participants and admins see it
    assert.equal((await c.call(`/v1/sessions/${session.id}`, { token: t.token })).status, 200);
    assert.equal((await c.call(`/v1/sessions/${session.id}`, { token: admin.accessToken })).status, 200);
  });

  it("bad input: 400 malformed, 413 too large, 415 wrong type, 405 wrong method, 404 unknown route", async () => {
    await expectProblem(
      await c.call("/v1/me", {
        method: "PATCH",
        token: s.token,
        raw: "{",
        headers: { "content-type": "application/json" },
      }),
      400,
      "validation_failed",
    );
    await expectProblem(
      await c.call("/v1/me", {
        method: "PATCH",
        token: s.token,
        raw: '{"name":"x"}',
        headers: { "content-type": "text/plain" },
      }),
      415,
      "unsupported_media_type",
    );
    await expectProblem(
      await c.call("/v1/me", {
        method: "PATCH",
        token: s.token,
        body: { name: "x".repeat(70 * 1024) },
        expectViolation: true,
      }),
      413,
      "payload_too_large",
    );
    for (const q of ["limit=0", "limit=101", "limit=abc", "cursor=not-a-cursor"]) {
      await expectProblem(
        await c.call(`/v1/notifications?${q}`, { token: s.token, expectViolation: true }),
        400,
        "validation_failed",
      );
    }
    await expectProblem(
      await c.call("/v1/me/tutor-profile/avatar", {
        method: "PUT",
        token: t.token,
        raw: "GIF89a",
        headers: { "content-type": "image/gif" },
      }),
      415,
      "unsupported_media_type",
    );
    await expectProblem(
      await c.call("/v1/me/tutor-profile/avatar", {
        method: "PUT",
        token: t.token,
        raw: new Uint8Array(2 * 1024 * 1024 + 1),
        headers: { "content-type": "image/png" },
      }),
      413,
      "payload_too_large",
    );
    await expectProblem(
      await c.call("/v1/subjects", { method: "DELETE", expectViolation: true }),
      405,
      "method_not_allowed",
    );
    await expectProblem(await c.call("/v1/nope", { expectViolation: true }), 404, "not_found");
    const echoed = await c.call("/v1/health", { headers: { "x-request-id": "e2e-request-123" } });
    assert.equal(echoed.headers.get("x-request-id"), "e2e-request-123");
    assert.ok((await c.call("/v1/health")).headers.get("x-request-id"));
  });

  it("tutor avatars: upload, public bytes", async () => {
    // a real image: avatar bytes must be the PNG they claim to be (see hygiene.test.ts)
    const png = avatarPng("#2f6f8f", "#f2d7b6");
    const r = await c.call<{ avatarUrl: string | null }>("/v1/me/tutor-profile/avatar", {
      method: "PUT",
      token: t.token,
      raw: png,
      headers: { "content-type": "image/png" },
    });
    assert.equal(r.status, 200, r.text);
    const img = await fetch(`${c.apiUrl}/v1/tutors/${t.profileId}/avatar`);
    assert.equal(img.status, 200);
    assert.equal(img.headers.get("content-type"), "image/png");
    assert.deepEqual(new Uint8Array(await img.arrayBuffer()), png);
  });

  it("notifications: list, unread filter, read one, read all", async () => {
    const all = await c.ok<{ items: { id: string; read: boolean; type: string }[] }>("/v1/notifications", {
      token: s.token,
    });
    assert.ok(all.items.some((n) => n.type === "session_scheduled"));
    const count = (await c.ok<{ count: number }>("/v1/notifications/unread-count", { token: s.token })).count;
    assert.ok(count >= 1);
    const first = all.items.find((n) => !n.read);
    assert.ok(first);
    assert.equal((await c.call(`/v1/notifications/${first.id}/read`, { method: "POST", token: s.token })).status, 204);
    assert.equal(
      (await c.ok<{ count: number }>("/v1/notifications/unread-count", { token: s.token })).count,
      count - 1,
    );
    const unread = await c.ok<{ items: { id: string }[] }>("/v1/notifications?unread=true", { token: s.token });
    assert.ok(!unread.items.some((n) => n.id === first.id));
    assert.equal((await c.call("/v1/notifications/read-all", { method: "POST", token: s.token })).status, 204);
    assert.equal((await c.ok<{ count: number }>("/v1/notifications/unread-count", { token: s.token })).count, 0);
  });

  it("the cron sends the 1 h reminder once, even when run twice", async () => {
    for (let i = 0; i < 2; i++) {
      const r = await fetch(`${c.apiUrl}/cdn-cgi/local/scheduled`);
      assert.equal(r.status, 200);
    }
    const reminders = await poll("a reminder", 15_000, async () => {
      const n = await c.ok<{ items: { type: string; data: { sessionId?: string } }[] }>("/v1/notifications", {
        token: s.token,
      });
      const found = n.items.filter((x) => x.type === "session_reminder" && x.data.sessionId === session.id);
      return found.length > 0 ? found : undefined;
    });
    assert.equal(reminders.length, 1);
  });

  it("admin back office lists users, sessions and ledgers; admin cancellation refunds", async () => {
    const tutors = await c.ok<{ items: { id: string }[] }>("/v1/admin/users?context=tutor&limit=100", {
      token: admin.accessToken,
    });
    assert.ok(Array.isArray(tutors.items));
    const sessions = await c.ok<{ items: { id: string }[] }>(
      `/v1/admin/sessions?status=scheduled&from=${session.startTime}&to=${session.startTime + 1}`,
      { token: admin.accessToken },
    );
    assert.ok(sessions.items.some((x) => x.id === session.id));
    const ledger = await c.ok<{ items: { source: string }[] }>(`/v1/admin/users/${s.userId}/ledger`, {
      token: admin.accessToken,
    });
    assert.deepEqual(
      ledger.items.map((e) => e.source),
      ["session_booking", "manual_adjustment"],
    );
    const cancelled = await c.ok<Session>(`/v1/sessions/${session.id}/cancel`, {
      token: admin.accessToken,
      body: { reason: "admin" },
    });
    assert.equal(cancelled.status, "cancelled");
    assert.equal((await c.ok<{ balance: number }>("/v1/credits/balance", { token: s.token })).balance, 10);
  });

  it("service routes: health, the OpenAPI document, the docs page", async () => {
    const health = await c.ok<{ ok: boolean; version: string }>("/v1/health");
    assert.equal(health.ok, true);
    const { operations } = await servedOperations();
    const keys = operations.map((o) => routeKey(o.method, o.path));
    for (const route of [
      "GET /v1/health",
      "POST /v1/sessions",
      "GET /v1/sessions/:id/report",
      "POST /v1/webhooks/stripe",
    ]) {
      const [method, path] = route.split(" ") as [string, string];
      assert.ok(keys.includes(routeKey(method, path)), `${route} is in /v1/openapi.json`);
    }
    const docs = await fetch(`${c.apiUrl}/v1/docs`);
    assert.equal(docs.status, 200);
    assert.match(docs.headers.get("content-type") ?? "", /text\/html/);
  });
});
