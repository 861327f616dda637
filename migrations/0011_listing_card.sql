ALTER TABLE `tutorListings` ADD `displayName` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `tutorListings` ADD `bio` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `tutorListings` ADD `avatarS3Key` text;--> statement-breakpoint
ALTER TABLE `tutorListings` ADD `timezone` text;--> statement-breakpoint
ALTER TABLE `tutorListings` ADD `ratingSum` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `tutorListings` ADD `subjectsJson` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
UPDATE `tutorListings` SET
	`displayName` = (SELECT p.`displayName` FROM `tutorProfiles` p WHERE p.`id` = `tutorListings`.`tutorProfileId`),
	`bio` = (SELECT p.`bio` FROM `tutorProfiles` p WHERE p.`id` = `tutorListings`.`tutorProfileId`),
	`avatarS3Key` = (SELECT p.`avatarS3Key` FROM `tutorProfiles` p WHERE p.`id` = `tutorListings`.`tutorProfileId`),
	`timezone` = (SELECT p.`timezone` FROM `tutorProfiles` p WHERE p.`id` = `tutorListings`.`tutorProfileId`),
	`ratingSum` = (SELECT p.`ratingSum` FROM `tutorProfiles` p WHERE p.`id` = `tutorListings`.`tutorProfileId`),
	`subjectsJson` = (SELECT json_group_array(json_object('id', s.`id`, 'name', s.`name`, 'slug', s.`slug`)) FROM `tutorSubjects` ts JOIN `subjects` s ON s.`id` = ts.`subjectId` WHERE ts.`tutorProfileId` = `tutorListings`.`tutorProfileId`)
WHERE `validTo` = 9007199254740991;
--> statement-breakpoint
CREATE TRIGGER `tutorListings_card` AFTER UPDATE OF `displayName`, `bio`, `avatarS3Key`, `timezone` ON `tutorProfiles`
WHEN NEW.`displayName` IS NOT OLD.`displayName` OR NEW.`bio` IS NOT OLD.`bio` OR NEW.`avatarS3Key` IS NOT OLD.`avatarS3Key` OR NEW.`timezone` IS NOT OLD.`timezone`
BEGIN
	UPDATE `tutorListings` SET `displayName` = NEW.`displayName`, `bio` = NEW.`bio`, `avatarS3Key` = NEW.`avatarS3Key`, `timezone` = NEW.`timezone`
	WHERE `tutorProfileId` = NEW.`id` AND `validTo` = 9007199254740991;
END;
--> statement-breakpoint
CREATE TRIGGER `tutorListings_unlisted` AFTER UPDATE OF `status` ON `tutorProfiles`
WHEN OLD.`status` = 'approved' AND NEW.`status` != 'approved'
BEGIN
	UPDATE `tutorProfiles` SET `listedAt` = max(`listedAt`, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)) WHERE `id` = NEW.`id`;
	UPDATE `tutorListings` SET `validTo` = (SELECT `listedAt` FROM `tutorProfiles` WHERE `id` = NEW.`id`)
	WHERE `tutorProfileId` = NEW.`id` AND `validTo` = 9007199254740991;
END;
