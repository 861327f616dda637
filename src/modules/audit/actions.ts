/**
 * The admin audit log's vocabulary: every action it records, by its stable name, with the kind of
 * thing it acts on (the row's `targetType`). Names are part of the API (clients filter and display
 * them): add new ones, never rename or remove one — old rows keep their names forever.
 */
export const AUDIT_ACTIONS = {
  /** POST /v1/admin/credits/adjustments; target: the user whose ledger moved. */
  "credits.adjust": "user",
  /** POST /v1/admin/credits/orders/:id/refund (the reversal, before Stripe is asked); target: the order. */
  "order.refund": "order",
  /** Stripe refused that refund and the credits were reinstated (actor `system`); target: the order. */
  "order.refund_undone": "order",
  /** POST /v1/admin/dead-letters/:id/replay; target: the dead letter. */
  "dead_letter.replay": "dead_letter",
  /** POST /v1/admin/recordings/:id/retry; target: the recording. */
  "recording.retry": "recording",
  /** POST /v1/sessions/:id/cancel by an admin (always a full refund); target: the session. */
  "session.cancel": "session",
  /** POST /v1/sessions/:id/complete by an admin; target: the session. */
  "session.complete": "session",
  /** POST /v1/sessions/:id/reschedule by an admin (not the session's student); target: the session. */
  "session.reschedule": "session",
  /** POST /v1/admin/sessions/:id/resolve (a dispute or an open completed lesson split); target: the session. */
  "session.resolve": "session",
  /** POST /v1/sessions/:id/no-show by an admin (not a participant); target: the session. */
  "session.no_show": "session",
  /** POST /v1/admin/payouts/run; target: the payout run (its payouts carry its id as `runId`). */
  "payout.run": "payout_run",
  /** POST /v1/admin/tutors/:id/status (an actual change, not a repeat); target: the tutor profile. */
  "tutor.status": "tutor_profile",
  /** POST /v1/admin/subjects; target: the new subject. */
  "subject.create": "subject",
  /** POST /v1/admin/webhook-endpoints (the secret is never recorded); target: the endpoint. */
  "webhook_endpoint.create": "webhook_endpoint",
  /** PATCH /v1/admin/webhook-endpoints/:id (the fields sent); target: the endpoint. */
  "webhook_endpoint.update": "webhook_endpoint",
  /** DELETE /v1/admin/webhook-endpoints/:id; target: the endpoint. */
  "webhook_endpoint.delete": "webhook_endpoint",
  /** POST /v1/admin/webhook-endpoints/:id/rotate-secret; target: the endpoint. */
  "webhook_endpoint.rotate_secret": "webhook_endpoint",
  /** Disabled after 5 days of failed deliveries (actor `system`); target: the endpoint. */
  "webhook_endpoint.auto_disable": "webhook_endpoint",
  /** POST /v1/admin/webhook-deliveries/:id/retry; target: the delivery. */
  "webhook_delivery.retry": "webhook_delivery",
} as const;

export type AuditAction = keyof typeof AUDIT_ACTIONS;
export type AuditTargetType = (typeof AUDIT_ACTIONS)[AuditAction];

export const auditActions = Object.keys(AUDIT_ACTIONS) as [AuditAction, ...AuditAction[]];
export const auditTargetTypes = [...new Set(Object.values(AUDIT_ACTIONS))] as [AuditTargetType, ...AuditTargetType[]];

/**
 * The actor of what the platform does on its own as the consequence of an admin action (undoing a
 * refund Stripe refused). Never a user id (those start with `usr_`), so `?actorId=system` finds them.
 */
export const SYSTEM_ACTOR = "system";
