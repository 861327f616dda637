-- Money after the fact: card refunds and disputes reverse credits (purchase_reversal, the only entry
-- that may take a balance below zero), purchase_reinstated undoes a reversal, orders track what was
-- refunded and reversed. SQLite cannot alter a CHECK, so the ledger and the orders are rebuilt
-- (copied as they are); the ledger's append-only and chain triggers are dropped with the old table
-- and created again, unchanged, at the end (the copy itself runs before they exist).
CREATE TABLE `cardRefunds` (
	`id` text PRIMARY KEY NOT NULL,
	`orderId` text NOT NULL,
	`idempotencyKey` text NOT NULL,
	`amountCents` integer NOT NULL,
	`credits` integer NOT NULL,
	`reason` text NOT NULL,
	`status` text NOT NULL,
	`stripeRefundId` text,
	`failureReason` text,
	`actorUserId` text,
	`createdAt` integer NOT NULL,
	`updatedAt` integer NOT NULL,
	CONSTRAINT "cardRefunds_amount_positive" CHECK("cardRefunds"."amountCents" > 0 AND "cardRefunds"."credits" >= 0)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `cardRefunds_by_idempotencyKey` ON `cardRefunds` (`idempotencyKey`);--> statement-breakpoint
CREATE INDEX `cardRefunds_by_order` ON `cardRefunds` (`orderId`,`createdAt`);--> statement-breakpoint
CREATE INDEX `cardRefunds_by_createdAt` ON `cardRefunds` (`createdAt`);--> statement-breakpoint
CREATE TABLE `devClock` (
	`id` integer PRIMARY KEY NOT NULL,
	`offsetMs` integer NOT NULL,
	`updatedAt` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `__new_creditsLedger` (
	`id` text PRIMARY KEY NOT NULL,
	`userId` text NOT NULL,
	`seq` integer NOT NULL,
	`type` text NOT NULL,
	`amount` integer NOT NULL,
	`balanceAfter` integer NOT NULL,
	`source` text NOT NULL,
	`purchaseOrderId` text,
	`sessionId` text,
	`description` text NOT NULL,
	`idempotencyKey` text NOT NULL,
	`createdAt` integer NOT NULL,
	CONSTRAINT "creditsLedger_amount_positive" CHECK("__new_creditsLedger"."amount" > 0),
	CONSTRAINT "creditsLedger_balance_non_negative" CHECK("__new_creditsLedger"."balanceAfter" >= 0 OR "__new_creditsLedger"."type" = 'credit' OR "__new_creditsLedger"."source" = 'purchase_reversal'),
	CONSTRAINT "creditsLedger_seq_positive" CHECK("__new_creditsLedger"."seq" >= 1),
	CONSTRAINT "creditsLedger_type" CHECK("__new_creditsLedger"."type" IN ('credit', 'debit')),
	CONSTRAINT "creditsLedger_source" CHECK("source" IN ('purchase', 'session_booking', 'session_refund', 'manual_adjustment', 'purchase_reversal', 'purchase_reinstated'))
);
--> statement-breakpoint
INSERT INTO `__new_creditsLedger`("id", "userId", "seq", "type", "amount", "balanceAfter", "source", "purchaseOrderId", "sessionId", "description", "idempotencyKey", "createdAt") SELECT "id", "userId", "seq", "type", "amount", "balanceAfter", "source", "purchaseOrderId", "sessionId", "description", "idempotencyKey", "createdAt" FROM `creditsLedger`;--> statement-breakpoint
DROP TABLE `creditsLedger`;--> statement-breakpoint
ALTER TABLE `__new_creditsLedger` RENAME TO `creditsLedger`;--> statement-breakpoint
CREATE UNIQUE INDEX `creditsLedger_by_user_and_seq` ON `creditsLedger` (`userId`,`seq`);--> statement-breakpoint
CREATE UNIQUE INDEX `creditsLedger_by_idempotencyKey` ON `creditsLedger` (`idempotencyKey`);--> statement-breakpoint
CREATE INDEX `creditsLedger_by_user_and_createdAt` ON `creditsLedger` (`userId`,`createdAt`);--> statement-breakpoint
CREATE INDEX `creditsLedger_by_session` ON `creditsLedger` (`sessionId`);--> statement-breakpoint
CREATE INDEX `creditsLedger_by_order` ON `creditsLedger` (`purchaseOrderId`);--> statement-breakpoint
CREATE INDEX `creditsLedger_by_createdAt` ON `creditsLedger` (`createdAt`,`source`);--> statement-breakpoint
CREATE TABLE `__new_creditPurchaseOrders` (
	`id` text PRIMARY KEY NOT NULL,
	`userId` text NOT NULL,
	`packId` text NOT NULL,
	`stripeCheckoutSessionId` text,
	`stripePaymentIntentId` text,
	`checkoutUrl` text,
	`totalCredits` integer NOT NULL,
	`totalCents` integer NOT NULL,
	`currency` text NOT NULL,
	`status` text NOT NULL,
	`completedAt` integer,
	`failedAt` integer,
	`expiredAt` integer,
	`refundedCents` integer DEFAULT 0 NOT NULL,
	`stripeRefundedCents` integer DEFAULT 0 NOT NULL,
	`reversedCredits` integer DEFAULT 0 NOT NULL,
	`disputeReversedCredits` integer DEFAULT 0 NOT NULL,
	`disputeStatus` text,
	`disputeId` text,
	`recoveryCheckedAt` integer,
	`createdAt` integer NOT NULL,
	`updatedAt` integer NOT NULL,
	CONSTRAINT "creditPurchaseOrders_credits_positive" CHECK("__new_creditPurchaseOrders"."totalCredits" > 0),
	CONSTRAINT "creditPurchaseOrders_reversed_within_credits" CHECK("__new_creditPurchaseOrders"."reversedCredits" >= 0 AND "__new_creditPurchaseOrders"."reversedCredits" <= "__new_creditPurchaseOrders"."totalCredits"),
	CONSTRAINT "creditPurchaseOrders_dispute_within_reversed" CHECK("__new_creditPurchaseOrders"."disputeReversedCredits" >= 0 AND "__new_creditPurchaseOrders"."disputeReversedCredits" <= "__new_creditPurchaseOrders"."reversedCredits"),
	CONSTRAINT "creditPurchaseOrders_refund_within_total" CHECK("__new_creditPurchaseOrders"."refundedCents" >= 0 AND "__new_creditPurchaseOrders"."refundedCents" <= "__new_creditPurchaseOrders"."totalCents" AND "__new_creditPurchaseOrders"."stripeRefundedCents" <= "__new_creditPurchaseOrders"."refundedCents")
);
--> statement-breakpoint
INSERT INTO `__new_creditPurchaseOrders`("id", "userId", "packId", "stripeCheckoutSessionId", "stripePaymentIntentId", "checkoutUrl", "totalCredits", "totalCents", "currency", "status", "completedAt", "failedAt", "expiredAt", "refundedCents", "stripeRefundedCents", "reversedCredits", "disputeReversedCredits", "disputeStatus", "disputeId", "recoveryCheckedAt", "createdAt", "updatedAt") SELECT "id", "userId", "packId", "stripeCheckoutSessionId", "stripePaymentIntentId", "checkoutUrl", "totalCredits", "totalCents", "currency", "status", "completedAt", "failedAt", "expiredAt", 0, 0, 0, 0, NULL, NULL, NULL, "createdAt", "updatedAt" FROM `creditPurchaseOrders`;--> statement-breakpoint
DROP TABLE `creditPurchaseOrders`;--> statement-breakpoint
ALTER TABLE `__new_creditPurchaseOrders` RENAME TO `creditPurchaseOrders`;--> statement-breakpoint
CREATE INDEX `creditPurchaseOrders_by_user_and_createdAt` ON `creditPurchaseOrders` (`userId`,`createdAt`,`id`);--> statement-breakpoint
CREATE INDEX `creditPurchaseOrders_by_checkoutSessionId` ON `creditPurchaseOrders` (`stripeCheckoutSessionId`);--> statement-breakpoint
CREATE INDEX `creditPurchaseOrders_by_paymentIntent` ON `creditPurchaseOrders` (`stripePaymentIntentId`);--> statement-breakpoint
CREATE INDEX `creditPurchaseOrders_pending` ON `creditPurchaseOrders` (`createdAt`,`id`) WHERE "creditPurchaseOrders"."status" = 'pending';--> statement-breakpoint
CREATE INDEX `creditPurchaseOrders_by_completedAt` ON `creditPurchaseOrders` (`completedAt`);--> statement-breakpoint
ALTER TABLE `stripeEvents` ADD `processedAt` integer;--> statement-breakpoint
ALTER TABLE `stripeEvents` ADD `outcome` text;--> statement-breakpoint
ALTER TABLE `deadLetters` ADD `replayedAt` integer;--> statement-breakpoint
ALTER TABLE `deadLetters` ADD `replayCount` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE TRIGGER `creditsLedger_no_update` BEFORE UPDATE ON `creditsLedger`
BEGIN
	SELECT RAISE(ABORT, 'ledger_append_only');
END;
--> statement-breakpoint
CREATE TRIGGER `creditsLedger_no_delete` BEFORE DELETE ON `creditsLedger`
BEGIN
	SELECT RAISE(ABORT, 'ledger_append_only');
END;
--> statement-breakpoint
CREATE TRIGGER `creditsLedger_chain` BEFORE INSERT ON `creditsLedger`
BEGIN
	SELECT RAISE(ABORT, 'ledger_chain_broken')
	WHERE NEW.`seq` != COALESCE((SELECT `seq` FROM `creditsLedger` WHERE `userId` = NEW.`userId` ORDER BY `seq` DESC LIMIT 1), 0) + 1
	   OR NEW.`balanceAfter` != COALESCE((SELECT `balanceAfter` FROM `creditsLedger` WHERE `userId` = NEW.`userId` ORDER BY `seq` DESC LIMIT 1), 0)
	      + CASE WHEN NEW.`type` = 'credit' THEN NEW.`amount` ELSE -NEW.`amount` END;
END;
--> statement-breakpoint
CREATE TRIGGER `creditsLedger_no_replace` BEFORE INSERT ON `creditsLedger`
BEGIN
	SELECT RAISE(ABORT, 'ledger_append_only')
	WHERE EXISTS (SELECT 1 FROM `creditsLedger` WHERE `idempotencyKey` = NEW.`idempotencyKey`)
	   OR EXISTS (SELECT 1 FROM `creditsLedger` WHERE `userId` = NEW.`userId` AND `seq` = NEW.`seq`)
	   OR EXISTS (SELECT 1 FROM `creditsLedger` WHERE `id` = NEW.`id`);
	SELECT RAISE(ABORT, 'ledger_not_integer')
	WHERE typeof(NEW.`amount`) != 'integer' OR typeof(NEW.`balanceAfter`) != 'integer' OR typeof(NEW.`seq`) != 'integer';
END;
