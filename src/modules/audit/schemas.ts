import { pageOf, pageQuery, z } from "../../http/openapi";
import { auditActions, auditTargetTypes } from "./actions";

const id = z.string().min(1).max(100);

export const auditLogQuery = z.object({
  ...pageQuery,
  actorId: id.optional().openapi({ description: "Only this admin's actions (`system` for the platform's own)" }),
  targetId: id
    .optional()
    .openapi({ description: "Only actions on this user, order, dead letter, recording, subject or tutor profile" }),
});

export const auditLogEntrySchema = z
  .object({
    id: z.string(),
    actorUserId: z.string(),
    action: z.enum(auditActions),
    targetType: z.enum(auditTargetTypes),
    targetId: z.string(),
    details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
    requestId: z.string().nullable(),
    createdAt: z.number().int(),
  })
  .openapi("AuditLogEntry");

export const auditLogPage = pageOf(auditLogEntrySchema).openapi("AuditLogPage");

export type AuditLogQuery = z.infer<typeof auditLogQuery>;
