/**
 * Issue 12, finding 6: user-typed text (names, bios, reasons, descriptions) is NFC-normalized and
 * refused (400 with the field's path) when it carries lone surrogates, control characters or bidi
 * overrides; a JSON body that is not valid UTF-8 is refused instead of being read with U+FFFD.
 */
import { describe, expect, it } from "vitest";
import { call, createUser, env, expectProblem, json, type TestUser, tokenFor } from "../helpers/api";
import { book, createSubject, createTutor, fund, slotAt } from "../sessions/helpers";
import { insertSubject } from "../tutors/fixtures";

/** Sends `body` as typed JSON text, so escapes such as `\ud800` reach the server as written. */
const rawJson = (path: string, method: string, token: string, body: string | Uint8Array) =>
  call(path, { method, token, rawBody: body, headers: { "content-type": "application/json" } });

/** Each hostile class, as a JSON string literal (escapes kept) and what it is. */
const hostile: [string, string][] = [
  ["a\\ud800b", "a lone high surrogate"],
  ["a\\udc00b", "a lone low surrogate"],
  ["\\udc00\\ud800", "surrogates in the wrong order"],
  ["a\\u0000b", "NUL"],
  ["a\\u0007b", "BEL (C0)"],
  ["a\\u001bb", "ESC (C0)"],
  ["a\\u007fb", "DEL"],
  ["a\\u0085b", "NEL (C1)"],
  ["a\\u009bb", "CSI (C1)"],
  ["abc\\u202Egpj.exe", "RIGHT-TO-LEFT OVERRIDE"],
  ["a\\u202Ab", "LEFT-TO-RIGHT EMBEDDING"],
  ["a\\u2066b\\u2069", "LEFT-TO-RIGHT ISOLATE"],
  ["a\\u2068b", "FIRST STRONG ISOLATE"],
];
/** Line breaks and tabs: refused in one-line fields, kept in multi-line ones. */
const lineBreaks: [string, string][] = [
  ["a\\nb", "a line feed"],
  ["a\\rb", "a carriage return"],
  ["a\\tb", "a tab"],
  ["a\\u2028b", "LINE SEPARATOR"],
];

async function problemPaths(res: Response, status = 400): Promise<string[]> {
  const body = (await expectProblem(res, status, "validation_failed")) as { errors?: { path: string }[] };
  return (body.errors ?? []).map((e) => e.path);
}

async function storedName(userId: string) {
  return (await env.DB.prepare("SELECT name FROM users WHERE id = ?").bind(userId).first<{ name: string }>())?.name;
}

describe("PATCH /v1/me name", () => {
  it("refuses every hostile class and line breaks, naming the field", async () => {
    const u = await createUser();
    for (const [literal, what] of [...hostile, ...lineBreaks]) {
      const res = await rawJson("/v1/me", "PATCH", u.token, `{"name":"${literal}"}`);
      expect(await problemPaths(res), what).toEqual(["name"]);
    }
    expect(await storedName(u.id)).toBeNull();
  });

  it("stores the NFC form and measures the length after normalizing", async () => {
    const u = await createUser();
    // "e" + COMBINING ACUTE ACCENT is "é" (U+00E9) once composed
    const res = await rawJson("/v1/me", "PATCH", u.token, `{"name":"  Jose\\u0301 Ame\\u0301lie  "}`);
    expect(res.status).toBe(200);
    expect((await json<{ name: string }>(res)).name).toBe("José Amélie");
    expect(await storedName(u.id)).toBe("José Amélie");
    // 100 decomposed "é" are 200 code units but 100 characters once composed: accepted
    const long = await rawJson("/v1/me", "PATCH", u.token, `{"name":"${"e\\u0301".repeat(100)}"}`);
    expect(long.status).toBe(200);
    expect(await storedName(u.id)).toBe("é".repeat(100));
    const tooLong = await rawJson("/v1/me", "PATCH", u.token, `{"name":"${"e\\u0301".repeat(101)}"}`);
    expect(await problemPaths(tooLong)).toEqual(["name"]);
    // emoji, other scripts and right-to-left text are fine
    for (const name of ["Zoë 🎓", "محمد", "李小龙", "Ñandú O'Brien-Smith"]) {
      const ok = await call("/v1/me", { method: "PATCH", token: u.token, body: { name } });
      expect(ok.status, name).toBe(200);
      expect(await storedName(u.id)).toBe(name);
    }
  });

  it("refuses links and e-mail addresses in names (they would reach other people's inboxes)", async () => {
    const u = await createUser();
    for (const name of [
      "URGENT: re-verify payment at https://evil.example/login",
      "visit www.evil.example",
      "mailto:me@evil.example",
      "write to pay@evil.example",
    ]) {
      const res = await call("/v1/me", { method: "PATCH", token: u.token, body: { name } });
      expect(await problemPaths(res), name).toEqual(["name"]);
    }
  });

  it("refuses a body that is not valid UTF-8 (it used to be read with U+FFFD)", async () => {
    const u = await createUser();
    const prefix = new TextEncoder().encode('{"name":"a');
    const suffix = new TextEncoder().encode('b"}');
    for (const bad of [[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80] /* an encoded surrogate */, [0xe2, 0x82]]) {
      const body = new Uint8Array([...prefix, ...bad, ...suffix]);
      const res = await rawJson("/v1/me", "PATCH", u.token, body);
      expect(await problemPaths(res), bad.join(",")).toEqual(["body"]);
    }
    expect(await storedName(u.id)).toBeNull();
    // valid multi-byte UTF-8 (and a byte order mark) still parse
    const ok = await rawJson("/v1/me", "PATCH", u.token, new TextEncoder().encode('\ufeff{"name":"Zoë"}'));
    expect(ok.status).toBe(200);
    expect(await storedName(u.id)).toBe("Zoë");
  });
});

describe("tutor profile text", () => {
  it("refuses hostile display names and bios; a bio keeps line breaks and tabs", async () => {
    const subject = await insertSubject();
    const u: TestUser = await createUser();
    for (const [literal, what] of hostile) {
      const body = (displayName: string, bio: string) =>
        `{"displayName":"${displayName}","bio":"${bio}","subjectIds":["${subject.id}"],"hourlyCreditsPrice":3}`;
      expect(
        await problemPaths(await rawJson("/v1/me/tutor-profile", "POST", u.token, body(literal, "ok"))),
        what,
      ).toEqual(["displayName"]);
      expect(
        await problemPaths(await rawJson("/v1/me/tutor-profile", "POST", u.token, body("Ok", literal))),
        what,
      ).toEqual(["bio"]);
    }
    for (const [literal, what] of lineBreaks) {
      const res = await rawJson(
        "/v1/me/tutor-profile",
        "POST",
        u.token,
        `{"displayName":"${literal}","bio":"x","subjectIds":["${subject.id}"],"hourlyCreditsPrice":3}`,
      );
      expect(await problemPaths(res), what).toEqual(["displayName"]);
    }
    const res = await rawJson(
      "/v1/me/tutor-profile",
      "POST",
      u.token,
      `{"displayName":"Rene\\u0301e","bio":"Line one\\r\\nLine\\ttwo\\n","subjectIds":["${subject.id}"],"hourlyCreditsPrice":3}`,
    );
    expect(res.status).toBe(201);
    const profile = await json<{ id: string; displayName: string; bio: string }>(res);
    // NFC, trimmed, and CRLF stored as LF
    expect(profile).toMatchObject({ displayName: "Renée", bio: "Line one\nLine\ttwo" });
    const tutorToken = await tokenFor(u.id, "tutor");
    const patch = await rawJson("/v1/me/tutor-profile", "PATCH", tutorToken, `{"bio":"a\\u202eb"}`);
    expect(await problemPaths(patch)).toEqual(["bio"]);
    const link = await call("/v1/me/tutor-profile", {
      method: "PATCH",
      token: tutorToken,
      body: { displayName: "Book at https://evil.example" },
    });
    expect(await problemPaths(link)).toEqual(["displayName"]);
  });
});

describe("reasons and descriptions", () => {
  it("a cancellation reason is checked and normalized", async () => {
    const subject = await createSubject();
    const tutor = await createTutor(subject.id, { price: 1 });
    const student = await createUser("student");
    await fund(student, 5);
    const booked = await book(student, tutor, subject.id, slotAt(72));
    expect(booked.status).toBe(201);
    const { id } = await json<{ id: string }>(booked);
    for (const [literal, what] of hostile) {
      const res = await rawJson(`/v1/sessions/${id}/cancel`, "POST", student.token, `{"reason":"${literal}"}`);
      expect(await problemPaths(res), what).toEqual(["reason"]);
    }
    const res = await rawJson(
      `/v1/sessions/${id}/cancel`,
      "POST",
      student.token,
      `{"reason":"Cafe\\u0301\\r\\nclosed"}`,
    );
    expect(res.status).toBe(200);
    expect((await json<{ cancellationReason: string }>(res)).cancellationReason).toBe("Café\nclosed");
  });

  it("an admin adjustment description and a subject name are checked", async () => {
    const admin = await createUser("admin");
    const user = await createUser("student");
    for (const [literal, what] of [...hostile, ...lineBreaks]) {
      const adjust = await rawJson(
        "/v1/admin/credits/adjustments",
        "POST",
        admin.token,
        `{"userId":"${user.id}","type":"credit","amount":1,"description":"${literal}"}`,
      );
      expect(await problemPaths(adjust), what).toEqual(["description"]);
      const subject = await rawJson("/v1/admin/subjects", "POST", admin.token, `{"name":"${literal}","slug":"x-y"}`);
      expect(await problemPaths(subject), what).toEqual(["name"]);
    }
    const res = await rawJson(
      "/v1/admin/subjects",
      "POST",
      admin.token,
      `{"name":"Franc\\u0327ais","slug":"fr-${crypto.randomUUID().slice(0, 8)}"}`,
    );
    expect(res.status).toBe(201);
    expect((await json<{ name: string }>(res)).name).toBe("Français");
  });
});
