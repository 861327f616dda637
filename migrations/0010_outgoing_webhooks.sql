-- Outgoing webhooks: endpoints (secret, the previous secret during a rotation, failingSince for the
-- auto-disable), the outbox of events (written in the batch of the change each announces; the fan-out
-- renders the body once) and one delivery per (endpoint, event) with its retry schedule.
CREATE TABLE `webhookDeliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`endpointId` text NOT NULL,
	`eventId` text NOT NULL,
	`eventType` text NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`lastStatusCode` integer,
	`lastError` text,
	`lastResponseBody` text,
	`nextAttemptAt` integer,
	`finalAttempt` integer DEFAULT false NOT NULL,
	`deliveredAt` integer,
	`createdAt` integer NOT NULL,
	`updatedAt` integer NOT NULL,
	CONSTRAINT "webhookDeliveries_status" CHECK("status" IN ('pending', 'delivered', 'failed')),
	CONSTRAINT "webhookDeliveries_attempts" CHECK("webhookDeliveries"."attempts" >= 0),
	CONSTRAINT "webhookDeliveries_body_cap" CHECK("webhookDeliveries"."lastResponseBody" IS NULL OR length(CAST("webhookDeliveries"."lastResponseBody" AS BLOB)) <= 1024)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `webhookDeliveries_by_endpoint_and_event` ON `webhookDeliveries` (`endpointId`,`eventId`);--> statement-breakpoint
CREATE INDEX `webhookDeliveries_by_endpoint_and_createdAt` ON `webhookDeliveries` (`endpointId`,`createdAt`,`id`);--> statement-breakpoint
CREATE INDEX `webhookDeliveries_due` ON `webhookDeliveries` (`nextAttemptAt`) WHERE "webhookDeliveries"."status" = 'pending';--> statement-breakpoint
CREATE INDEX `webhookDeliveries_by_event` ON `webhookDeliveries` (`eventId`);--> statement-breakpoint
CREATE INDEX `webhookDeliveries_by_createdAt` ON `webhookDeliveries` (`createdAt`);--> statement-breakpoint
CREATE TABLE `webhookEndpoints` (
	`id` text PRIMARY KEY NOT NULL,
	`url` text NOT NULL,
	`events` text NOT NULL,
	`description` text,
	`enabled` integer DEFAULT true NOT NULL,
	`secret` text NOT NULL,
	`previousSecret` text,
	`previousSecretExpiresAt` integer,
	`failingSince` integer,
	`disabledAt` integer,
	`createdAt` integer NOT NULL,
	`updatedAt` integer NOT NULL,
	CONSTRAINT "webhookEndpoints_events" CHECK(json_valid("webhookEndpoints"."events") AND json_type("webhookEndpoints"."events") = 'array')
);
--> statement-breakpoint
CREATE INDEX `webhookEndpoints_by_createdAt` ON `webhookEndpoints` (`createdAt`,`id`);--> statement-breakpoint
CREATE INDEX `webhookEndpoints_enabled` ON `webhookEndpoints` (`id`) WHERE "webhookEndpoints"."enabled" = 1;--> statement-breakpoint
CREATE INDEX `webhookEndpoints_failing` ON `webhookEndpoints` (`failingSince`) WHERE "webhookEndpoints"."enabled" = 1 AND "webhookEndpoints"."failingSince" IS NOT NULL;--> statement-breakpoint
CREATE TABLE `webhookEvents` (
	`id` text PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`objectId` text NOT NULL,
	`snapshot` text NOT NULL,
	`body` text,
	`dedupeKey` text NOT NULL,
	`createdAt` integer NOT NULL,
	`dispatchedAt` integer,
	CONSTRAINT "webhookEvents_type" CHECK("type" IN ('session.booked', 'session.rescheduled', 'session.cancelled', 'session.completed', 'session.no_show', 'session.disputed', 'session.settled', 'credits.purchased', 'credits.reversed', 'report.published', 'review.created', 'tutor.status_changed', 'payout.paid', 'payout.failed'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `webhookEvents_by_dedupeKey` ON `webhookEvents` (`dedupeKey`);--> statement-breakpoint
CREATE INDEX `webhookEvents_undispatched` ON `webhookEvents` (`createdAt`,`id`) WHERE "webhookEvents"."dispatchedAt" IS NULL;--> statement-breakpoint
CREATE INDEX `webhookEvents_by_createdAt` ON `webhookEvents` (`createdAt`);