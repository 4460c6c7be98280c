CREATE TABLE "usage_alerts" (
	"platform_id" text NOT NULL,
	"period_start" timestamp with time zone NOT NULL,
	"meter" text NOT NULL,
	"threshold" integer NOT NULL,
	"value" numeric NOT NULL,
	"included" numeric NOT NULL,
	"raised_at" timestamp with time zone NOT NULL,
	CONSTRAINT "usage_alerts_pk" PRIMARY KEY("platform_id","period_start","meter","threshold")
);
--> statement-breakpoint
CREATE TABLE "usage_event_keys" (
	"platform_id" text NOT NULL,
	"event_id" text NOT NULL,
	CONSTRAINT "usage_event_keys_pk" PRIMARY KEY("platform_id","event_id")
);
--> statement-breakpoint
CREATE TABLE "usage_events" (
	"platform_id" text NOT NULL,
	"event_id" text NOT NULL,
	"tenant_id" text,
	"meter" text NOT NULL,
	"value" numeric NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"properties" jsonb,
	"received_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "usage_platform_rollups" (
	"platform_id" text NOT NULL,
	"meter" text NOT NULL,
	"bucket" timestamp with time zone NOT NULL,
	"total" numeric NOT NULL,
	"event_count" bigint NOT NULL,
	"peak" numeric NOT NULL,
	"last_value" numeric NOT NULL,
	"last_at" timestamp with time zone NOT NULL,
	"last_event_id" text NOT NULL,
	CONSTRAINT "usage_platform_rollups_pk" PRIMARY KEY("platform_id","bucket","meter")
);
--> statement-breakpoint
CREATE TABLE "usage_rollups" (
	"platform_id" text NOT NULL,
	"tenant_id" text NOT NULL,
	"meter" text NOT NULL,
	"bucket" timestamp with time zone NOT NULL,
	"total" numeric NOT NULL,
	"event_count" bigint NOT NULL,
	"peak" numeric NOT NULL,
	"last_value" numeric NOT NULL,
	"last_at" timestamp with time zone NOT NULL,
	"last_event_id" text NOT NULL,
	CONSTRAINT "usage_rollups_pk" PRIMARY KEY("platform_id","tenant_id","bucket","meter")
);
--> statement-breakpoint
CREATE TABLE "usage_tenants" (
	"platform_id" text NOT NULL,
	"tenant_id" text NOT NULL,
	"first_seen" timestamp with time zone NOT NULL,
	"last_seen" timestamp with time zone NOT NULL,
	"event_count" bigint NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "usage_tenants_pk" PRIMARY KEY("platform_id","tenant_id")
);
--> statement-breakpoint
CREATE TABLE "usage_platform_unique_gaps" (
	"platform_id" text NOT NULL,
	"meter" text NOT NULL,
	"bucket" timestamp with time zone NOT NULL,
	"prev_bucket" timestamp with time zone NOT NULL,
	"occurrences" bigint NOT NULL,
	CONSTRAINT "usage_platform_unique_gaps_pk" PRIMARY KEY("platform_id","bucket","meter","prev_bucket")
);
--> statement-breakpoint
CREATE TABLE "usage_unique_gaps" (
	"platform_id" text NOT NULL,
	"tenant_id" text NOT NULL,
	"meter" text NOT NULL,
	"bucket" timestamp with time zone NOT NULL,
	"prev_bucket" timestamp with time zone NOT NULL,
	"occurrences" bigint NOT NULL,
	CONSTRAINT "usage_unique_gaps_pk" PRIMARY KEY("platform_id","tenant_id","bucket","meter","prev_bucket")
);
--> statement-breakpoint
CREATE TABLE "usage_unique_occurrences" (
	"platform_id" text NOT NULL,
	"tenant_id" text NOT NULL,
	"meter" text NOT NULL,
	"value" text NOT NULL,
	"bucket" timestamp with time zone NOT NULL,
	CONSTRAINT "usage_unique_occurrences_pk" PRIMARY KEY("platform_id","tenant_id","meter","value","bucket")
);
--> statement-breakpoint
CREATE TABLE "usage_unique_values" (
	"platform_id" text NOT NULL,
	"tenant_id" text NOT NULL,
	"meter" text NOT NULL,
	"value" text NOT NULL,
	"last_bucket" timestamp with time zone NOT NULL,
	CONSTRAINT "usage_unique_values_pk" PRIMARY KEY("platform_id","tenant_id","meter","value")
);
--> statement-breakpoint
CREATE INDEX "usage_tenants_created_idx" ON "usage_tenants" USING btree ("platform_id","created_at","tenant_id");