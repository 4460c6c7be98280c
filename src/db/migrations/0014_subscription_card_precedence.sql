-- Invoices are now charged to the subscription's default card before the customer's default (as
-- Stripe), where they were charged to the customer's first. A subscription whose own card went
-- stale while the customer chose another default (set-default and the portal did not update it)
-- would suddenly be charged to the old card: it takes the customer's default, so every
-- subscription keeps being charged to the card it was charged to before. Only when the customer's
-- default is a card still attached to it (otherwise the subscription's own card was used anyway).
UPDATE "subscriptions" AS s
SET "default_payment_method_id" = c."default_payment_method_id", "version" = s."version" + 1
FROM "customers" AS c
JOIN "payment_methods" AS pm ON pm."id" = c."default_payment_method_id" AND pm."customer_id" = c."id"
WHERE c."id" = s."customer_id"
  AND s."default_payment_method_id" IS NOT NULL
  AND s."default_payment_method_id" <> c."default_payment_method_id";
