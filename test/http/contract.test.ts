/**
 * Finding 9 of issue 12, contract mismatches: slots the booking refuses (more than the booking
 * horizon ahead) are never listed; an empty numeric query parameter is 400, never read as 0; an
 * unknown user's ledger is 404.
 */
import { describe, expect, it } from "vitest";
import { call, createUser, expectProblem, json, type TestUser } from "../helpers/api";
import { book, createSubject, createTutor, DAY, fund } from "../sessions/helpers";

interface Slots {
  items: { startTime: number; endTime: number }[];
}

describe("slots and the booking horizon", () => {
  it("lists no slot that booking refuses: the latest slot near the horizon books (201)", async () => {
    const subject = await createSubject();
    const tutor = await createTutor(subject.id);
    const student = await createUser("student");
    await fund(student, 20);
    const from = Date.now() + 86 * DAY; // the default horizon is 90 days
    const to = from + 10 * DAY;
    const res = await call(`/v1/tutors/${tutor.tutorProfileId}/slots?from=${from}&to=${to}&durationMinutes=60`);
    expect(res.status).toBe(200);
    const { items } = await json<Slots>(res);
    expect(items.length).toBeGreaterThan(0);
    // the range runs 4 days past the horizon: its end must be cut off
    expect(items.at(-1)?.startTime).toBeLessThan(to - 3 * DAY);
    const last = items.at(-1);
    if (!last) throw new Error("no slot");
    const booked = await book(student, tutor, subject.id, last.startTime, 60);
    expect(booked.status, await booked.clone().text()).toBe(201);
  });

  it("lists nothing when the whole range lies past the horizon", async () => {
    const subject = await createSubject();
    const tutor = await createTutor(subject.id);
    const from = Date.now() + 100 * DAY;
    const res = await call(`/v1/tutors/${tutor.tutorProfileId}/slots?from=${from}&to=${from + 7 * DAY}`);
    expect(res.status).toBe(200);
    expect((await json<Slots>(res)).items).toEqual([]);
  });
});

interface Operation {
  method: string;
  path: string;
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; schema?: { type?: string | string[] } }[];
}

/** Every GET operation of the served OpenAPI document with its numeric query parameters. */
async function numericQueryOperations(): Promise<{ op: Operation; names: string[] }[]> {
  const doc = await json<{ paths: Record<string, Record<string, Omit<Operation, "method" | "path">>> }>(
    await call("/v1/openapi.json"),
  );
  const out: { op: Operation; names: string[] }[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const names = (op.parameters ?? [])
        .filter((p) => p.in === "query" && [p.schema?.type].flat().some((t) => t === "integer" || t === "number"))
        .map((p) => p.name);
      if (names.length > 0) out.push({ op: { ...op, method, path }, names });
    }
  }
  return out;
}

describe("numeric query parameters", () => {
  it("documents the numeric query parameters as integers (the scan below sees them)", async () => {
    const ops = await numericQueryOperations();
    const keys = ops.flatMap(({ op, names }) => names.map((n) => `${op.method} ${op.path} ${n}`));
    for (const k of [
      "get /v1/tutors/{id}/slots from",
      "get /v1/tutors/{id}/slots to",
      "get /v1/tutors/{id}/slots durationMinutes",
      "get /v1/sessions from",
      "get /v1/sessions to",
      "get /v1/sessions limit",
      "get /v1/admin/reconciliation from",
    ]) {
      expect(keys).toContain(k);
    }
  });

  it("answers 400 validation_failed for an empty value of every numeric query parameter, on every route", async () => {
    const users = new Map<string, TestUser>();
    const userFor = async (role: string) => {
      const hit = users.get(role);
      if (hit) return hit;
      const u = await createUser(role === "admin" ? "admin" : role === "tutor" ? "tutor" : "student");
      users.set(role, u);
      return u;
    };
    const valid: Record<string, string> = {
      from: String(Date.now()),
      to: String(Date.now() + DAY),
      durationMinutes: "60",
      limit: "10",
    };
    // routes that need one of two string parameters (any value) besides their numeric ones
    const extra: Record<string, Record<string, string>> = { "/v1/admin/webhooks/deepgram": { requestId: "x" } };
    const failures: string[] = [];
    for (const { op, names } of await numericQueryOperations()) {
      const roles = op.security?.[0]?.bearerAuth;
      const token = roles === undefined ? undefined : (await userFor(roles[0] ?? "student")).token;
      const path = op.path.replace(/\{[^}]+\}/g, "unknown-id");
      const url = (bad: Record<string, string>) =>
        `${path}?${new URLSearchParams({ ...extra[op.path], ...Object.fromEntries(names.map((n) => [n, valid[n] ?? "1"])), ...bad })}`;
      // with every parameter valid the route answers something else than 400, so a 400 below is the blank's
      const baseline = await call(url({}), { method: op.method, token });
      if (baseline.status === 400) failures.push(`${op.method.toUpperCase()} ${url({})} -> 400 with valid values`);
      for (const name of names) {
        for (const value of ["", " ", "1e3", "0x10", "+5"]) {
          const res = await call(url({ [name]: value }), { method: op.method, token });
          const body = (await res.json().catch(() => null)) as { code?: string } | null;
          if (res.status !== 400 || body?.code !== "validation_failed") {
            failures.push(`${op.method.toUpperCase()} ${path}?${name}=${JSON.stringify(value)} -> ${res.status}`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
  });
});

describe("GET /v1/admin/users/:id/ledger", () => {
  it("is 404 for an unknown user", async () => {
    const admin = await createUser("admin");
    await expectProblem(await call("/v1/admin/users/usr_unknown/ledger", { token: admin.token }), 404, "not_found");
  });
});
