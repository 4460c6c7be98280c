import { createHash } from "node:crypto";

/**
 * Stripe's test-mode payment method tokens. Passing one where a payment method is expected
 * (attach, SetupIntent confirm, PaymentIntent) makes a fresh `pm_...` with that card's details,
 * as Stripe test mode does. Whether a card declines is a property of the card number, so a pm
 * made from a declining token keeps declining: see `declineCodeOf`.
 */
export interface TestCard {
  token: string;
  brand: "visa" | "mastercard" | "amex";
  last4: string;
  funding: "credit";
  /** Set for cards whose charges decline, with the `decline_code` Stripe reports. */
  declineCode?: "generic_decline" | "insufficient_funds";
  label: string;
}

export const TEST_CARDS: readonly TestCard[] = [
  { token: "pm_card_visa", brand: "visa", last4: "4242", funding: "credit", label: "Visa 4242" },
  {
    token: "pm_card_mastercard",
    brand: "mastercard",
    last4: "4444",
    funding: "credit",
    label: "Mastercard 4444",
  },
  { token: "pm_card_amex", brand: "amex", last4: "8431", funding: "credit", label: "Amex 8431" },
  {
    token: "pm_card_chargeDeclined",
    brand: "visa",
    last4: "0002",
    funding: "credit",
    declineCode: "generic_decline",
    label: "Visa 0002 (declines)",
  },
  {
    token: "pm_card_chargeDeclinedInsufficientFunds",
    brand: "visa",
    last4: "9995",
    funding: "credit",
    declineCode: "insufficient_funds",
    label: "Visa 9995 (insufficient funds)",
  },
];

export const testCardByToken = (token: string): TestCard | undefined =>
  TEST_CARDS.find((card) => card.token === token);

/** Stripe fingerprints identify a card number; here, one stable fingerprint per test card. */
export const fingerprintOf = (card: TestCard): string =>
  createHash("sha256")
    .update(`nno-stripe-emulator:${card.token}`)
    .digest("base64")
    .replace(/[^A-Za-z0-9]/g, "")
    .slice(0, 16);

export const testCardByFingerprint = (fingerprint: string): TestCard | undefined =>
  TEST_CARDS.find((card) => fingerprintOf(card) === fingerprint);

/** Messages Stripe gives card declines, by decline code. */
export const declineMessages: Record<NonNullable<TestCard["declineCode"]>, string> = {
  generic_decline: "Your card was declined.",
  insufficient_funds: "Your card has insufficient funds.",
};
