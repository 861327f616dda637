/**
 * The `video.create_room` job: creates the Agora App Builder room of a booked session and stores its
 * channel and passphrases. Retried with backoff on provider failures; never touches the booking.
 */
import { and, eq, isNull, ne } from "drizzle-orm";
import { sessions } from "../../db/schema";
import type { ServiceContext } from "../../http/context";
import { agoraConfigured, createChannel } from "../../providers/agora";
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
      updatedAt: Date.now(),
    })
    .where(and(eq(sessions.id, session.id), isNull(sessions.agoraChannelName), ne(sessions.status, "cancelled")));
}
