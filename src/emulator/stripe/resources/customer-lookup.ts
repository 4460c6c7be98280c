import type Stripe from "stripe";
import { resourceMissing } from "../errors.ts";
import type { OperationContext } from "../operation-context.ts";
import { findObject } from "../store.ts";

/** A customer that exists and is not deleted; what every operation on a customer needs. */
export const requireLiveCustomer = async (
  ctx: Pick<OperationContext, "tx">,
  id: string,
  param = "customer",
  opts: { forUpdate?: boolean } = {},
): Promise<Stripe.Customer> => {
  const found = await findObject(ctx, id, "customer", opts);
  if (!found || found.deleted) throw resourceMissing("customer", id, param);
  return found as unknown as Stripe.Customer;
};
