ALTER TABLE "subscriptions" ADD COLUMN "usage_periods" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "usage_due_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "subscriptions_usage_due_idx" ON "subscriptions" USING btree ("usage_due_at") WHERE "subscriptions"."usage_due_at" is not null;