-- Rescheduling: when a session last moved to another time (the reminders' sent-at columns are reset by the move itself).
ALTER TABLE `sessions` ADD `rescheduledAt` integer;