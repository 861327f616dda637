/**
 * The directory's card (tutorListings carries what a page shows, so a page reads one row per
 * tutor): every entry equals the public detail view (GET /v1/tutors/:id) however the profile was
 * changed — through the API, or by any statement (the triggers of migration 0011) — and a walk
 * shows a tutor changed since its first page as the profile is now, in its old place, or drops it.
 */
import { describe, expect, it } from "vitest";
import { call, env, json } from "../helpers/api";
import { allWeek, createTutor, insertSubject, putAvailability, type TestTutor } from "./fixtures";

interface Entry {
  id: string;
  displayName: string;
  hourlyCreditsPrice: number;
}
interface Page {
  items: Entry[];
  nextCursor: string | null;
}

const page = async (path: string) => json<Page>(await call(path));
const detail = async (id: string) => json<Record<string, unknown>>(await call(`/v1/tutors/${id}`));
const patch = (t: TestTutor, body: Record<string, unknown>) =>
  call("/v1/me/tutor-profile", { method: "PATCH", token: t.token, body });

async function expectDetails(items: readonly Entry[]) {
  for (const item of items) expect(item).toEqual(await detail(item.id));
}

describe("the directory's card", () => {
  it("shows every entry as its detail view after changes through the API and by plain SQL", async () => {
    const subject = await insertSubject("Card");
    const [a, b, c] = [
      await createTutor({ subjectIds: [subject.id], displayName: "Ann" }),
      await createTutor({ subjectIds: [subject.id], displayName: "Bea" }),
      await createTutor({ subjectIds: [subject.id], displayName: "Cy" }),
    ] as [TestTutor, TestTutor, TestTutor];
    expect((await patch(a, { displayName: "Ann Renamed", bio: "New bio." })).status).toBe(200);
    await putAvailability(b.token, "Asia/Kathmandu", allWeek);
    // not through the service: the trigger follows the profile whatever writes it
    await env.DB.prepare("UPDATE tutorProfiles SET avatarS3Key = ?, displayName = ? WHERE id = ?")
      .bind(`avatars/${c.profile.id}`, "Cy by SQL", c.profile.id)
      .run();
    const { items } = await page(`/v1/tutors?subject=${subject.slug}`);
    expect(items.map((t) => t.displayName)).toEqual(["Cy by SQL", "Bea", "Ann Renamed"]);
    await expectDetails(items);
    expect(await detail(b.profile.id)).toMatchObject({ timezone: "Asia/Kathmandu" });
    expect(await detail(c.profile.id)).toMatchObject({ avatarUrl: expect.stringContaining(c.profile.id) });
  });

  it("shows a tutor changed mid-walk as it is now, in its old place, and drops one that left the filter", async () => {
    const subject = await insertSubject("Walk");
    const tutors: TestTutor[] = [];
    for (let i = 0; i < 4; i++) {
      tutors.push(await createTutor({ subjectIds: [subject.id], displayName: `T${i}`, hourlyCreditsPrice: 3 }));
    }
    const [t0, t1, t2, t3] = tutors as [TestTutor, TestTutor, TestTutor, TestTutor];
    const path = `/v1/tutors?subject=${subject.slug}&maxPrice=5&limit=1`;
    const first = await page(path);
    expect(first.items.map((t) => t.id)).toEqual([t3.profile.id]);
    // after the first page: t2 renamed and dearer but within the filter, t1 out of it, t0 suspended
    expect((await patch(t2, { displayName: "T2 now", hourlyCreditsPrice: 5 })).status).toBe(200);
    expect((await patch(t1, { hourlyCreditsPrice: 9 })).status).toBe(200);
    await env.DB.prepare("UPDATE tutorProfiles SET status = 'suspended' WHERE id = ?").bind(t0.profile.id).run();
    const seen: Entry[] = [];
    let cursor = first.nextCursor;
    while (cursor) {
      const next = await page(`${path}&cursor=${cursor}`);
      seen.push(...next.items);
      cursor = next.nextCursor;
    }
    expect(seen.map((t) => t.id)).toEqual([t2.profile.id]);
    expect(seen[0]).toMatchObject({ displayName: "T2 now", hourlyCreditsPrice: 5 });
    await expectDetails(seen);
    // a new walk sees the listing as it is now
    const fresh = await page(`/v1/tutors?subject=${subject.slug}&maxPrice=5`);
    expect(fresh.items.map((t) => t.id)).toEqual([t3.profile.id, t2.profile.id]);
  });
});
