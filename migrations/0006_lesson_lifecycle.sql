-- Lesson lifecycle (no-shows, disputes, automatic settlement) and the tutors' earnings ledger.
-- Rebuilds `sessions` (SQLite cannot add a CHECK): every row is copied; a session cancelled with a
-- refund is `refunded` (its credits went back), every other one starts `open` and the settlement
-- sweep settles it (a late cancellation at once, a completed lesson after the hold).
-- Triggers (appended by hand): the earnings ledger is append-only and chained like the credit
-- ledger; a session's split is final once settled; its entries and its settlement exist together.
CREATE TABLE `earningsLedger` (
	`id` text PRIMARY KEY NOT NULL,
	`userId` text NOT NULL,
	`seq` integer NOT NULL,
	`type` text NOT NULL,
	`amountCents` integer NOT NULL,
	`balanceAfterCents` integer NOT NULL,
	`currency` text NOT NULL,
	`source` text NOT NULL,
	`sessionId` text,
	`payoutId` text,
	`description` text NOT NULL,
	`idempotencyKey` text NOT NULL,
	`createdAt` integer NOT NULL,
	CONSTRAINT "earningsLedger_amount_positive" CHECK("earningsLedger"."amountCents" > 0),
	CONSTRAINT "earningsLedger_balance_non_negative" CHECK("earningsLedger"."balanceAfterCents" >= 0),
	CONSTRAINT "earningsLedger_seq_positive" CHECK("earningsLedger"."seq" >= 1),
	CONSTRAINT "earningsLedger_type" CHECK("earningsLedger"."type" IN ('credit', 'debit')),
	CONSTRAINT "earningsLedger_source" CHECK("source" IN ('session_earning', 'payout', 'payout_reversal', 'manual_adjustment')),
	CONSTRAINT "earningsLedger_source_shape" CHECK(("earningsLedger"."source" != 'session_earning' OR ("earningsLedger"."type" = 'credit' AND "earningsLedger"."sessionId" IS NOT NULL))
        AND ("earningsLedger"."source" != 'payout' OR ("earningsLedger"."type" = 'debit' AND "earningsLedger"."payoutId" IS NOT NULL))
        AND ("earningsLedger"."source" != 'payout_reversal' OR ("earningsLedger"."type" = 'credit' AND "earningsLedger"."payoutId" IS NOT NULL)))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `earningsLedger_by_user_and_seq` ON `earningsLedger` (`userId`,`seq`);--> statement-breakpoint
CREATE UNIQUE INDEX `earningsLedger_by_idempotencyKey` ON `earningsLedger` (`idempotencyKey`);--> statement-breakpoint
CREATE UNIQUE INDEX `earningsLedger_one_earning_per_session` ON `earningsLedger` (`sessionId`) WHERE "earningsLedger"."source" = 'session_earning';--> statement-breakpoint
CREATE INDEX `earningsLedger_by_payout` ON `earningsLedger` (`payoutId`);--> statement-breakpoint
CREATE INDEX `earningsLedger_by_createdAt` ON `earningsLedger` (`createdAt`,`source`);--> statement-breakpoint
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`tutorProfileId` text NOT NULL,
	`studentProfileId` text NOT NULL,
	`subjectId` text,
	`startTime` integer NOT NULL,
	`endTime` integer NOT NULL,
	`status` text NOT NULL,
	`creditsCost` integer NOT NULL,
	`agoraChannelName` text,
	`agoraHostPassPhrase` text,
	`agoraViewerPassPhrase` text,
	`videoSessionUrl` text,
	`cancelledAt` integer,
	`cancelledBy` text,
	`cancellationReason` text,
	`refunded` integer DEFAULT false NOT NULL,
	`reminder24hSentAt` integer,
	`reminder1hSentAt` integer,
	`rescheduledAt` integer,
	`noShow` text,
	`settlementStatus` text DEFAULT 'open' NOT NULL,
	`refundedCredits` integer DEFAULT 0 NOT NULL,
	`earnedCredits` integer DEFAULT 0 NOT NULL,
	`tutorEarningsCents` integer DEFAULT 0 NOT NULL,
	`settledAt` integer,
	`disputedAt` integer,
	`disputeReason` text,
	`transitionId` text,
	`createdAt` integer NOT NULL,
	`updatedAt` integer NOT NULL,
	CONSTRAINT "sessions_time_order" CHECK("__new_sessions"."endTime" > "__new_sessions"."startTime"),
	CONSTRAINT "sessions_cost_positive" CHECK("__new_sessions"."creditsCost" > 0),
	CONSTRAINT "sessions_status" CHECK("status" IN ('scheduled', 'in_progress', 'completed', 'cancelled')),
	CONSTRAINT "sessions_cancelled_by" CHECK("cancelledBy" IS NULL OR "cancelledBy" IN ('student', 'tutor', 'admin', 'system')),
	CONSTRAINT "sessions_no_show" CHECK("__new_sessions"."noShow" IS NULL OR "__new_sessions"."noShow" IN ('student', 'tutor')),
	CONSTRAINT "sessions_settlement_split" CHECK("__new_sessions"."refundedCredits" >= 0 AND "__new_sessions"."earnedCredits" >= 0 AND "__new_sessions"."refundedCredits" + "__new_sessions"."earnedCredits" <= "__new_sessions"."creditsCost"
        AND "__new_sessions"."tutorEarningsCents" >= 0 AND ("__new_sessions"."earnedCredits" = 0) = ("__new_sessions"."tutorEarningsCents" = 0)
        AND "__new_sessions"."refunded" = ("__new_sessions"."refundedCredits" > 0)),
	CONSTRAINT "sessions_settlement_state" CHECK(("__new_sessions"."settlementStatus" IN ('open', 'disputed') AND "__new_sessions"."refundedCredits" = 0 AND "__new_sessions"."earnedCredits" = 0 AND "__new_sessions"."settledAt" IS NULL)
        OR ("__new_sessions"."settlementStatus" = 'settled' AND "__new_sessions"."earnedCredits" > 0 AND "__new_sessions"."refundedCredits" + "__new_sessions"."earnedCredits" = "__new_sessions"."creditsCost" AND "__new_sessions"."settledAt" IS NOT NULL)
        OR ("__new_sessions"."settlementStatus" = 'refunded' AND "__new_sessions"."refundedCredits" = "__new_sessions"."creditsCost" AND "__new_sessions"."settledAt" IS NOT NULL)),
	CONSTRAINT "sessions_disputed_completed" CHECK("__new_sessions"."settlementStatus" != 'disputed' OR "__new_sessions"."status" = 'completed')
);
--> statement-breakpoint
INSERT INTO `__new_sessions`("id", "tutorProfileId", "studentProfileId", "subjectId", "startTime", "endTime", "status", "creditsCost", "agoraChannelName", "agoraHostPassPhrase", "agoraViewerPassPhrase", "videoSessionUrl", "cancelledAt", "cancelledBy", "cancellationReason", "refunded", "reminder24hSentAt", "reminder1hSentAt", "rescheduledAt", "settlementStatus", "refundedCredits", "settledAt", "createdAt", "updatedAt")
SELECT "id", "tutorProfileId", "studentProfileId", "subjectId", "startTime", "endTime", "status", "creditsCost", "agoraChannelName", "agoraHostPassPhrase", "agoraViewerPassPhrase", "videoSessionUrl", "cancelledAt", "cancelledBy", "cancellationReason", "refunded", "reminder24hSentAt", "reminder1hSentAt", "rescheduledAt",
  CASE WHEN "status" = 'cancelled' AND "refunded" = 1 THEN 'refunded' ELSE 'open' END,
  CASE WHEN "status" = 'cancelled' AND "refunded" = 1 THEN "creditsCost" ELSE 0 END,
  CASE WHEN "status" = 'cancelled' AND "refunded" = 1 THEN COALESCE("cancelledAt", "updatedAt") END,
  "createdAt", "updatedAt" FROM `sessions`;--> statement-breakpoint
DROP TABLE `sessions`;--> statement-breakpoint
ALTER TABLE `__new_sessions` RENAME TO `sessions`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `sessions_by_tutor_and_time` ON `sessions` (`tutorProfileId`,`startTime`,`id`);--> statement-breakpoint
CREATE INDEX `sessions_by_student_and_time` ON `sessions` (`studentProfileId`,`startTime`,`id`);--> statement-breakpoint
CREATE INDEX `sessions_by_status_and_time` ON `sessions` (`status`,`startTime`,`id`);--> statement-breakpoint
CREATE INDEX `sessions_by_time` ON `sessions` (`startTime`,`id`);--> statement-breakpoint
CREATE INDEX `sessions_without_room` ON `sessions` (`startTime`) WHERE "sessions"."agoraChannelName" IS NULL AND "sessions"."status" = 'scheduled';--> statement-breakpoint
CREATE INDEX `sessions_in_progress_by_end` ON `sessions` (`endTime`,`id`) WHERE "sessions"."status" = 'in_progress';--> statement-breakpoint
CREATE INDEX `sessions_scheduled_by_end` ON `sessions` (`endTime`,`id`) WHERE "sessions"."status" = 'scheduled';--> statement-breakpoint
CREATE INDEX `sessions_unsettled_by_end` ON `sessions` (`status`,`endTime`,`id`) WHERE "sessions"."settlementStatus" = 'open' AND "sessions"."status" IN ('completed', 'cancelled');--> statement-breakpoint
CREATE INDEX `sessions_by_settlement_and_time` ON `sessions` (`settlementStatus`,`startTime`,`id`);--> statement-breakpoint
CREATE INDEX `sessions_by_settledAt` ON `sessions` (`settledAt`);--> statement-breakpoint
CREATE INDEX `sessions_held_by_tutor` ON `sessions` (`tutorProfileId`,`startTime`) WHERE "sessions"."settlementStatus" IN ('open', 'disputed');--> statement-breakpoint
CREATE TRIGGER `earningsLedger_no_update` BEFORE UPDATE ON `earningsLedger`
BEGIN
	SELECT RAISE(ABORT, 'earnings_append_only');
END;
--> statement-breakpoint
CREATE TRIGGER `earningsLedger_no_delete` BEFORE DELETE ON `earningsLedger`
BEGIN
	SELECT RAISE(ABORT, 'earnings_append_only');
END;
--> statement-breakpoint
CREATE TRIGGER `earningsLedger_chain` BEFORE INSERT ON `earningsLedger`
BEGIN
	SELECT RAISE(ABORT, 'earnings_chain_broken')
	WHERE NEW.`seq` != COALESCE((SELECT `seq` FROM `earningsLedger` WHERE `userId` = NEW.`userId` ORDER BY `seq` DESC LIMIT 1), 0) + 1
	   OR NEW.`balanceAfterCents` != COALESCE((SELECT `balanceAfterCents` FROM `earningsLedger` WHERE `userId` = NEW.`userId` ORDER BY `seq` DESC LIMIT 1), 0)
	      + CASE WHEN NEW.`type` = 'credit' THEN NEW.`amountCents` ELSE -NEW.`amountCents` END;
END;
--> statement-breakpoint
CREATE TRIGGER `earningsLedger_no_replace` BEFORE INSERT ON `earningsLedger`
BEGIN
	SELECT RAISE(ABORT, 'earnings_append_only')
	WHERE EXISTS (SELECT 1 FROM `earningsLedger` WHERE `idempotencyKey` = NEW.`idempotencyKey`)
	   OR EXISTS (SELECT 1 FROM `earningsLedger` WHERE `userId` = NEW.`userId` AND `seq` = NEW.`seq`)
	   OR EXISTS (SELECT 1 FROM `earningsLedger` WHERE `id` = NEW.`id`);
	SELECT RAISE(ABORT, 'earnings_not_integer')
	WHERE typeof(NEW.`amountCents`) != 'integer' OR typeof(NEW.`balanceAfterCents`) != 'integer' OR typeof(NEW.`seq`) != 'integer';
END;
--> statement-breakpoint
CREATE TRIGGER `earningsLedger_earning_needs_open_session` BEFORE INSERT ON `earningsLedger`
WHEN NEW.`source` = 'session_earning'
BEGIN
	SELECT RAISE(ABORT, 'earning_without_open_session')
	WHERE NOT EXISTS (SELECT 1 FROM `sessions` WHERE `id` = NEW.`sessionId` AND `settlementStatus` IN ('open', 'disputed'));
END;
--> statement-breakpoint
CREATE TRIGGER `creditsLedger_refund_needs_open_session` BEFORE INSERT ON `creditsLedger`
WHEN NEW.`source` = 'session_refund'
BEGIN
	SELECT RAISE(ABORT, 'refund_without_open_session')
	WHERE NOT EXISTS (SELECT 1 FROM `sessions` WHERE `id` = NEW.`sessionId` AND `settlementStatus` IN ('open', 'disputed'));
END;
--> statement-breakpoint
CREATE TRIGGER `sessions_settlement_final` BEFORE UPDATE ON `sessions`
WHEN OLD.`settlementStatus` IN ('settled', 'refunded')
BEGIN
	SELECT RAISE(ABORT, 'session_settlement_final')
	WHERE NEW.`settlementStatus` != OLD.`settlementStatus` OR NEW.`refundedCredits` != OLD.`refundedCredits`
	   OR NEW.`earnedCredits` != OLD.`earnedCredits` OR NEW.`tutorEarningsCents` != OLD.`tutorEarningsCents`
	   OR NEW.`settledAt` IS NOT OLD.`settledAt`;
END;
--> statement-breakpoint
CREATE TRIGGER `sessions_cost_fixed` BEFORE UPDATE OF `creditsCost` ON `sessions`
BEGIN
	SELECT RAISE(ABORT, 'session_cost_fixed') WHERE NEW.`creditsCost` != OLD.`creditsCost`;
END;
--> statement-breakpoint
CREATE TRIGGER `sessions_settled_with_entries` AFTER UPDATE OF `settlementStatus` ON `sessions`
WHEN NEW.`settlementStatus` IN ('settled', 'refunded') AND OLD.`settlementStatus` IN ('open', 'disputed')
BEGIN
	SELECT RAISE(ABORT, 'settlement_without_entries')
	WHERE (NEW.`refundedCredits` > 0 AND NOT EXISTS (SELECT 1 FROM `creditsLedger` WHERE `sessionId` = NEW.`id` AND `source` = 'session_refund' AND `amount` = NEW.`refundedCredits`))
	   OR (NEW.`earnedCredits` > 0 AND NOT EXISTS (SELECT 1 FROM `earningsLedger` WHERE `sessionId` = NEW.`id` AND `source` = 'session_earning' AND `amountCents` = NEW.`tutorEarningsCents`));
END;
