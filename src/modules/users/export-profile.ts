/**
 * The export's profile sections: the tutor profile with what the tutor set up around it (subjects,
 * weekly hours, booking rules, every time off) and the scheduling rows about the user (the weekly
 * series they booked; when their calendar feed was made and rotated — never its token or nonce).
 */
import { asc, eq } from "drizzle-orm";
import type { Db } from "../../db/client";
import {
  calendarFeeds,
  sessionSeries,
  subjects,
  tutorAvailability,
  tutorBookingRules,
  tutorProfiles,
  tutorSubjects,
  tutorTimeOff,
} from "../../db/schema";

export async function tutorProfileOf(db: Db, userId: string) {
  const profile = await db.query.tutorProfiles.findFirst({ where: eq(tutorProfiles.userId, userId) });
  if (!profile) return null;
  const [taught, availability, rules, timeOff] = await db.batch([
    db
      .select({ id: subjects.id, name: subjects.name, slug: subjects.slug })
      .from(tutorSubjects)
      .innerJoin(subjects, eq(subjects.id, tutorSubjects.subjectId))
      .where(eq(tutorSubjects.tutorProfileId, profile.id)),
    db
      .select()
      .from(tutorAvailability)
      .where(eq(tutorAvailability.tutorProfileId, profile.id))
      .orderBy(asc(tutorAvailability.weekday), asc(tutorAvailability.start)),
    db.select().from(tutorBookingRules).where(eq(tutorBookingRules.tutorProfileId, profile.id)),
    db
      .select()
      .from(tutorTimeOff)
      .where(eq(tutorTimeOff.tutorProfileId, profile.id))
      .orderBy(asc(tutorTimeOff.startTime), asc(tutorTimeOff.id)),
  ]);
  return { ...profile, subjectRefs: taught, availability, bookingRules: rules[0] ?? null, timeOff };
}

export async function schedulingOf(db: Db, userId: string, studentProfileId: string | null) {
  const [series, feeds] = await db.batch([
    db
      .select()
      .from(sessionSeries)
      .where(eq(sessionSeries.studentProfileId, studentProfileId ?? ""))
      .orderBy(asc(sessionSeries.createdAt)),
    db
      .select({ createdAt: calendarFeeds.createdAt, rotatedAt: calendarFeeds.rotatedAt })
      .from(calendarFeeds)
      .where(eq(calendarFeeds.userId, userId)),
  ]);
  return { series, calendarFeed: feeds[0] ?? null };
}
