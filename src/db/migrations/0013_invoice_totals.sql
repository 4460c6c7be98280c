-- Invoice totals as Stripe reports them: `total` is the sum of the lines (after discounts and
-- taxes, none of which exist), the customer balance applied is shown apart in `credit_applied`,
-- and `amount_due = total - credit_applied`. Invoices stored before were written with
-- `total = subtotal - credit_applied`; their `amount_due` already is what the new rule gives
-- (credit never exceeded a non-negative subtotal), so only `total` is rewritten.
UPDATE "invoices" SET "total" = "subtotal" WHERE "total" <> "subtotal";
