CREATE INDEX `idempotencyRecords_by_createdAt` ON `idempotencyRecords` (`createdAt`);--> statement-breakpoint
CREATE INDEX `otpCodes_by_expiresAt` ON `otpCodes` (`expiresAt`);--> statement-breakpoint
CREATE INDEX `rateLimitEvents_by_createdAt` ON `rateLimitEvents` (`createdAt`);--> statement-breakpoint
CREATE INDEX `sessionRecordings_by_updatedAt` ON `sessionRecordings` (`updatedAt`,`id`);--> statement-breakpoint
CREATE INDEX `sessions_by_time` ON `sessions` (`startTime`,`id`);--> statement-breakpoint
CREATE INDEX `sessions_without_room` ON `sessions` (`startTime`) WHERE "sessions"."agoraChannelName" IS NULL AND "sessions"."status" = 'scheduled';--> statement-breakpoint
CREATE INDEX `users_by_createdAt` ON `users` (`createdAt`,`id`);