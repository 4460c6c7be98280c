CREATE TABLE "credit_note_lines" (
	"id" text PRIMARY KEY NOT NULL,
	"credit_note_id" text NOT NULL,
	"invoice_line_id" text NOT NULL,
	"position" integer NOT NULL,
	"description" text NOT NULL,
	"amount" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "credit_note_number_counter" (
	"id" integer PRIMARY KEY NOT NULL,
	"last" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "credit_notes" (
	"platform_id" text,
	"id" text NOT NULL,
	"invoice_id" text NOT NULL,
	"customer_id" text NOT NULL,
	"number" text,
	"status" text NOT NULL,
	"reason" text NOT NULL,
	"memo" text,
	"currency" text NOT NULL,
	"amount" bigint NOT NULL,
	"refund_amount" bigint NOT NULL,
	"credit_amount" bigint NOT NULL,
	"out_of_band_amount" bigint DEFAULT 0 NOT NULL,
	"refund_id" text,
	"fingerprint" text NOT NULL,
	"lease_until" timestamp with time zone,
	"hosted_token" text,
	"created_at" timestamp with time zone NOT NULL,
	"issued_at" timestamp with time zone,
	CONSTRAINT "credit_notes_id_pk" PRIMARY KEY("id")
);
--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "address" jsonb;--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "tax_id" text;--> statement-breakpoint
ALTER TABLE "invoices" ADD COLUMN "hosted_token" text;--> statement-breakpoint
ALTER TABLE "invoices" ADD COLUMN "amount_credited" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "credit_note_lines_note_idx" ON "credit_note_lines" USING btree ("credit_note_id","position");--> statement-breakpoint
CREATE INDEX "credit_note_lines_invoice_line_idx" ON "credit_note_lines" USING btree ("invoice_line_id");--> statement-breakpoint
CREATE UNIQUE INDEX "credit_notes_number_idx" ON "credit_notes" USING btree ("number");--> statement-breakpoint
CREATE UNIQUE INDEX "credit_notes_hosted_token_idx" ON "credit_notes" USING btree ("hosted_token");--> statement-breakpoint
CREATE INDEX "credit_notes_platform_idx" ON "credit_notes" USING btree ("platform_id","created_at","id");--> statement-breakpoint
CREATE INDEX "credit_notes_invoice_idx" ON "credit_notes" USING btree ("invoice_id");--> statement-breakpoint
CREATE INDEX "credit_notes_issued_idx" ON "credit_notes" USING btree ("issued_at");--> statement-breakpoint
CREATE UNIQUE INDEX "invoices_hosted_token_idx" ON "invoices" USING btree ("hosted_token");