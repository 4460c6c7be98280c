import { randomToken } from "../../ids.ts";

/** Prefixes of the objects the emulator creates, as Stripe spells them. */
export type StripeIdPrefix = "cus" | "pm" | "seti" | "pi" | "ch" | "evt" | "bps" | "req" | "re";

// Customers get Stripe's short 14-character ids; the rest look like Stripe's 24-character ones.
const lengths: Record<StripeIdPrefix, number> = {
  cus: 14,
  pm: 24,
  seti: 24,
  pi: 24,
  ch: 24,
  evt: 24,
  bps: 24,
  req: 14,
  re: 24,
};

export const stripeId = (prefix: StripeIdPrefix): string =>
  `${prefix}_${randomToken(lengths[prefix])}`;

/** `seti_..._secret_...` / `pi_..._secret_...`: what a browser would be given to confirm. */
export const clientSecretFor = (id: string): string => `${id}_secret_${randomToken(25)}`;

/** Unix seconds, the unit of every Stripe timestamp. */
export const unixSeconds = (date: Date): number => Math.floor(date.getTime() / 1000);
