/**
 * The `video.create_room` job: creates the Agora App Builder room of a booked session and stores its
 * channel and passphrases. Retried with backoff on provider failures; never touches the booking.
 */
import { and, eq, isNull, ne } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import { sessions } from "../../db/schema";
import { agoraConfigured, createChannel } from "../../providers/agora";
import { enqueueMany } from "../../queues/enqueue";
import type { QueueMessage } from "../../queues/messages";

export async function createRoomJob(svc: ServiceContext, m: Extract<QueueMessage, { type: "video.create_room" }>) {
  const session = await svc.db.query.sessions.findFirst({ where: eq(sessions.id, m.sessionId) });
  if (!session || session.agoraChannelName || session.status === "cancelled" || session.status === "completed") return;
  if (!agoraConfigured(svc.config)) {
    console.log(
      JSON.stringify({ level: "warn", msg: "video room skipped: Agora not configured", sessionId: session.id }),
    );
    return;
  }
  const room = await createChannel(svc.config, `tutorloop-${session.id}`);
  await svc.db
    .update(sessions)
    .set({
      agoraChannelName: room.channel,
      agoraHostPassPhrase: room.host_pass_phrase,
      agoraViewerPassPhrase: room.viewer_pass_phrase,
      videoSessionUrl: `${svc.config.SESSIONS_APP_URL.replace(/\/+$/, "")}/${room.viewer_pass_phrase}`,
      updatedAt: svc.clock.now(),
    })
    .where(and(eq(sessions.id, session.id), isNull(sessions.agoraChannelName), ne(sessions.status, "cancelled")));
}

const ROOM_GRACE_MS = 10 * 60 * 1000;

/**
 * Cron: scheduled sessions still without a video room (the job was lost or exhausted its retries)
 * get a new `video.create_room` job. Reads the partial index `sessions_without_room`.
 */
export async function sweepMissingRooms(svc: ServiceContext, now = svc.clock.now()): Promise<number> {
  if (!agoraConfigured(svc.config)) return 0;
  const { results } = await svc.d1
    .prepare(
      "SELECT id, createdAt FROM sessions WHERE agoraChannelName IS NULL AND status = 'scheduled' AND startTime > ? ORDER BY startTime LIMIT 50",
    )
    .bind(now)
    .all<{ id: string; createdAt: number }>();
  const due = results.filter((s) => s.createdAt < now - ROOM_GRACE_MS);
  if (due.length > 0) {
    await enqueueMany(
      svc,
      due.map((s) => ({ type: "video.create_room" as const, sessionId: s.id })),
    );
  }
  return due.length;
}
