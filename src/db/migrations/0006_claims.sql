ALTER TABLE "invoices" ADD COLUMN "claim" text;--> statement-breakpoint
ALTER TABLE "invoices" ADD COLUMN "attempt_payment_method_id" text;--> statement-breakpoint
ALTER TABLE "invoices" ADD COLUMN "plan_change" jsonb;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "pending_invoice_id" text;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "version" integer DEFAULT 0 NOT NULL;