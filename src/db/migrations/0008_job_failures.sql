CREATE TABLE "job_failures" (
	"job" text NOT NULL,
	"item_id" text NOT NULL,
	"platform_id" text,
	"error" text NOT NULL,
	"attempts" integer NOT NULL,
	"first_failed_at" timestamp with time zone NOT NULL,
	"last_failed_at" timestamp with time zone NOT NULL,
	"next_retry_at" timestamp with time zone NOT NULL,
	CONSTRAINT "job_failures_job_item_id_pk" PRIMARY KEY("job","item_id")
);
--> statement-breakpoint
CREATE INDEX "job_failures_last_idx" ON "job_failures" USING btree ("last_failed_at");