import type { InvoiceLine } from "../billing/invoice-assembly.ts";
import type { Tx } from "../db/client.ts";
import type { SubscriptionRow } from "../db/schema/index.ts";
import type { ServiceContext } from "./context.ts";

/**
 * Usage overage lines for a closed period of a subscription (billed in arrears): for each meter,
 * usage beyond the plan's included quantity, priced per unit or per started package.
 *
 * In progress: metered usage (issue 5) is being built; until it lands there is no usage to bill
 * and this returns no lines.
 */
export const usageOverageLines = async (_args: {
  ctx: ServiceContext;
  tx: Tx;
  subscription: SubscriptionRow;
  periodStart: Date;
  periodEnd: Date;
}): Promise<InvoiceLine[]> => [];
