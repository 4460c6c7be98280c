import { expect } from "vitest";
import type { TestApp } from "./harness.ts";

/**
 * A new platform subscribed to Growth monthly ($99.00) with `card` (a test token), and its first
 * invoice as the API shows it (on `platform` when given): `paid` with a card that works, `open` with a declined one.
 */
export const platformWithFirstInvoice = async (
  t: TestApp,
  card = "pm_card_visa",
  platform?: Awaited<ReturnType<TestApp["createPlatform"]>>,
) => {
  const p = platform ?? (await t.createPlatform());
  const sub = await t.request("POST", "/subscriptions", {
    key: p.key,
    body: { userId: p.platformId, priceId: "price_growth_monthly", paymentMethodId: card },
  });
  const list = await t.request("GET", `/invoices?platformId=${p.platformId}`);
  expect(list.status, list.text).toBe(200);
  return { ...p, sub, invoice: list.body.data[0] };
};
