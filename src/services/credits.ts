import { MoneyPrecisionError, majorToMinor } from "../billing/money.ts";
import { balanceEntries } from "../db/schema/index.ts";
import { invalid } from "../errors.ts";
import { newId } from "../ids.ts";
import type { Principal } from "./api-keys.ts";
import type { ServiceContext } from "./context.ts";
import { findOwnedCustomer } from "./customers.ts";
import { customerBalance } from "./invoicing.ts";

/**
 * Adds an operator credit to a customer's balance ledger. `amount` is in major units as the
 * reference has it (12.5 = $12.50); more decimals than the currency has is refused, never rounded.
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
  const customer = await findOwnedCustomer({ ctx, principal, customerId: input.customerId });
  return ctx.db.transaction(async (tx) => {
    await tx.insert(balanceEntries).values({
      id: newId("cbtxn"),
      customerId: customer.id,
      currency,
      amount: minor,
      kind: "operator_credit",
      description: input.description,
      createdAt: ctx.clock.now(),
    });
    return {
      customerId: customer.id,
      currency,
      credited: minor,
      balance: await customerBalance(tx, customer.id, currency),
    };
  });
};
