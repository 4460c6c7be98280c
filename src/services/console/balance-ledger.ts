import { and, desc, eq, sql } from "drizzle-orm";
import { preparedRead } from "../../db/prepared.ts";
import { balanceEntries, type CustomerRow } from "../../db/schema/index.ts";
import type { ServiceContext } from "../context.ts";
import { olderThanPlaceholder, type Page, pagePlaceholders, toPage } from "../pagination.ts";

export interface BalanceEntry {
  id: string;
  currency: string;
  /** Minor units: credits positive, applications to invoices negative. */
  amount: number;
  kind: string;
  description: string;
  invoiceId: string | null;
  createdAt: string;
}

const balancesOf = preparedRead("balances_of_customer", (db, name) =>
  db
    .select({
      currency: balanceEntries.currency,
      balance: sql<string>`sum(${balanceEntries.amount})::text`,
    })
    .from(balanceEntries)
    .where(eq(balanceEntries.customerId, sql.placeholder("customerId")))
    .groupBy(balanceEntries.currency)
    .prepare(name),
);

const entriesOf = preparedRead("balance_entries_of_customer", (db, name) =>
  db
    .select()
    .from(balanceEntries)
    .where(
      and(
        eq(balanceEntries.customerId, sql.placeholder("customerId")),
        olderThanPlaceholder(balanceEntries.createdAt, balanceEntries.id),
      ),
    )
    .orderBy(desc(balanceEntries.createdAt), desc(balanceEntries.id))
    .limit(sql.placeholder("limit"))
    .prepare(name),
);

/**
 * A customer's balance: the balance per currency (the sum of the ledger) and the ledger itself,
 * newest first.
 */
export const customerBalanceLedger = async ({
  ctx,
  input: { customer, ...input },
}: {
  ctx: ServiceContext;
  input: { customer: Pick<CustomerRow, "id">; limit: number; cursor?: string | undefined };
}): Promise<{
  customerId: string;
  balances: Record<string, number>;
  entries: Page<BalanceEntry>;
}> => {
  const [sums, rows] = await Promise.all([
    balancesOf(ctx.db).execute({ customerId: customer.id }),
    entriesOf(ctx.db).execute({ customerId: customer.id, ...pagePlaceholders(input) }),
  ]);
  return {
    customerId: customer.id,
    balances: Object.fromEntries(sums.map((s) => [s.currency, Number(s.balance)])),
    entries: toPage(
      rows,
      input.limit,
      (r) => ({ createdAt: r.createdAt, id: r.id }),
      (r) => ({
        id: r.id,
        currency: r.currency,
        amount: r.amount,
        kind: r.kind,
        description: r.description,
        invoiceId: r.invoiceId,
        createdAt: r.createdAt.toISOString(),
      }),
    ),
  };
};
