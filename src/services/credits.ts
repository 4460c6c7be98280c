import { asc, desc, eq } from "drizzle-orm";
import { MoneyPrecisionError, majorToMinor } from "../billing/money.ts";
import type { Tx } from "../db/client.ts";
import { balanceEntries, customers, subscriptions } from "../db/schema/index.ts";
import { invalid } from "../errors.ts";
import { newId } from "../ids.ts";
import { appendBalanceEntries } from "./balance-ledger.ts";
import type { ServiceContext } from "./context.ts";
import { findOwnedCustomer } from "./customers.ts";
import { customerBalance } from "./invoicing.ts";
import type { Principal } from "./principal.ts";

/**
 * The one currency of a customer's credit balance: its (latest) subscription's, or else that of
 * the first entry of its ledger; undefined while it has neither. As Stripe, where a customer has
 * one currency (set by the first subscription, invoice or balance transaction) and an invoice
 * "doesn't apply a customer credit balance denominated in" another currency
 * (https://docs.stripe.com/invoicing/multi-currency-customers): invoices here are issued in the
 * subscription's currency, so a balance in any other would never be applied.
 */
export const balanceCurrency = async (tx: Tx, customerId: string) => {
  const [subscription] = await tx
    .select({ currency: subscriptions.currency })
    .from(subscriptions)
    .where(eq(subscriptions.customerId, customerId))
    .orderBy(desc(subscriptions.createdAt), desc(subscriptions.id))
    .limit(1);
  if (subscription) return subscription.currency;
  const [first] = await tx
    .select({ currency: balanceEntries.currency })
    .from(balanceEntries)
    .where(eq(balanceEntries.customerId, customerId))
    .orderBy(asc(balanceEntries.createdAt), asc(balanceEntries.id))
    .limit(1);
  return first?.currency;
};

/**
 * Adds an operator credit to a customer's balance ledger. `amount` is in major units as the
 * reference has it (12.5 = $12.50); more decimals than the currency has is refused, never rounded.
 * A credit in another currency than the balance's (`balanceCurrency`) is refused (400) — it would
 * never be applied nor shown. The customer's row is locked while deciding, so two first credits
 * in different currencies cannot both be taken.
 */
export const applyCredit = async ({
  ctx,
  principal,
  input,
}: {
  ctx: ServiceContext;
  principal: Principal;
  input: { customerId: string; amount: number; currency: string; description: string };
}) => {
  const currency = input.currency.toLowerCase();
  let minor: number;
  try {
    minor = majorToMinor(input.amount, currency);
  } catch (error) {
    if (error instanceof MoneyPrecisionError || error instanceof RangeError) {
      throw invalid(error.message, [{ path: ["amount"], message: error.message }]);
    }
    throw error;
  }
  if (minor <= 0) throw invalid("amount must be at least one minor unit", [{ path: ["amount"] }]);
  const customer = await findOwnedCustomer({ ctx, principal, input });
  return ctx.db.transaction(async (tx) => {
    await tx
      .select({ id: customers.id })
      .from(customers)
      .where(eq(customers.id, customer.id))
      .for("update");
    const established = await balanceCurrency(tx, customer.id);
    if (established !== undefined && established !== currency) {
      const message = `customer '${customer.id}' has its balance in ${established}; a credit in ${currency} would never be applied`;
      throw invalid(message, [{ path: ["currency"], message: `must be ${established}` }]);
    }
    const now = ctx.clock.now();
    await appendBalanceEntries({
      tx,
      input: {
        now,
        entries: [
          {
            id: newId("cbtxn"),
            customerId: customer.id,
            currency,
            amount: minor,
            kind: "operator_credit",
            description: input.description,
            createdAt: now,
          },
        ],
      },
    });
    return {
      customerId: customer.id,
      currency,
      credited: minor,
      balance: await customerBalance(tx, customer.id, currency),
    };
  });
};
