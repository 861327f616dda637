/**
 * The shapes the page reads from the API. The enums come from the server's own enums module
 * (one source; it imports nothing, so only the arrays reach the bundle); the object shapes
 * are the fields the page uses of the objects docs/api-guide.md describes.
 */
export {
  earningsSources,
  ledgerSources,
  ledgerTypes,
  orderStatuses,
  payoutStatuses,
  sessionStatuses,
  settlementStatuses,
  transcriptionStatuses,
  tutorStatuses,
  userContexts,
  webhookEventTypes,
} from "../../../src/db/schema/enums";

import type {
  LedgerSource,
  LedgerType,
  OrderStatus,
  ReportStatus,
  SessionStatus,
  SettlementStatus,
  TranscriptionStatus,
  TutorStatus,
  UserContext,
  WebhookDeliveryStatus,
  WebhookEventType,
} from "../../../src/db/schema/enums";

export interface User {
  id: string;
  email: string;
  name: string | null;
  context: UserContext;
  studentProfileId: string | null;
  tutorProfileId: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface UserDetail extends User {
  studentProfile: { id: string; displayName: string } | null;
  tutorProfile: {
    id: string;
    displayName: string;
    hourlyCreditsPrice: number;
    status: TutorStatus;
    statusReason: string | null;
  } | null;
  balance: number;
  earningsBalanceCents: number;
  payoutAccount: { accountId: string; payoutsEnabled: boolean; detailsSubmitted: boolean } | null;
  pendingPayoutCents: number;
}

export interface LedgerEntry {
  id: string;
  userId?: string;
  type: LedgerType;
  amount: number;
  balanceAfter: number;
  source: LedgerSource;
  purchaseOrderId: string | null;
  sessionId: string | null;
  description: string | null;
  createdAt: number;
}

export interface EarningsEntry {
  id: string;
  userId?: string;
  type: LedgerType;
  amountCents: number;
  balanceAfterCents: number;
  source: string;
  sessionId: string | null;
  payoutId: string | null;
  description: string | null;
  createdAt: number;
}

export interface Order {
  id: string;
  packId: string;
  status: OrderStatus;
  totalCredits: number;
  totalCents: number;
  currency: string;
  paymentIntentId: string | null;
  refundedCents: number;
  reversedCredits: number;
  disputeStatus: "open" | "won" | "lost" | null;
  createdAt: number;
  completedAt?: number | null;
}

export interface TutorProfile {
  id: string;
  userId?: string;
  displayName: string;
  bio: string | null;
  hourlyCreditsPrice: number;
  status: TutorStatus;
  statusReason: string | null;
  statusChangedAt: number | null;
  subjects?: { id: string; name: string; slug: string }[];
  createdAt: number;
}

export interface Session {
  id: string;
  tutorProfileId: string;
  studentProfileId: string;
  subjectId: string;
  startTime: number;
  endTime: number;
  status: SessionStatus;
  creditsCost: number;
  noShow: "student" | "tutor" | null;
  settlementStatus: SettlementStatus;
  refundedCredits: number;
  tutorEarningsCents: number | null;
  settledAt: number | null;
  cancelledAt?: number | null;
  cancelledBy?: string | null;
  cancellationReason?: string | null;
  seriesId: string | null;
  createdAt: number;
  earnedCredits?: number;
  refunded?: boolean;
  rescheduledAt?: number | null;
  disputedAt?: number | null;
  disputeReason?: string | null;
  updatedAt?: number;
}

export interface SessionParty {
  userId: string;
  displayName: string;
}

/** `GET /v1/admin/sessions/:id`: a session with its people and what exists of its recording and report. */
export interface AdminSession extends Session {
  student: SessionParty | null;
  tutor: SessionParty | null;
  recording: { id: string; transcriptionStatus: TranscriptionStatus; createdAt: number; updatedAt: number } | null;
  report: { id: string; status: ReportStatus; version: number; publishedAt: number | null } | null;
}

/** `GET /v1/admin/sessions/:id/ledger`: what one lesson moved, oldest first. */
export interface SessionLedger {
  credits: LedgerEntry[];
  earnings: EarningsEntry[];
}

export interface Recording {
  id: string;
  sessionId: string;
  transcriptionStatus: TranscriptionStatus;
  transcriptionText?: string | null;
  transcriptionError?: string | null;
  transcriptionMeta?: { confidence: number; language: string };
  createdAt: number;
  updatedAt: number;
}

export interface Report {
  id: string;
  sessionId: string;
  summary: string;
  topicsCovered: string[];
  nextSteps: string[];
  status: ReportStatus;
  version: number;
  editedByTutor: boolean;
  publishedAt: number | null;
  updatedAt: number;
}

export interface Payout {
  id: string;
  userId?: string;
  amountCents: number;
  currency: string;
  status: string;
  stripeTransferId: string | null;
  failureReason: string | null;
  runId?: string;
  createdAt: number;
  updatedAt: number;
}

/** `POST /v1/admin/payouts/run` → 202. */
export interface PayoutRun {
  runId: string;
  payouts: number;
  continuing?: boolean;
}

export interface DeadLetter {
  id: string;
  messageId: string;
  queue: string;
  type: string | null;
  body: string;
  attempts: number;
  createdAt: number;
  replayedAt: number | null;
  replayCount: number;
}

export interface AuditEntry {
  id: string;
  actorUserId: string;
  action: string;
  targetType: string;
  targetId: string;
  details: Record<string, unknown> | null;
  requestId: string | null;
  createdAt: number;
}

export interface CreditsSold {
  timezone: string;
  from: number;
  to: number;
  days: { date: string; orders: number; credits: number }[];
  totals: { orders: number; credits: number; amounts: { currency: string; cents: number }[] };
}

export interface PayoutDue {
  userId: string;
  /** Null for an account without a tutor profile (the run pays by earnings balance, not by profile). */
  tutorProfileId: string | null;
  displayName: string | null;
  balanceCents: number;
  currency: string;
}

/** `GET /v1/admin/payouts/due`: a page of tutors the next run would pay, and the run's minimum. */
export interface PayoutsDue {
  items: PayoutDue[];
  nextCursor: string | null;
  minimumCents: number;
}

/** An outgoing webhook endpoint (`/v1/admin/webhook-endpoints`); its secret is only in `WebhookEndpointCreated`. */
export interface WebhookEndpoint {
  id: string;
  url: string;
  /** Event types, or `["*"]` for all of them. */
  events: string[];
  description: string | null;
  enabled: boolean;
  /** When it was disabled (automatically after failing for 5 days, or by an admin). */
  disabledAt: number | null;
  /** The first failed attempt since the last delivered one; null while healthy. */
  failingSince: number | null;
  createdAt: number;
  updatedAt: number;
}

/** `POST /v1/admin/webhook-endpoints` → 201: the only answer with the signing secret (besides rotation). */
export interface WebhookEndpointCreated extends WebhookEndpoint {
  secret: string;
}

export interface WebhookDelivery {
  id: string;
  /** The event's id: the `webhook-id` header of every attempt. */
  eventId: string;
  eventType: WebhookEventType;
  status: WebhookDeliveryStatus;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastResponseBody: string | null;
  nextAttemptAt: number | null;
  deliveredAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/** `POST /v1/admin/webhook-endpoints/:id/rotate-secret`: the new secret, shown only here. */
export interface RotatedSecret {
  secret: string;
  /** Until when deliveries are also signed with the previous secret (24 hours). */
  previousSecretExpiresAt: number;
}
