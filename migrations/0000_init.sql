CREATE TABLE `creditPurchaseOrders` (
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
	`createdAt` integer NOT NULL,
	`updatedAt` integer NOT NULL,
	CONSTRAINT "creditPurchaseOrders_credits_positive" CHECK("creditPurchaseOrders"."totalCredits" > 0)
);
--> statement-breakpoint
CREATE INDEX `creditPurchaseOrders_by_user_and_createdAt` ON `creditPurchaseOrders` (`userId`,`createdAt`,`id`);--> statement-breakpoint
CREATE INDEX `creditPurchaseOrders_by_checkoutSessionId` ON `creditPurchaseOrders` (`stripeCheckoutSessionId`);--> statement-breakpoint
CREATE TABLE `creditsLedger` (
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
	CONSTRAINT "creditsLedger_amount_positive" CHECK("creditsLedger"."amount" > 0),
	CONSTRAINT "creditsLedger_balance_non_negative" CHECK("creditsLedger"."balanceAfter" >= 0),
	CONSTRAINT "creditsLedger_seq_positive" CHECK("creditsLedger"."seq" >= 1),
	CONSTRAINT "creditsLedger_type" CHECK("creditsLedger"."type" IN ('credit', 'debit')),
	CONSTRAINT "creditsLedger_source" CHECK("creditsLedger"."source" IN ('purchase', 'session_booking', 'session_refund', 'manual_adjustment'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `creditsLedger_by_user_and_seq` ON `creditsLedger` (`userId`,`seq`);--> statement-breakpoint
CREATE UNIQUE INDEX `creditsLedger_by_idempotencyKey` ON `creditsLedger` (`idempotencyKey`);--> statement-breakpoint
CREATE INDEX `creditsLedger_by_user_and_createdAt` ON `creditsLedger` (`userId`,`createdAt`);--> statement-breakpoint
CREATE INDEX `creditsLedger_by_session` ON `creditsLedger` (`sessionId`);--> statement-breakpoint
CREATE TABLE `deadLetters` (
	`id` text PRIMARY KEY NOT NULL,
	`messageId` text NOT NULL,
	`queue` text NOT NULL,
	`type` text,
	`body` text NOT NULL,
	`attempts` integer NOT NULL,
	`createdAt` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `deadLetters_by_messageId` ON `deadLetters` (`messageId`);--> statement-breakpoint
CREATE INDEX `deadLetters_by_createdAt` ON `deadLetters` (`createdAt`,`id`);--> statement-breakpoint
CREATE TABLE `deepgramWebhooks` (
	`id` text PRIMARY KEY NOT NULL,
	`sessionRecordingId` text,
	`requestId` text NOT NULL,
	`eventType` text NOT NULL,
	`payload` text NOT NULL,
	`processedAt` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `deepgramWebhooks_by_requestId` ON `deepgramWebhooks` (`requestId`);--> statement-breakpoint
CREATE INDEX `deepgramWebhooks_by_recording` ON `deepgramWebhooks` (`sessionRecordingId`);--> statement-breakpoint
CREATE TABLE `emailDeliveries` (
	`idempotencyKey` text PRIMARY KEY NOT NULL,
	`providerId` text,
	`sentAt` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `idempotencyRecords` (
	`userId` text NOT NULL,
	`scope` text NOT NULL,
	`key` text NOT NULL,
	`requestHash` text NOT NULL,
	`state` text NOT NULL,
	`responseStatus` integer,
	`responseBody` text,
	`createdAt` integer NOT NULL,
	PRIMARY KEY(`userId`, `scope`, `key`)
);
--> statement-breakpoint
CREATE TABLE `lessonReports` (
	`id` text PRIMARY KEY NOT NULL,
	`sessionId` text NOT NULL,
	`studentProfileId` text NOT NULL,
	`tutorProfileId` text NOT NULL,
	`summary` text NOT NULL,
	`topicsCovered` text NOT NULL,
	`nextSteps` text NOT NULL,
	`rawTranscript` text,
	`createdAt` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `lessonReports_by_session` ON `lessonReports` (`sessionId`);--> statement-breakpoint
CREATE INDEX `lessonReports_by_student_and_createdAt` ON `lessonReports` (`studentProfileId`,`createdAt`);--> statement-breakpoint
CREATE TABLE `notifications` (
	`id` text PRIMARY KEY NOT NULL,
	`userId` text NOT NULL,
	`type` text NOT NULL,
	`data` text NOT NULL,
	`read` integer DEFAULT false NOT NULL,
	`dedupeKey` text,
	`createdAt` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `notifications_by_user_and_createdAt` ON `notifications` (`userId`,`createdAt`,`id`);--> statement-breakpoint
CREATE INDEX `notifications_by_user_and_read` ON `notifications` (`userId`,`read`,`createdAt`,`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `notifications_by_dedupeKey` ON `notifications` (`dedupeKey`);--> statement-breakpoint
CREATE TABLE `otpCodes` (
	`id` text PRIMARY KEY NOT NULL,
	`email` text NOT NULL,
	`codeHash` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`expiresAt` integer NOT NULL,
	`consumedAt` integer,
	`createdAt` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `otpCodes_by_email_and_createdAt` ON `otpCodes` (`email`,`createdAt`);--> statement-breakpoint
CREATE TABLE `rateLimitEvents` (
	`id` text PRIMARY KEY NOT NULL,
	`bucket` text NOT NULL,
	`createdAt` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `rateLimitEvents_by_bucket_and_createdAt` ON `rateLimitEvents` (`bucket`,`createdAt`);--> statement-breakpoint
CREATE TABLE `refreshTokens` (
	`id` text PRIMARY KEY NOT NULL,
	`userId` text NOT NULL,
	`familyId` text NOT NULL,
	`tokenHash` text NOT NULL,
	`expiresAt` integer NOT NULL,
	`rotatedAt` integer,
	`revokedAt` integer,
	`createdAt` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `refreshTokens_by_tokenHash` ON `refreshTokens` (`tokenHash`);--> statement-breakpoint
CREATE INDEX `refreshTokens_by_family` ON `refreshTokens` (`familyId`);--> statement-breakpoint
CREATE TABLE `sessionRecordings` (
	`id` text PRIMARY KEY NOT NULL,
	`sessionId` text NOT NULL,
	`s3Key` text NOT NULL,
	`transcriptionStatus` text NOT NULL,
	`transcriptionText` text,
	`transcriptionMeta` text,
	`transcriptionError` text,
	`deepgramRequestId` text,
	`callbackSecretHash` text,
	`createdAt` integer NOT NULL,
	`updatedAt` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `sessionRecordings_by_session` ON `sessionRecordings` (`sessionId`);--> statement-breakpoint
CREATE INDEX `sessionRecordings_by_status` ON `sessionRecordings` (`transcriptionStatus`,`updatedAt`);--> statement-breakpoint
CREATE TABLE `sessions` (
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
	`createdAt` integer NOT NULL,
	`updatedAt` integer NOT NULL,
	CONSTRAINT "sessions_time_order" CHECK("sessions"."endTime" > "sessions"."startTime"),
	CONSTRAINT "sessions_cost_positive" CHECK("sessions"."creditsCost" > 0)
);
--> statement-breakpoint
CREATE INDEX `sessions_by_tutor_and_time` ON `sessions` (`tutorProfileId`,`startTime`);--> statement-breakpoint
CREATE INDEX `sessions_by_student_and_time` ON `sessions` (`studentProfileId`,`startTime`);--> statement-breakpoint
CREATE INDEX `sessions_by_status_and_time` ON `sessions` (`status`,`startTime`);--> statement-breakpoint
CREATE TABLE `stripeEvents` (
	`id` text PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`checkoutSessionId` text,
	`orderId` text,
	`receivedAt` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `stripeEvents_by_order` ON `stripeEvents` (`orderId`);--> statement-breakpoint
CREATE TABLE `studentProfiles` (
	`id` text PRIMARY KEY NOT NULL,
	`userId` text NOT NULL,
	`displayName` text NOT NULL,
	`createdAt` integer NOT NULL,
	`updatedAt` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `studentProfiles_by_user` ON `studentProfiles` (`userId`);--> statement-breakpoint
CREATE TABLE `subjects` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`slug` text NOT NULL,
	`createdAt` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `subjects_by_slug` ON `subjects` (`slug`);--> statement-breakpoint
CREATE INDEX `subjects_by_name` ON `subjects` (`name`);--> statement-breakpoint
CREATE TABLE `tutorAvailability` (
	`id` text PRIMARY KEY NOT NULL,
	`tutorProfileId` text NOT NULL,
	`timezone` text NOT NULL,
	`weekday` integer NOT NULL,
	`start` integer NOT NULL,
	`end` integer NOT NULL,
	CONSTRAINT "tutorAvailability_range" CHECK("tutorAvailability"."start" >= 0 AND "tutorAvailability"."end" <= 1440 AND "tutorAvailability"."start" < "tutorAvailability"."end"),
	CONSTRAINT "tutorAvailability_weekday" CHECK("tutorAvailability"."weekday" BETWEEN 0 AND 6)
);
--> statement-breakpoint
CREATE INDEX `tutorAvailability_by_tutor` ON `tutorAvailability` (`tutorProfileId`,`weekday`,`start`);--> statement-breakpoint
CREATE TABLE `tutorProfiles` (
	`id` text PRIMARY KEY NOT NULL,
	`userId` text NOT NULL,
	`displayName` text NOT NULL,
	`bio` text NOT NULL,
	`subjects` text NOT NULL,
	`hourlyCreditsPrice` integer NOT NULL,
	`avatarS3Key` text,
	`avatarContentType` text,
	`timezone` text,
	`createdAt` integer NOT NULL,
	`updatedAt` integer NOT NULL,
	CONSTRAINT "tutorProfiles_price_positive" CHECK("tutorProfiles"."hourlyCreditsPrice" > 0)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `tutorProfiles_by_user` ON `tutorProfiles` (`userId`);--> statement-breakpoint
CREATE TABLE `tutorSubjects` (
	`tutorProfileId` text NOT NULL,
	`subjectId` text NOT NULL,
	PRIMARY KEY(`tutorProfileId`, `subjectId`)
);
--> statement-breakpoint
CREATE INDEX `tutorProfiles_by_subject` ON `tutorSubjects` (`subjectId`,`tutorProfileId`);--> statement-breakpoint
CREATE TABLE `users` (
	`id` text PRIMARY KEY NOT NULL,
	`email` text NOT NULL,
	`name` text,
	`context` text NOT NULL,
	`studentProfileId` text,
	`tutorProfileId` text,
	`createdAt` integer NOT NULL,
	`updatedAt` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_by_email` ON `users` (`email`);--> statement-breakpoint
CREATE INDEX `users_by_context` ON `users` (`context`,`createdAt`,`id`);--> statement-breakpoint
-- Hand-written ledger guards (drizzle-kit cannot express triggers). The ledger is append-only and
-- each user's entries form one chain: seq = previous seq + 1, balanceAfter = previous ± amount.
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
-- INSERT OR REPLACE would delete the row it conflicts with without firing the DELETE trigger
-- (recursive_triggers is off in D1): refuse any insert that collides with an existing entry, and
-- any amount or balance that is not a whole number of credits.
CREATE TRIGGER `creditsLedger_no_replace` BEFORE INSERT ON `creditsLedger`
BEGIN
	SELECT RAISE(ABORT, 'ledger_append_only')
	WHERE EXISTS (SELECT 1 FROM `creditsLedger` WHERE `idempotencyKey` = NEW.`idempotencyKey`)
	   OR EXISTS (SELECT 1 FROM `creditsLedger` WHERE `userId` = NEW.`userId` AND `seq` = NEW.`seq`)
	   OR EXISTS (SELECT 1 FROM `creditsLedger` WHERE `id` = NEW.`id`);
	SELECT RAISE(ABORT, 'ledger_not_integer')
	WHERE typeof(NEW.`amount`) != 'integer' OR typeof(NEW.`balanceAfter`) != 'integer' OR typeof(NEW.`seq`) != 'integer';
END;
