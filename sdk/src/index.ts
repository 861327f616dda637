/** The tutorloop API's TypeScript SDK: see sdk/README.md. */
export { type ClientOptions, createClient, idempotencyKey, type TutorloopClient } from "./client.ts";
export type { ItemOf, PagedPath } from "./paginate.ts";
export { type Problem, type ProblemCode, ProblemError, unwrap } from "./problem.ts";
export type { components, operations, paths } from "./schema";
export { verifyWebhook, type WebhookEvent } from "./webhooks.ts";
