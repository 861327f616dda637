/**
 * A consumer of the SDK, compiled with `tsc --strict` (sdk/tsconfig.json, in `npm run typecheck`)
 * and run by e2e/sdk.test.ts against the stack: it books a lesson, pages through the student's
 * sessions and cancels the lesson. The `@ts-expect-error` lines are the proof that the types bite:
 * if a wrong field name or a missing required field ever compiled, tsc would fail on the unused
 * directive.
 */
import { createClient, idempotencyKey, type TutorloopClient, unwrap } from "../src/index.ts";

export interface Lesson {
  tutorProfileId: string;
  subjectId: string;
  startTime: number;
}

export async function bookPageCancel(client: TutorloopClient, lesson: Lesson) {
  const booked = unwrap(
    await client.POST("/v1/sessions", {
      body: { ...lesson, durationMinutes: 60 },
      params: { header: idempotencyKey() },
    }),
  );
  const seen: string[] = [];
  for await (const s of client.paginate("/v1/sessions", { params: { query: { as: "student", limit: 2 } } })) {
    seen.push(s.id);
  }
  const cancelled = unwrap(
    await client.POST("/v1/sessions/{id}/cancel", {
      params: { path: { id: booked.id } },
      body: { reason: "Booked by the SDK's consumer test" },
    }),
  );
  return { booked, seen, cancelled: cancelled.status };
}

/** Never called: only compiled, so that each line below must be a type error. */
export async function typeErrors(client: TutorloopClient, lesson: Lesson) {
  await client.POST("/v1/sessions", {
    // @ts-expect-error a wrong field name: `durationMinute` is not a field of BookSession
    body: { ...lesson, durationMinute: 60 },
  });
  await client.POST("/v1/sessions", {
    // @ts-expect-error a missing required field: `startTime`
    body: { tutorProfileId: lesson.tutorProfileId, subjectId: lesson.subjectId, durationMinutes: 60 },
  });
  // @ts-expect-error a path that is not in the document
  await client.GET("/v1/lessons");
  // @ts-expect-error paginate takes list routes only: one session is not a page
  client.paginate("/v1/sessions/{id}");
  const me = unwrap(await client.GET("/v1/me"));
  // @ts-expect-error the caller has no `password` field
  me.password;
}

export const example = () =>
  createClient({ baseUrl: "http://127.0.0.1:8787", getToken: () => null, onRefresh: async () => null });
