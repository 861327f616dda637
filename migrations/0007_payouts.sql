-- Tutor payouts with Stripe Connect: one Express account per tutor, payout runs (the cron at most
-- once per UTC day), and payouts, each one Stripe Transfer of a tutor's whole available balance.
-- Triggers (appended by hand) bind a payout to its earnings entries: its `payout` debit matches it
-- (tutor, amount) while it is pending; a `payout_reversal` matches a debited payout that is not yet
-- failed; a payout is born `pending`; `paid` needs the debit; `failed` needs the reversal; `failed` is final; a payout's money
-- fields never change; payouts are never deleted.
CREATE TABLE `payoutAccounts` (
	`userId` text PRIMARY KEY NOT NULL,
	`stripeAccountId` text NOT NULL,
	`payoutsEnabled` integer DEFAULT false NOT NULL,
	`detailsSubmitted` integer DEFAULT false NOT NULL,
	`stateAsOf` integer DEFAULT 0 NOT NULL,
	`createdAt` integer NOT NULL,
	`updatedAt` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `payoutAccounts_by_stripeAccountId` ON `payoutAccounts` (`stripeAccountId`);--> statement-breakpoint
CREATE INDEX `payoutAccounts_enabled_by_user` ON `payoutAccounts` (`userId`) WHERE "payoutAccounts"."payoutsEnabled" = 1;--> statement-breakpoint
CREATE TABLE `payoutRuns` (
	`id` text PRIMARY KEY NOT NULL,
	`trigger` text NOT NULL,
	`actorUserId` text,
	`cronDay` text,
	`createdAt` integer NOT NULL,
	CONSTRAINT "payoutRuns_trigger" CHECK("trigger" IN ('admin', 'cron')),
	CONSTRAINT "payoutRuns_trigger_shape" CHECK(("payoutRuns"."trigger" = 'cron') = ("payoutRuns"."cronDay" IS NOT NULL) AND ("payoutRuns"."trigger" != 'admin' OR "payoutRuns"."actorUserId" IS NOT NULL))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `payoutRuns_one_cron_run_per_day` ON `payoutRuns` (`cronDay`);--> statement-breakpoint
CREATE INDEX `payoutRuns_by_createdAt` ON `payoutRuns` (`createdAt`);--> statement-breakpoint
CREATE TABLE `payouts` (
	`id` text PRIMARY KEY NOT NULL,
	`userId` text NOT NULL,
	`runId` text NOT NULL,
	`amountCents` integer NOT NULL,
	`currency` text NOT NULL,
	`stripeAccountId` text NOT NULL,
	`status` text NOT NULL,
	`stripeTransferId` text,
	`failureReason` text,
	`attemptedAt` integer,
	`createdAt` integer NOT NULL,
	`updatedAt` integer NOT NULL,
	CONSTRAINT "payouts_amount_positive" CHECK("payouts"."amountCents" > 0),
	CONSTRAINT "payouts_status" CHECK("status" IN ('pending', 'paid', 'failed')),
	CONSTRAINT "payouts_status_shape" CHECK(("payouts"."status" != 'paid' OR "payouts"."stripeTransferId" IS NOT NULL) AND ("payouts"."status" != 'failed' OR "payouts"."failureReason" IS NOT NULL))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `payouts_one_per_run_and_user` ON `payouts` (`runId`,`userId`);--> statement-breakpoint
CREATE UNIQUE INDEX `payouts_one_pending_per_user` ON `payouts` (`userId`) WHERE "payouts"."status" = 'pending';--> statement-breakpoint
CREATE UNIQUE INDEX `payouts_by_stripeTransferId` ON `payouts` (`stripeTransferId`);--> statement-breakpoint
CREATE INDEX `payouts_by_user_and_time` ON `payouts` (`userId`,`createdAt`,`id`);--> statement-breakpoint
CREATE INDEX `payouts_by_status_and_time` ON `payouts` (`status`,`createdAt`,`id`);--> statement-breakpoint
CREATE INDEX `payouts_by_time` ON `payouts` (`createdAt`,`id`);--> statement-breakpoint
CREATE INDEX `payouts_unattempted_by_time` ON `payouts` (`createdAt`) WHERE "payouts"."status" = 'pending' AND "payouts"."attemptedAt" IS NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `earningsLedger_one_debit_per_payout` ON `earningsLedger` (`payoutId`) WHERE "earningsLedger"."source" = 'payout';--> statement-breakpoint
CREATE UNIQUE INDEX `earningsLedger_one_reversal_per_payout` ON `earningsLedger` (`payoutId`) WHERE "earningsLedger"."source" = 'payout_reversal';--> statement-breakpoint
CREATE TRIGGER `earningsLedger_payout_matches` BEFORE INSERT ON `earningsLedger`
WHEN NEW.`source` = 'payout'
BEGIN
	SELECT RAISE(ABORT, 'payout_debit_mismatch')
	WHERE NOT EXISTS (SELECT 1 FROM `payouts` WHERE `id` = NEW.`payoutId` AND `userId` = NEW.`userId`
	  AND `amountCents` = NEW.`amountCents` AND `currency` = NEW.`currency` AND `status` = 'pending');
END;
--> statement-breakpoint
CREATE TRIGGER `earningsLedger_reversal_matches` BEFORE INSERT ON `earningsLedger`
WHEN NEW.`source` = 'payout_reversal'
BEGIN
	SELECT RAISE(ABORT, 'payout_reversal_mismatch')
	WHERE NOT EXISTS (SELECT 1 FROM `payouts` WHERE `id` = NEW.`payoutId` AND `userId` = NEW.`userId`
	  AND `amountCents` = NEW.`amountCents` AND `status` IN ('pending', 'paid'))
	   OR NOT EXISTS (SELECT 1 FROM `earningsLedger` WHERE `payoutId` = NEW.`payoutId` AND `source` = 'payout');
END;
--> statement-breakpoint
CREATE TRIGGER `payouts_immutable_money` BEFORE UPDATE ON `payouts`
BEGIN
	SELECT RAISE(ABORT, 'payout_final')
	WHERE OLD.`status` = 'failed'
	   OR (OLD.`status` = 'paid' AND NEW.`status` = 'pending');
	SELECT RAISE(ABORT, 'payout_money_fixed')
	WHERE NEW.`id` != OLD.`id` OR NEW.`userId` != OLD.`userId` OR NEW.`runId` != OLD.`runId`
	   OR NEW.`amountCents` != OLD.`amountCents` OR NEW.`currency` != OLD.`currency`
	   OR NEW.`stripeAccountId` != OLD.`stripeAccountId` OR NEW.`createdAt` != OLD.`createdAt`
	   OR (OLD.`stripeTransferId` IS NOT NULL AND NEW.`stripeTransferId` IS NOT OLD.`stripeTransferId`);
END;
--> statement-breakpoint
CREATE TRIGGER `payouts_paid_needs_debit` AFTER UPDATE OF `status` ON `payouts`
WHEN NEW.`status` = 'paid' AND OLD.`status` = 'pending'
BEGIN
	SELECT RAISE(ABORT, 'payout_without_debit')
	WHERE NOT EXISTS (SELECT 1 FROM `earningsLedger` WHERE `payoutId` = NEW.`id` AND `source` = 'payout');
END;
--> statement-breakpoint
CREATE TRIGGER `payouts_failed_needs_reversal` AFTER UPDATE OF `status` ON `payouts`
WHEN NEW.`status` = 'failed' AND OLD.`status` != 'failed'
BEGIN
	SELECT RAISE(ABORT, 'payout_failed_without_reversal')
	WHERE NOT EXISTS (SELECT 1 FROM `earningsLedger` WHERE `payoutId` = NEW.`id` AND `source` = 'payout_reversal' AND `amountCents` = NEW.`amountCents`);
END;
--> statement-breakpoint
CREATE TRIGGER `payouts_born_pending` BEFORE INSERT ON `payouts`
WHEN NEW.`status` != 'pending' OR NEW.`stripeTransferId` IS NOT NULL OR NEW.`failureReason` IS NOT NULL
BEGIN
	SELECT RAISE(ABORT, 'payout_born_pending');
END;
--> statement-breakpoint
CREATE TRIGGER `payouts_no_delete` BEFORE DELETE ON `payouts`
BEGIN
	SELECT RAISE(ABORT, 'payouts_append_only');
END;
