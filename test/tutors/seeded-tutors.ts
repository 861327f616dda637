/** Approved tutors written by SQL, their listing derived by the real statements (many tutors, fast). */
import { drizzle } from "drizzle-orm/d1";
import * as schema from "../../src/db/schema";
import { relistStatements } from "../../src/modules/tutors/listing";
import { env } from "../helpers/api";
import { insertSubject } from "./fixtures";

export interface Profile {
  id: string;
  createdAt: number;
  hourlyCreditsPrice: number;
  ratingSum: number;
  ratingCount: number;
}

/** `n` approved tutors of one new subject, written by SQL with their listing derived by the real statements. */
export async function seedTutors(n: number, tag: string) {
  const subject = await insertSubject(`Sorted ${tag}`);
  const base = Date.now() - 10 * 86_400_000;
  const rows: Profile[] = Array.from({ length: n }, (_, i) => {
    const ratingCount = i % 7 === 0 ? 0 : 1 + (i % 13);
    return {
      id: `tut_${tag}_${String(i).padStart(5, "0")}`,
      // groups of three share a creation time: the id breaks the tie
      createdAt: base + Math.floor(i / 3) * 1000,
      hourlyCreditsPrice: 1 + ((i * 37) % 60),
      ratingCount,
      ratingSum: ratingCount === 0 ? 0 : ratingCount + ((i * 11) % (4 * ratingCount + 1)),
    };
  });
  const db = drizzle(env.DB, { schema });
  for (let i = 0; i < rows.length; i += 50) {
    const chunk = rows.slice(i, i + 50);
    const values = chunk
      .map(
        (r) =>
          `('${r.id}', 'usr_${r.id}', 'Tutor ${r.id}', '', '["${subject.id}"]', ${r.hourlyCreditsPrice}, 'approved', ${r.ratingSum}, ${r.ratingCount}, ${r.createdAt}, ${r.createdAt})`,
      )
      .join(",");
    await env.DB.batch([
      env.DB.prepare(
        `INSERT INTO tutorProfiles (id, userId, displayName, bio, subjects, hourlyCreditsPrice, status, ratingSum, ratingCount, createdAt, updatedAt) VALUES ${values}`,
      ),
      env.DB.prepare(
        `INSERT INTO tutorSubjects (tutorProfileId, subjectId) VALUES ${chunk.map((r) => `('${r.id}', '${subject.id}')`).join(",")}`,
      ),
      ...chunk.flatMap((r) =>
        relistStatements(db, r.id).map((q) => {
          const { sql, params } = q.toSQL();
          return env.DB.prepare(sql).bind(...params);
        }),
      ),
    ]);
  }
  return { subject, rows };
}
