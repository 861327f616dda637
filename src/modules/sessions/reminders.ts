/**
 * Cron: reminders 24 h and 1 h before each scheduled session, exactly once each. The session's
 * `reminder24hSentAt` / `reminder1hSentAt` is claimed with a conditional update in the same batch as
 * the notifications (whose dedupe keys also make them once-only), so a late or doubled cron run
 * sends nothing twice. A session booked less than 24 h ahead gets only the reminders still ahead.
 * A reschedule clears both claims in its own write and the keys carry the start time, so a moved
 * session is reminded again for its new time.
 */

import type { ServiceContext } from "../../context";
import { templates } from "../../email/templates";
import { newId } from "../../lib/crypto";
import { enqueueMany } from "../../queues/enqueue";
import type { QueueMessage } from "../../queues/messages";
import { insertNotification } from "../notifications/store";

const HOUR_MS = 60 * 60 * 1000;
const BATCH = 50;

interface Due {
  id: string;
  startTime: number;
  studentUserId: string;
  studentEmail: string;
  tutorUserId: string;
  tutorEmail: string;
}

const windows = [
  { name: "24h", column: "reminder24hSentAt", hours: 24, lower: 1 },
  { name: "1h", column: "reminder1hSentAt", hours: 1, lower: 0 },
] as const;

export async function sendReminders(svc: ServiceContext, now = svc.clock.now()): Promise<number> {
  let sent = 0;
  for (const w of windows) {
    const { results } = await svc.d1
      .prepare(
        `SELECT s.id, s.startTime, sp.userId AS studentUserId, su.email AS studentEmail, tp.userId AS tutorUserId, tu.email AS tutorEmail
FROM sessions s
JOIN studentProfiles sp ON sp.id = s.studentProfileId JOIN users su ON su.id = sp.userId
JOIN tutorProfiles tp ON tp.id = s.tutorProfileId JOIN users tu ON tu.id = tp.userId
WHERE s.status = 'scheduled' AND s.startTime > ? AND s.startTime <= ? AND s.${w.column} IS NULL
ORDER BY s.startTime LIMIT ${BATCH}`,
      )
      .bind(now + w.lower * HOUR_MS, now + w.hours * HOUR_MS)
      .all<Due>();
    for (const s of results) {
      const claim = { sql: `EXISTS (SELECT 1 FROM sessions WHERE id = ? AND ${w.column} = ?)`, binds: [s.id, now] };
      const out = await svc.d1.batch([
        svc.d1.prepare(`UPDATE sessions SET ${w.column} = ? WHERE id = ? AND ${w.column} IS NULL`).bind(now, s.id),
        ...[s.studentUserId, s.tutorUserId].map((userId) =>
          insertNotification(
            svc.d1,
            {
              id: newId("ntf"),
              userId,
              type: "session_reminder",
              data: { sessionId: s.id, startTime: s.startTime, before: w.name },
              dedupeKey: `reminder${w.name}:${s.id}:${s.startTime}:${userId}`,
              createdAt: now,
            },
            claim,
          ),
        ),
      ]);
      if ((out[0]?.meta.changes ?? 0) === 0) continue;
      sent++;
      const hours = Math.max(1, Math.round((s.startTime - now) / HOUR_MS));
      const when = new Date(s.startTime).toISOString().replace("T", " ").slice(0, 16);
      const jobs: QueueMessage[] = [
        { userId: s.studentUserId, to: s.studentEmail },
        { userId: s.tutorUserId, to: s.tutorEmail },
      ].map((r) => ({
        type: "email.send",
        to: r.to,
        idempotencyKey: `reminder${w.name}:${s.id}:${s.startTime}:${r.userId}`,
        ...templates.sessionReminder(when, hours),
      }));
      await enqueueMany(svc, jobs);
    }
  }
  return sent;
}
