/**
 * Issue 12, finding 5: every e-mail template rendered with hostile text in every text slot. Whatever
 * the input, the HTML holds only the layout's own tags, the subject is one bounded line, no e-mail
 * address, link or invisible control survives, and the mail stays short.
 */
import { describe, expect, it } from "vitest";
import { type Rendered, templates } from "../../src/email/templates";
import { call, createUser, eventually, fakeRequests, json } from "../helpers/api";
import { book, createSubject, createTutor, fund, slotAt } from "../sessions/helpers";

const LONG = `${"A".repeat(5000)}END`;
const hostile = [
  "<script>alert(1)</script>",
  '"><img src=x onerror=alert(1)>',
  "Ben & Jerry's <b>bold</b>",
  "URGENT: re-verify payment at https://evil.example/login",
  "URGENT: call us at www.evil.example now",
  "pay at evil.example/login",
  "https\u200B://evil.example/zero-width",
  "javascript:alert(1)",
  "Reply to victim@example.com today",
  "Subject\r\nBcc: victim@example.com",
  "line\nbreak\ttab\u2028sep",
  "abc\u202Egpj.exe",
  "x\u2066isolate\u2069y",
  "nul\u0000del\u007fcsi\u009b",
  "lone \ud800 surrogate",
  LONG,
];
const ordinary = "Ada Lovelace";

/**
 * Every template, rendered once per hostile string in each of its text parameters. The mapped type
 * makes a new template a compile error here until it is covered.
 */
const renders: { [K in keyof typeof templates]: () => Rendered[] } = {
  otp: () => hostile.map((h) => templates.otp(h)),
  paymentCompleted: () => [templates.paymentCompleted(10, 25)],
  paymentFailed: () => [templates.paymentFailed()],
  paymentRefunded: () => [templates.paymentRefunded(1, -3), templates.paymentRefunded(4, 2)],
  paymentDisputed: () => [templates.paymentDisputed(1, 0), templates.paymentDisputed(5, -5)],
  paymentReinstated: () => [templates.paymentReinstated(1, 1), templates.paymentReinstated(5, 9)],
  paymentReturned: () => hostile.map((h) => templates.paymentReturned(1234, h)),
  sessionScheduled: () =>
    hostile.flatMap((h) => [
      templates.sessionScheduled(h, ordinary, "tutor"),
      templates.sessionScheduled("2030-01-01 10:00", h, "student"),
      templates.sessionScheduled("2030-01-01 10:00", null, "student"),
    ]),
  seriesScheduled: () =>
    hostile.flatMap((h) => [
      templates.seriesScheduled([h, "2030-01-08 10:00"], ordinary, "tutor"),
      templates.seriesScheduled(["2030-01-01 10:00", "2030-01-08 10:00"], h, "student"),
      templates.seriesScheduled(["2030-01-01 10:00"], null, "student"),
    ]),
  seriesCancelled: () =>
    hostile.flatMap((h) => [templates.seriesCancelled([h, "2030-01-08 10:00"], 2), templates.seriesCancelled([h], 0)]),
  sessionRescheduled: () =>
    hostile.flatMap((h) => [
      templates.sessionRescheduled(h, "2030-01-01 10:00", ordinary, "tutor"),
      templates.sessionRescheduled("2030-01-01 10:00", h, ordinary, "student"),
      templates.sessionRescheduled("2030-01-01 10:00", "2030-01-02 10:00", h, "student"),
      templates.sessionRescheduled("2030-01-01 10:00", "2030-01-02 10:00", null, "tutor"),
      templates.sessionRescheduled("2030-01-01 10:00", "2030-01-02 10:00", h, "admin"),
    ]),
  sessionCancelled: () =>
    hostile.flatMap((h) => [templates.sessionCancelled(h, true), templates.sessionCancelled(h, false)]),
  sessionNoShow: () =>
    hostile.flatMap((h) => [
      templates.sessionNoShow(h, "tutor", "student", true),
      templates.sessionNoShow(h, "student", "student", false),
      templates.sessionNoShow(h, "student", "tutor", false),
    ]),
  sessionDisputed: () =>
    hostile.flatMap((h) => [templates.sessionDisputed(h, "student"), templates.sessionDisputed(h, "tutor")]),
  sessionResolved: () =>
    hostile.flatMap((h) => [templates.sessionResolved(h, 0, 4), templates.sessionResolved(h, 2, 4)]),
  sessionAutoCompleted: () => hostile.map((h) => templates.sessionAutoCompleted(h)),
  sessionCompleted: () => hostile.map((h) => templates.sessionCompleted(h, 48)),
  sessionNotHeld: () => hostile.map((h) => templates.sessionNotHeld(h)),
  payoutPaid: () => hostile.map((h) => templates.payoutPaid(3200, h)),
  payoutFailed: () =>
    hostile.flatMap((h) => [templates.payoutFailed(3200, h, h), templates.payoutFailed(3200, "usd", h)]),
  sessionSettled: () =>
    hostile.flatMap((h) => [
      templates.sessionSettled(h, "tutor", 3200, h),
      templates.sessionSettled(h, "student", 0, "usd"),
    ]),
  reportReady: () =>
    hostile.flatMap((h) => [templates.reportReady(h, "A good lesson."), templates.reportReady("Maths", h)]),
  reportDraftReady: () =>
    hostile.flatMap((h) => [
      templates.reportDraftReady(h, "A good lesson.", 24),
      templates.reportDraftReady("Maths", h, 1),
    ]),
  sessionReminder: () => hostile.map((h) => templates.sessionReminder(h, 1)),
  tutorStatusChanged: () =>
    hostile.flatMap((h) => [
      templates.tutorStatusChanged("approved", null),
      templates.tutorStatusChanged("rejected", h),
      templates.tutorStatusChanged("suspended", h),
    ]),
};

/** The only tags the layout writes; anything else in the HTML came from user text. */
const LAYOUT_TAGS = new Set(["!doctype", "html", "body", "h1", "p", "/html", "/body", "/h1", "/p"]);
const EMAIL_ADDRESS = /[^\s@]+@[^\s@]+\.[^\s@]+/;
const LINK = /[a-z][a-z0-9+.-]*:\/\/|www\.|evil\.example|javascript:/i;
// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the point
const CONTROLS = /[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u2028\u2029\u202A-\u202E\u2066-\u2069\u200B]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function check(name: string, r: Rendered) {
  const where = `${name}: ${JSON.stringify(r.subject).slice(0, 80)}`;
  const tags = [...r.html.matchAll(/<\s*([!/]?[a-z0-9-]*)/gi)].map((m) => (m[1] ?? "").toLowerCase());
  expect(
    tags.filter((t) => !LAYOUT_TAGS.has(t)),
    where,
  ).toEqual([]);
  expect(r.html, where).not.toMatch(/<script/i);
  // attribute-breaking quotes only as entities
  expect(r.html.replace(/<[^>]*>/g, ""), where).not.toMatch(/["']/);
  expect(r.subject, where).not.toMatch(/[\r\n]/);
  expect(r.subject.length, where).toBeLessThanOrEqual(120);
  for (const part of [r.subject, r.text, r.html]) {
    expect(part, where).not.toMatch(EMAIL_ADDRESS);
    expect(part, where).not.toMatch(LINK);
    expect(part.replaceAll("\n", ""), where).not.toMatch(CONTROLS);
    expect(part, where).not.toMatch(LONE_SURROGATE);
    expect(part, where).not.toContain("A".repeat(301));
    expect(part, where).not.toContain("END");
  }
  expect(r.text.length, where).toBeLessThan(1200);
  expect(r.html.length, where).toBeLessThan(2500);
}

describe("e-mail templates with hostile input", () => {
  for (const [name, render] of Object.entries(renders)) {
    it(`${name}: escaped, bounded, single-line subject, no address or link`, () => {
      const rendered = render();
      expect(rendered.length).toBeGreaterThan(0);
      for (const r of rendered) check(name, r);
    });
  }

  it("shows a name as a quoted name, cut to 60 characters with an ellipsis", () => {
    const r = templates.sessionScheduled("2030-01-01 10:00", `Zoë ${"B".repeat(100)}`, "student");
    expect(r.text).toContain(`student “Zoë ${"B".repeat(55)}…”`);
    expect(r.html).toContain(`student “Zoë ${"B".repeat(55)}…”`);
    const escaped = templates.sessionScheduled("2030-01-01 10:00", "Ben & Jerry <3", "tutor");
    expect(escaped.text).toContain("tutor “Ben & Jerry <3”");
    expect(escaped.html).toContain("tutor “Ben &amp; Jerry &lt;3”");
    const link = templates.sessionScheduled("x", "URGENT: re-verify payment at https://evil.example/login", "student");
    expect(link.text).toContain("student “URGENT: re-verify payment at [link removed]”");
    const anonymous = templates.sessionScheduled("2030-01-01 10:00", null, "student");
    expect(anonymous.text).toContain("Your session with a student is booked for 2030-01-01 10:00 (UTC).");
  });

  it("cuts a report summary to 300 characters", () => {
    const r = templates.reportReady("Maths", `${"word ".repeat(100)}`);
    const summary = r.text.split("\n\n")[0] ?? "";
    expect(summary.length).toBeLessThanOrEqual(302);
    expect(summary.endsWith("…”")).toBe(true);
  });
});

describe("the booking e-mails", () => {
  it("name the other party by display name, never by e-mail address", async () => {
    const subject = await createSubject();
    const tutor = await createTutor(subject.id, { price: 1 });
    for (const studentName of [null, "Sam Student"]) {
      const student = await createUser("student");
      if (studentName) {
        expect(
          (await call("/v1/me", { method: "PATCH", token: student.token, body: { name: studentName } })).status,
        ).toBe(200);
      }
      await fund(student, 5);
      const res = await book(student, tutor, subject.id, slotAt(48 + (studentName ? 2 : 0)));
      expect(res.status).toBe(201);
      const session = await json<{ id: string }>(res);
      const key = `session_scheduled:${session.id}:${tutor.id}`;
      const mail = await eventually(async () =>
        (await fakeRequests("/emails", tutor.email)).find((m) => m.headers["idempotency-key"] === key),
      );
      const body = JSON.parse(mail.body) as { to: string | string[]; subject: string; text: string; html: string };
      expect([body.to].flat()).toEqual([tutor.email]);
      for (const part of [body.subject, body.text, body.html]) {
        expect(part).not.toContain(student.email);
        expect(part).not.toContain(student.email.split("@")[0]);
      }
      expect(body.text).toContain(studentName ? `student “${studentName}”` : "a student");
      const toStudent = await eventually(async () =>
        (await fakeRequests("/emails", student.email)).find((m) => m.body.includes("Session scheduled")),
      );
      expect(toStudent.body).not.toContain(tutor.email);
      expect(JSON.parse(toStudent.body).text).toContain("tutor “Tess Tutor”");
    }
  });
});
