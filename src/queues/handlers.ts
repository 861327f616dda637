/** One handler per message type. Each is idempotent: running it twice changes nothing the second time. */

import { sendEmailJob } from "../email/send";
import type { ServiceContext } from "../http/context";
import type { QueueMessage } from "./messages";

type Handlers = {
  [T in QueueMessage["type"]]: (svc: ServiceContext, m: Extract<QueueMessage, { type: T }>) => Promise<void>;
};

export const jobHandlers: Handlers = {
  "email.send": sendEmailJob,
  "stripe.fulfil": async () => {
    throw new Error("not wired yet");
  },
  "video.create_room": async () => {
    throw new Error("not wired yet");
  },
};
