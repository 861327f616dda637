-- Security hardening and the account lifecycle: the admin audit log (append-only, enforced by the
-- triggers at the end), refresh-token families with an absolute lifetime and a per-user index for
-- "log out everywhere", the per-session recording upload count, tutor status (only `approved`
-- tutors are public; a closed account's profile is `suspended`), and closed accounts.
CREATE TABLE `adminAuditLog` (
	`id` text PRIMARY KEY NOT NULL,
	`actorUserId` text NOT NULL,
	`action` text NOT NULL,
	`targetType` text NOT NULL,
	`targetId` text NOT NULL,
	`details` text NOT NULL,
	`requestId` text,
	`createdAt` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `adminAuditLog_by_createdAt` ON `adminAuditLog` (`createdAt`,`id`);--> statement-breakpoint
CREATE INDEX `adminAuditLog_by_actor` ON `adminAuditLog` (`actorUserId`,`createdAt`,`id`);--> statement-breakpoint
CREATE INDEX `adminAuditLog_by_target` ON `adminAuditLog` (`targetId`,`createdAt`,`id`);--> statement-breakpoint
ALTER TABLE `refreshTokens` ADD `familyStartedAt` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `refreshTokens_by_user` ON `refreshTokens` (`userId`,`revokedAt`);--> statement-breakpoint
ALTER TABLE `sessionRecordings` ADD `uploadCount` integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE `tutorProfiles` ADD `status` text DEFAULT 'approved' NOT NULL;--> statement-breakpoint
ALTER TABLE `tutorProfiles` ADD `statusReason` text;--> statement-breakpoint
CREATE INDEX `tutorProfiles_by_status` ON `tutorProfiles` (`status`,`createdAt`,`id`);--> statement-breakpoint
ALTER TABLE `users` ADD `deletedAt` integer;--> statement-breakpoint
UPDATE `refreshTokens` SET `familyStartedAt` = (SELECT MIN(r.`createdAt`) FROM `refreshTokens` r WHERE r.`familyId` = `refreshTokens`.`familyId`);
--> statement-breakpoint
CREATE TRIGGER `adminAuditLog_no_update` BEFORE UPDATE ON `adminAuditLog`
BEGIN
	SELECT RAISE(ABORT, 'audit_append_only');
END;
--> statement-breakpoint
CREATE TRIGGER `adminAuditLog_no_delete` BEFORE DELETE ON `adminAuditLog`
BEGIN
	SELECT RAISE(ABORT, 'audit_append_only');
END;
