-- Invoices finalized before hosted pages existed get their unguessable token (two random
-- UUIDs' hex: 244 random bits, from the server's strong random source).
UPDATE "invoices"
SET "hosted_token" = replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', '')
WHERE "number" IS NOT NULL AND "hosted_token" IS NULL;
