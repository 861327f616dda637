/**
 * The demo's review: the student rates the lesson the tutor just completed; the tutor's average
 * moves in the same step, the directory sorted by rating shows it, the tutor is notified, and the
 * public review shows the student's first name only. Every call goes through the typed SDK.
 */
import { unwrap } from "../sdk/src/index.ts";
import type { Client, Tokens } from "../tools/offline/client.ts";
import { sdkAs } from "./demo-sdk.ts";

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
  const asStudent = sdkAs(c, student);
  const anyone = sdkAs(c);
  const path = { id: sessionId };
  const review = unwrap(
    await asStudent.POST("/v1/sessions/{id}/review", {
      params: { path },
      body: { rating: 5, comment: "Clear, patient, and the homework helped." },
    }),
  );
  step("Student reviewed the completed lesson (5 stars)", review);
  const again = await asStudent.POST("/v1/sessions/{id}/review", { params: { path }, body: { rating: 1 } });
  step(`A second review of the same lesson is refused: ${again.response.status} ${again.error?.code}`);
  const tutorNow = unwrap(await anyone.GET("/v1/tutors/{id}", { params: { path: { id: tutorProfileId } } }));
  const ranked = unwrap(
    await anyone.GET("/v1/tutors", { params: { query: { subject: subjectSlug, sort: "rating", minRating: 4 } } }),
  );
  step("The tutor's rating moved in the same step; the directory sorted by rating, 4 stars and up, lists them", {
    ratingAverage: tutorNow.ratingAverage,
    ratingCount: tutorNow.ratingCount,
    directory: ranked.items.map((t) => `${t.displayName} ${t.ratingAverage}`),
  });
  const reviews = unwrap(await anyone.GET("/v1/tutors/{id}/reviews", { params: { path: { id: tutorProfileId } } }));
  const notes = unwrap(await sdkAs(c, tutor).GET("/v1/notifications"));
  step("Anyone reads the tutor's reviews (first names only); the tutor was notified", {
    reviews: reviews.items,
    tutorNotification: notes.items.find((n) => n.type === "review_received")?.data,
  });
}
