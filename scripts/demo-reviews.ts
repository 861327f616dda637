/**
 * The demo's review: the student rates the lesson the tutor just completed; the tutor's average
 * moves in the same step, the directory sorted by rating shows it, the tutor is notified, and the
 * public review shows the student's first name only.
 */
import type { Client, Tokens } from "../tools/offline/client.ts";

export interface ReviewsDemo {
  c: Client;
  step: (msg: string, detail?: unknown) => void;
  student: Tokens;
  tutor: Tokens;
  tutorProfileId: string;
  subjectSlug: string;
  sessionId: string;
}

export async function reviewsJourney({ c, step, student, tutor, tutorProfileId, subjectSlug, sessionId }: ReviewsDemo) {
  const review = await c.ok<{ id: string; rating: number; comment: string }>(
    `/v1/sessions/${sessionId}/review`,
    { token: student.accessToken, body: { rating: 5, comment: "Clear, patient, and the homework helped." } },
    201,
  );
  step("Student reviewed the completed lesson (5 stars)", review);
  const again = await c.call(`/v1/sessions/${sessionId}/review`, { token: student.accessToken, body: { rating: 1 } });
  step(`A second review of the same lesson is refused: ${again.status}`);
  const tutorNow = await c.ok<{ ratingAverage: number | null; ratingCount: number }>(`/v1/tutors/${tutorProfileId}`);
  const ranked = await c.ok<{ items: { id: string; displayName: string; ratingAverage: number | null }[] }>(
    `/v1/tutors?subject=${subjectSlug}&sort=rating&minRating=4`,
  );
  step("The tutor's rating moved in the same step; the directory sorted by rating, 4 stars and up, lists them", {
    ratingAverage: tutorNow.ratingAverage,
    ratingCount: tutorNow.ratingCount,
    directory: ranked.items.map((t) => `${t.displayName} ${t.ratingAverage}`),
  });
  const reviews = await c.ok<{ items: { studentName: string; rating: number; comment: string }[] }>(
    `/v1/tutors/${tutorProfileId}/reviews`,
  );
  const notes = await c.ok<{ items: { type: string; data: unknown }[] }>("/v1/notifications", {
    token: tutor.accessToken,
  });
  step("Anyone reads the tutor's reviews (first names only); the tutor was notified", {
    reviews: reviews.items,
    tutorNotification: notes.items.find((n) => n.type === "review_received")?.data,
  });
}
