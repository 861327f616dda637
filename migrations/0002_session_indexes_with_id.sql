DROP INDEX `sessions_by_tutor_and_time`;--> statement-breakpoint
DROP INDEX `sessions_by_student_and_time`;--> statement-breakpoint
DROP INDEX `sessions_by_status_and_time`;--> statement-breakpoint
CREATE INDEX `sessions_by_tutor_and_time` ON `sessions` (`tutorProfileId`,`startTime`,`id`);--> statement-breakpoint
CREATE INDEX `sessions_by_student_and_time` ON `sessions` (`studentProfileId`,`startTime`,`id`);--> statement-breakpoint
CREATE INDEX `sessions_by_status_and_time` ON `sessions` (`status`,`startTime`,`id`);