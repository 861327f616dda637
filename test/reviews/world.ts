/** Completed lessons to review: a tutor (approved, in its own subject) and sessions written as they end. */
import { call, createUser, env, json, type TestUser, tokenFor } from "../helpers/api";
import { createSubject, createTutor, DAY, HOUR, type Tutor } from "../sessions/helpers";

export interface Lesson {
  id: string;
  student: TestUser;
}

/** A session of `tutor` with `student` that ended `endedAgoMs` ago, in `status` (completed by default). */
export async function pastLesson(
  tutor: Tutor,
  student: TestUser,
  o: { endedAgoMs?: number; status?: string; noShow?: "student" | "tutor" | null } = {},
): Promise<Lesson> {
  const id = `ses_${crypto.randomUUID()}`;
  const end = Date.now() - (o.endedAgoMs ?? HOUR);
  await env.DB.prepare(
    `INSERT INTO sessions (id, tutorProfileId, studentProfileId, subjectId, startTime, endTime, status, creditsCost, noShow, createdAt, updatedAt)
     VALUES (?, ?, ?, NULL, ?, ?, ?, 2, ?, ?, ?)`,
  )
    .bind(
      id,
      tutor.tutorProfileId,
      student.studentProfileId,
      end - HOUR,
      end,
      o.status ?? "completed",
      o.noShow ?? null,
      end - DAY,
      end,
    )
    .run();
  return { id, student };
}

export async function reviewWorld() {
  const subject = await createSubject();
  const tutor = await createTutor(subject.id);
  return { subject, tutor };
}

/** A student whose display name is `name` (the public review shows its first word). */
export async function namedStudent(name: string): Promise<TestUser> {
  const student = await createUser("student");
  await env.DB.prepare("UPDATE studentProfiles SET displayName = ? WHERE id = ?")
    .bind(name, student.studentProfileId)
    .run();
  return student;
}

export const review = (lesson: Lesson, body: unknown, token = lesson.student.token) =>
  call(`/v1/sessions/${lesson.id}/review`, { token, body });

export async function tutorOf(id: string) {
  return json<{ ratingAverage: number | null; ratingCount: number }>(await call(`/v1/tutors/${id}`));
}

export { tokenFor };
