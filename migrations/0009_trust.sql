-- Marketplace trust: reviews (one per session; the tutor's ratingSum/ratingCount move in the same
-- batch), the directory's versioned listing `tutorListings` (sort keys of approved tutors per subject
-- over [validFrom, validTo), so a cursor walk reads one consistent snapshot), and the tutor-reviewed
-- lesson reports (draft/published, versions, generation cap). Hand edits to drizzle-kit's output: the
-- table rebuilds copy only the old columns (it selected the new ones too); reports written before
-- review count as published (students already saw them) and get their text as version 1; approved
-- tutors get their current listing rows. Three indexes gain their sort columns (a recording's latest
-- upload, the Deepgram callback log newest first) so those reads need no sort step.
CREATE TABLE `lessonReportVersions` (
	`id` text PRIMARY KEY NOT NULL,
	`reportId` text NOT NULL,
	`sessionId` text NOT NULL,
	`version` integer NOT NULL,
	`summary` text NOT NULL,
	`topicsCovered` text NOT NULL,
	`nextSteps` text NOT NULL,
	`source` text NOT NULL,
	`instructions` text,
	`authorUserId` text,
	`createdAt` integer NOT NULL,
	CONSTRAINT "lessonReportVersions_source" CHECK("lessonReportVersions"."source" IN ('model', 'tutor', 'admin')),
	CONSTRAINT "lessonReportVersions_instructions" CHECK("lessonReportVersions"."instructions" IS NULL OR length("lessonReportVersions"."instructions") <= 500)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `lessonReportVersions_by_report_and_version` ON `lessonReportVersions` (`reportId`,`version`);--> statement-breakpoint
CREATE TABLE `reviews` (
	`id` text PRIMARY KEY NOT NULL,
	`sessionId` text NOT NULL,
	`tutorProfileId` text NOT NULL,
	`studentProfileId` text NOT NULL,
	`rating` integer NOT NULL,
	`comment` text,
	`createdAt` integer NOT NULL,
	CONSTRAINT "reviews_rating" CHECK("reviews"."rating" BETWEEN 1 AND 5),
	CONSTRAINT "reviews_comment" CHECK("comment" IS NULL OR length("comment") <= 2000)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `reviews_by_session` ON `reviews` (`sessionId`);--> statement-breakpoint
CREATE INDEX `reviews_by_tutor_and_createdAt` ON `reviews` (`tutorProfileId`,`createdAt`,`id`);--> statement-breakpoint
CREATE INDEX `reviews_by_student_and_createdAt` ON `reviews` (`studentProfileId`,`createdAt`,`id`);--> statement-breakpoint
CREATE TABLE `tutorListings` (
	`id` integer PRIMARY KEY NOT NULL,
	`tutorProfileId` text NOT NULL,
	`subjectKey` text NOT NULL,
	`createdAt` integer NOT NULL,
	`hourlyCreditsPrice` integer NOT NULL,
	`ratingAverage` real NOT NULL,
	`ratingCount` integer NOT NULL,
	`validFrom` integer NOT NULL,
	`validTo` integer NOT NULL,
	CONSTRAINT "tutorListings_span" CHECK("tutorListings"."validFrom" <= "tutorListings"."validTo"),
	CONSTRAINT "tutorListings_rating" CHECK(("tutorListings"."ratingCount" = 0 AND "tutorListings"."ratingAverage" = 0) OR ("tutorListings"."ratingCount" > 0 AND "tutorListings"."ratingAverage" BETWEEN 1 AND 5))
);
--> statement-breakpoint
CREATE INDEX `tutorListings_by_newest` ON `tutorListings` (`subjectKey`,`createdAt`,`tutorProfileId`,`validTo`,`validFrom`,`hourlyCreditsPrice`,`ratingAverage`);--> statement-breakpoint
CREATE INDEX `tutorListings_by_rating` ON `tutorListings` (`subjectKey`,`ratingAverage`,`ratingCount`,`tutorProfileId`,`validTo`,`validFrom`,`hourlyCreditsPrice`);--> statement-breakpoint
CREATE INDEX `tutorListings_by_price` ON `tutorListings` (`subjectKey`,`hourlyCreditsPrice`,`tutorProfileId`,`validTo`,`validFrom`,`ratingAverage`);--> statement-breakpoint
CREATE INDEX `tutorListings_by_tutor` ON `tutorListings` (`tutorProfileId`,`validTo`);--> statement-breakpoint
CREATE INDEX `tutorListings_by_validTo` ON `tutorListings` (`validTo`);--> statement-breakpoint
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_lessonReports` (
	`id` text PRIMARY KEY NOT NULL,
	`sessionId` text NOT NULL,
	`studentProfileId` text NOT NULL,
	`tutorProfileId` text NOT NULL,
	`summary` text NOT NULL,
	`topicsCovered` text NOT NULL,
	`nextSteps` text NOT NULL,
	`rawTranscript` text,
	`status` text DEFAULT 'draft' NOT NULL,
	`version` integer DEFAULT 1 NOT NULL,
	`editedByTutor` integer DEFAULT false NOT NULL,
	`publishedAt` integer,
	`autoPublishAt` integer,
	`generations` integer DEFAULT 1 NOT NULL,
	`generationId` text,
	`generationStartedAt` integer,
	`createdAt` integer NOT NULL,
	`updatedAt` integer DEFAULT 0 NOT NULL,
	CONSTRAINT "lessonReports_status" CHECK("__new_lessonReports"."status" IN ('draft', 'published')),
	CONSTRAINT "lessonReports_published" CHECK(("__new_lessonReports"."status" = 'published') = ("__new_lessonReports"."publishedAt" IS NOT NULL) AND ("__new_lessonReports"."status" = 'draft' OR "__new_lessonReports"."autoPublishAt" IS NULL)),
	CONSTRAINT "lessonReports_generations" CHECK("generations" BETWEEN 1 AND 5),
	CONSTRAINT "lessonReports_version" CHECK("__new_lessonReports"."version" >= 1)
);
--> statement-breakpoint
INSERT INTO `__new_lessonReports`("id", "sessionId", "studentProfileId", "tutorProfileId", "summary", "topicsCovered", "nextSteps", "rawTranscript", "status", "publishedAt", "createdAt", "updatedAt") SELECT "id", "sessionId", "studentProfileId", "tutorProfileId", "summary", "topicsCovered", "nextSteps", "rawTranscript", 'published', "createdAt", "createdAt", "createdAt" FROM `lessonReports`;--> statement-breakpoint
INSERT INTO `lessonReportVersions`("id", "reportId", "sessionId", "version", "summary", "topicsCovered", "nextSteps", "source", "createdAt") SELECT 'rpv_' || "id", "id", "sessionId", 1, "summary", "topicsCovered", "nextSteps", 'model', "createdAt" FROM `__new_lessonReports`;--> statement-breakpoint
DROP TABLE `lessonReports`;--> statement-breakpoint
ALTER TABLE `__new_lessonReports` RENAME TO `lessonReports`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE UNIQUE INDEX `lessonReports_by_session` ON `lessonReports` (`sessionId`);--> statement-breakpoint
CREATE INDEX `lessonReports_by_student_and_createdAt` ON `lessonReports` (`studentProfileId`,`createdAt`);--> statement-breakpoint
CREATE INDEX `lessonReports_published_by_student` ON `lessonReports` (`studentProfileId`,`publishedAt`,`id`) WHERE "lessonReports"."status" = 'published';--> statement-breakpoint
CREATE INDEX `lessonReports_drafts_by_due` ON `lessonReports` (`autoPublishAt`,`id`) WHERE "lessonReports"."status" = 'draft';--> statement-breakpoint
CREATE TABLE `__new_tutorProfiles` (
	`id` text PRIMARY KEY NOT NULL,
	`userId` text NOT NULL,
	`displayName` text NOT NULL,
	`bio` text NOT NULL,
	`subjects` text NOT NULL,
	`hourlyCreditsPrice` integer NOT NULL,
	`avatarS3Key` text,
	`avatarContentType` text,
	`timezone` text,
	`status` text DEFAULT 'approved' NOT NULL,
	`statusReason` text,
	`statusChangedAt` integer,
	`ratingSum` integer DEFAULT 0 NOT NULL,
	`ratingCount` integer DEFAULT 0 NOT NULL,
	`listedAt` integer DEFAULT 0 NOT NULL,
	`createdAt` integer NOT NULL,
	`updatedAt` integer NOT NULL,
	CONSTRAINT "tutorProfiles_price_positive" CHECK("__new_tutorProfiles"."hourlyCreditsPrice" > 0),
	CONSTRAINT "tutorProfiles_rating" CHECK("__new_tutorProfiles"."ratingCount" >= 0 AND "__new_tutorProfiles"."ratingSum" BETWEEN "__new_tutorProfiles"."ratingCount" AND 5 * "__new_tutorProfiles"."ratingCount")
);
--> statement-breakpoint
INSERT INTO `__new_tutorProfiles`("id", "userId", "displayName", "bio", "subjects", "hourlyCreditsPrice", "avatarS3Key", "avatarContentType", "timezone", "status", "statusReason", "createdAt", "updatedAt") SELECT "id", "userId", "displayName", "bio", "subjects", "hourlyCreditsPrice", "avatarS3Key", "avatarContentType", "timezone", "status", "statusReason", "createdAt", "updatedAt" FROM `tutorProfiles`;--> statement-breakpoint
DROP TABLE `tutorProfiles`;--> statement-breakpoint
ALTER TABLE `__new_tutorProfiles` RENAME TO `tutorProfiles`;--> statement-breakpoint
CREATE UNIQUE INDEX `tutorProfiles_by_user` ON `tutorProfiles` (`userId`);--> statement-breakpoint
CREATE INDEX `tutorProfiles_by_status` ON `tutorProfiles` (`status`,`createdAt`,`id`);--> statement-breakpoint
INSERT INTO `tutorListings`("tutorProfileId", "subjectKey", "createdAt", "hourlyCreditsPrice", "ratingAverage", "ratingCount", "validFrom", "validTo") SELECT "id", '*', "createdAt", "hourlyCreditsPrice", 0, 0, 0, 9007199254740991 FROM `tutorProfiles` WHERE "status" = 'approved';--> statement-breakpoint
INSERT INTO `tutorListings`("tutorProfileId", "subjectKey", "createdAt", "hourlyCreditsPrice", "ratingAverage", "ratingCount", "validFrom", "validTo") SELECT p."id", ts."subjectId", p."createdAt", p."hourlyCreditsPrice", 0, 0, 0, 9007199254740991 FROM `tutorProfiles` p JOIN `tutorSubjects` ts ON ts."tutorProfileId" = p."id" WHERE p."status" = 'approved';--> statement-breakpoint
DROP INDEX `deepgramWebhooks_by_requestId`;--> statement-breakpoint
DROP INDEX `deepgramWebhooks_by_recording`;--> statement-breakpoint
CREATE INDEX `deepgramWebhooks_by_requestId` ON `deepgramWebhooks` (`requestId`,`processedAt`,`id`);--> statement-breakpoint
CREATE INDEX `deepgramWebhooks_by_recording` ON `deepgramWebhooks` (`sessionRecordingId`,`processedAt`,`id`);--> statement-breakpoint
DROP INDEX `sessionRecordings_by_session`;--> statement-breakpoint
CREATE INDEX `sessionRecordings_by_session` ON `sessionRecordings` (`sessionId`,`createdAt`,`id`);
