-- Scheduling: per-tutor booking rules (notice, buffers, daily cap, horizon), time off, weekly series
-- (all or nothing: the series row is inserted after its occurrences and its CHECK needs every one of
-- them booked, so a missing occurrence aborts the batch), the private calendar feed, and on sessions
-- the series link and the reschedule count (the feed's SEQUENCE).
CREATE TABLE `calendarFeeds` (
	`userId` text PRIMARY KEY NOT NULL,
	`nonce` text NOT NULL,
	`tokenHash` text NOT NULL,
	`createdAt` integer NOT NULL,
	`rotatedAt` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `calendarFeeds_by_tokenHash` ON `calendarFeeds` (`tokenHash`);--> statement-breakpoint
CREATE TABLE `sessionSeries` (
	`id` text PRIMARY KEY NOT NULL,
	`studentProfileId` text NOT NULL,
	`tutorProfileId` text NOT NULL,
	`subjectId` text NOT NULL,
	`firstStartTime` integer NOT NULL,
	`durationMinutes` integer NOT NULL,
	`count` integer NOT NULL,
	`timezone` text NOT NULL,
	`bookedCount` integer NOT NULL,
	`creditsCost` integer NOT NULL,
	`createdAt` integer NOT NULL,
	CONSTRAINT "sessionSeries_count" CHECK("sessionSeries"."count" BETWEEN 2 AND 12),
	CONSTRAINT "sessionSeries_all_booked" CHECK("sessionSeries"."bookedCount" = "sessionSeries"."count")
);
--> statement-breakpoint
CREATE INDEX `sessionSeries_by_student` ON `sessionSeries` (`studentProfileId`,`createdAt`);--> statement-breakpoint
CREATE TABLE `tutorBookingRules` (
	`tutorProfileId` text PRIMARY KEY NOT NULL,
	`minNoticeMinutes` integer NOT NULL,
	`bufferBeforeMinutes` integer NOT NULL,
	`bufferAfterMinutes` integer NOT NULL,
	`maxSessionsPerDay` integer,
	`horizonDays` integer NOT NULL,
	`updatedAt` integer NOT NULL,
	CONSTRAINT "tutorBookingRules_notice" CHECK("tutorBookingRules"."minNoticeMinutes" BETWEEN 0 AND 10080),
	CONSTRAINT "tutorBookingRules_buffers" CHECK("tutorBookingRules"."bufferBeforeMinutes" BETWEEN 0 AND 120 AND "tutorBookingRules"."bufferBeforeMinutes" % 15 = 0 AND "tutorBookingRules"."bufferAfterMinutes" BETWEEN 0 AND 120 AND "tutorBookingRules"."bufferAfterMinutes" % 15 = 0),
	CONSTRAINT "tutorBookingRules_cap" CHECK("tutorBookingRules"."maxSessionsPerDay" IS NULL OR "tutorBookingRules"."maxSessionsPerDay" BETWEEN 1 AND 24),
	CONSTRAINT "tutorBookingRules_horizon" CHECK("tutorBookingRules"."horizonDays" BETWEEN 1 AND 365)
);
--> statement-breakpoint
CREATE TABLE `tutorTimeOff` (
	`id` text PRIMARY KEY NOT NULL,
	`tutorProfileId` text NOT NULL,
	`startTime` integer NOT NULL,
	`endTime` integer NOT NULL,
	`note` text,
	`createdAt` integer NOT NULL,
	CONSTRAINT "tutorTimeOff_span" CHECK("tutorTimeOff"."endTime" > "tutorTimeOff"."startTime" AND "tutorTimeOff"."endTime" - "tutorTimeOff"."startTime" <= 7776000000)
);
--> statement-breakpoint
CREATE INDEX `tutorTimeOff_by_tutor_and_start` ON `tutorTimeOff` (`tutorProfileId`,`startTime`,`id`);--> statement-breakpoint
ALTER TABLE `sessions` ADD `rescheduleCount` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `sessions` ADD `seriesId` text;--> statement-breakpoint
CREATE INDEX `sessions_by_series` ON `sessions` (`seriesId`,`startTime`) WHERE "sessions"."seriesId" IS NOT NULL;