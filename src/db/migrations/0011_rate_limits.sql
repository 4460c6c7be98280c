CREATE TABLE "platform_rate_limits" (
	"platform_id" text PRIMARY KEY NOT NULL,
	"requests_per_second" double precision,
	"request_burst" double precision,
	"events_per_second" double precision,
	"event_burst" double precision,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rate_limit_buckets" (
	"platform_id" text NOT NULL,
	"bucket" text NOT NULL,
	"tokens" double precision NOT NULL,
	"rate" double precision NOT NULL,
	"burst" double precision NOT NULL,
	"last_cost" double precision NOT NULL,
	"granted" boolean NOT NULL,
	"refilled_at" timestamp with time zone NOT NULL,
	CONSTRAINT "rate_limit_buckets_platform_id_bucket_pk" PRIMARY KEY("platform_id","bucket")
);
--> statement-breakpoint
ALTER TABLE "platform_rate_limits" ADD CONSTRAINT "platform_rate_limits_platform_id_platforms_platform_id_fk" FOREIGN KEY ("platform_id") REFERENCES "public"."platforms"("platform_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
-- Added by hand (drizzle-kit has no UNLOGGED): bucket updates write no WAL, and a crash only
-- refills every bucket (see src/db/schema/rate-limits.ts).
ALTER TABLE "rate_limit_buckets" SET UNLOGGED;
