/**
 * Tutor status (API.md "Tutor approval"): only `approved` tutors are listed, shown, offer slots or can
 * be booked; any other status answers 404 on the public routes. The tutor sees their own status.
 */
import { describe, expect, it } from "vitest";
import { call, createUser, env, expectProblem, json } from "../helpers/api";
import { fund } from "../sessions/helpers";
import { allWeek, createTutor, DAY, insertSubject, putAvailability, type TestTutor } from "./fixtures";

const setStatus = (tutor: TestTutor, status: string, reason: string | null = null) =>
  env.DB.prepare("UPDATE tutorProfiles SET status = ?, statusReason = ? WHERE id = ?")
    .bind(status, reason, tutor.profile.id)
    .run();

const ids = async (path: string) => (await json<{ items: { id: string }[] }>(await call(path))).items.map((t) => t.id);

/** Every id of a listing, page by page with `limit`. */
async function allIds(path: string, limit: number) {
  const out: string[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: { id: string }[]; nextCursor: string | null } = await json(
      await call(`${path}${path.includes("?") ? "&" : "?"}limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`),
    );
    out.push(...page.items.map((t) => t.id));
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

describe("tutor status", () => {
  it("hides a tutor that is not approved from the directory, the detail, the slots and booking", async () => {
    const subject = await insertSubject("Status");
    const visible = await createTutor({ subjectIds: [subject.id] });
    for (const status of ["pending", "rejected", "suspended"]) {
      const hidden = await createTutor({ subjectIds: [subject.id] });
      await putAvailability(hidden.token, "UTC", allWeek);
      await setStatus(hidden, status);

      expect(await ids(`/v1/tutors?subject=${subject.slug}`)).not.toContain(hidden.profile.id);
      expect(await ids(`/v1/tutors?subject=${subject.slug}`)).toContain(visible.profile.id);
      expect(await allIds("/v1/tutors", 100)).not.toContain(hidden.profile.id);
      await expectProblem(await call(`/v1/tutors/${hidden.profile.id}`), 404, "not_found");
      const from = Math.ceil((Date.now() + 2 * DAY) / 900_000) * 900_000;
      await expectProblem(
        await call(`/v1/tutors/${hidden.profile.id}/slots?from=${from}&to=${from + DAY}`),
        404,
        "not_found",
      );
      const student = await createUser("student");
      await fund(student, 10);
      await expectProblem(
        await call("/v1/sessions", {
          token: student.token,
          body: { tutorProfileId: hidden.profile.id, subjectId: subject.id, startTime: from, durationMinutes: 60 },
        }),
        404,
        "not_found",
      );
    }
  });

  it("pages the directory without gaps around hidden tutors", async () => {
    const subject = await insertSubject("Paging");
    const tutors: TestTutor[] = [];
    for (let i = 0; i < 5; i++) tutors.push(await createTutor({ subjectIds: [subject.id] }));
    const [, second, , fourth] = tutors as [TestTutor, TestTutor, TestTutor, TestTutor, TestTutor];
    await setStatus(second, "suspended", "account_closed");
    await setStatus(fourth, "pending");
    const expected = tutors
      .filter((t) => t !== second && t !== fourth)
      .map((t) => t.profile.id)
      .reverse();
    expect(await allIds(`/v1/tutors?subject=${subject.slug}`, 1)).toEqual(expected);
    const everyone = await allIds("/v1/tutors", 2);
    expect(everyone.filter((id) => tutors.some((t) => t.profile.id === id))).toEqual(expected);
    expect(new Set(everyone).size).toBe(everyone.length);
  });

  it("shows the tutor their own status and reason", async () => {
    const subject = await insertSubject("Own");
    const tutor = await createTutor({ subjectIds: [subject.id] });
    expect(tutor.profile).toMatchObject({ status: "approved", statusReason: null });
    await setStatus(tutor, "suspended", "account_closed");
    const own = await json(await call("/v1/me/tutor-profile", { token: tutor.token }));
    expect(own).toMatchObject({ id: tutor.profile.id, status: "suspended", statusReason: "account_closed" });
    // the public shape never carries the status
    const publicView = await json(await call(`/v1/tutors?subject=${subject.slug}`));
    expect(JSON.stringify(publicView)).not.toContain("statusReason");
  });
});
