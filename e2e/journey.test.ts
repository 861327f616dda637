/**
 * The newcomer's journey on the demo catalogue (seeded by e2e/run.ts with the code behind
 * `npm run seed`), exactly as the README tells it after `npm install && npm run dev`.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { unwrap } from "../sdk/src/index.ts";
import { DEMO_STUDENT, DEMO_SUBJECTS, DEMO_TUTORS } from "../tools/offline/demo-data.ts";
import { firstFreeSlot } from "../tools/offline/seed.ts";
import { balance, c, poll, type Student, sdkAs } from "./helpers.ts";

describe("the newcomer's journey on the seeded demo catalogue", () => {
  it("docs, catalogue, inbox login, emulated checkout, booking a seeded tutor", async () => {
    // the reference page is HTML the OpenAPI document does not describe: straight to the API
    const docs = await c.call("/v1/docs", { direct: true });
    assert.equal(docs.status, 200);
    assert.match(docs.headers.get("content-type") ?? "", /text\/html/);

    const anyone = sdkAs();
    const subjects = unwrap(await anyone.GET("/v1/subjects"));
    assert.ok(subjects.items.length > 0, "GET /v1/subjects is empty");
    const math = subjects.items.find((s) => s.slug === DEMO_SUBJECTS[0]?.slug);
    assert.ok(math, "the seeded subject is listed");

    const tutors = unwrap(await anyone.GET("/v1/tutors", { params: { query: { subject: math.slug } } }));
    assert.ok(tutors.items.length > 0, `GET /v1/tutors?subject=${math.slug} is empty`);
    const seeded = DEMO_TUTORS.filter((t) => t.subjects.includes(math.slug)).map((t) => t.displayName);
    assert.deepEqual(tutors.items.map((t) => t.displayName).sort(), seeded.sort());
    const tutor = tutors.items[0];
    assert.ok(tutor);
    assert.ok(tutor.avatarUrl, "a seeded tutor has an avatar");
    const avatar = await fetch(new URL(tutor.avatarUrl, c.apiUrl));
    assert.equal(avatar.headers.get("content-type"), "image/png");
    await avatar.arrayBuffer();

    // the seeded student logs in with the code the emulator's inbox received
    const tokens = await c.login(DEMO_STUDENT.email);
    assert.equal(tokens.user.email, DEMO_STUDENT.email);
    const student: Student = { tokens, token: tokens.accessToken, userId: tokens.user.id, email: DEMO_STUDENT.email };
    const asStudent = sdkAs(student.token);
    const before = await balance(student);

    const packs = unwrap(await anyone.GET("/v1/credits/packs"));
    const pack = packs.items[0];
    assert.ok(pack, "a credit pack is offered");
    const started = await asStudent.POST("/v1/credits/checkout", { body: { packId: pack.id } });
    assert.equal(started.response.status, 201, JSON.stringify(started.error ?? null));
    const checkout = unwrap(started);
    assert.ok(checkout.checkoutUrl.startsWith(c.emulatorUrl), "checkout is the emulator's hosted page");
    const page = await fetch(checkout.checkoutUrl);
    assert.equal(page.status, 200);
    await page.arrayBuffer();
    const paid = await c.checkoutAction(checkout.checkoutUrl, "pay");
    assert.equal(paid.status, 200, paid.error);
    const after = await poll("the credits to arrive", 20_000, async () => {
      const b = await balance(student);
      return b >= before + pack.credits ? b : undefined;
    });
    assert.equal(after, before + pack.credits);

    const slot = await firstFreeSlot(c, tutor.id, student.token);
    assert.ok(slot, `${tutor.displayName} has a free slot in the coming week`);
    const booking = await asStudent.POST("/v1/sessions", {
      body: { tutorProfileId: tutor.id, subjectId: math.id, startTime: slot.startTime, durationMinutes: 60 },
    });
    assert.equal(booking.response.status, 201, JSON.stringify(booking.error ?? null));
    const booked = unwrap(booking);
    assert.equal(booked.status, "scheduled");
    assert.equal(booked.tutorProfileId, tutor.id);
    assert.equal(await balance(student), after - booked.creditsCost);
  });
});
