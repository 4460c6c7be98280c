import { invalidParam } from "../errors.ts";
import type { Params } from "../params.ts";

/** Cards are the only payment method type the emulator knows; others are refused up front. */
export const checkCardOnly = (p: Params) => {
  const other = p.stringArray("payment_method_types")?.find((type) => type !== "card");
  if (other !== undefined) {
    throw invalidParam(
      "payment_method_types",
      `The payment method type provided: ${other} is invalid. The Stripe emulator supports only card.`,
    );
  }
};
