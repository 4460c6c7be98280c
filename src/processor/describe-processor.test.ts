import { describe, expect, it } from "vitest";
import { loadConfig } from "../config.ts";
import { describeProcessor, processorPhrase } from "./create-processor.ts";

const described = (env: Record<string, string>) => {
  const config = loadConfig({ NODE_ENV: "test", BILLING_DATA_DIR: "/nonexistent", ...env });
  const processor = describeProcessor(config.stripe);
  return { processor, phrase: processorPhrase(processor) };
};

describe("the processor named at start-up", () => {
  it("is the built-in emulator when neither a key nor a host is configured", () => {
    expect(described({})).toEqual({
      processor: { kind: "emulator" },
      phrase: "built-in Stripe emulator (in process)",
    });
  });

  it("is a Stripe-compatible host when STRIPE_API_BASE is set, with or without a key", () => {
    const host = "http://127.0.0.1:12111";
    const envs: Array<Record<string, string>> = [
      { STRIPE_API_BASE: host },
      { STRIPE_API_BASE: host, STRIPE_SECRET_KEY: "sk_live_abc", STRIPE_WEBHOOK_SECRET: "whsec_x" },
    ];
    for (const env of envs) {
      const { processor, phrase } = described(env);
      expect(processor).toEqual({ kind: "stripe-compatible", apiBase: host });
      expect(phrase).toBe(`Stripe-compatible host at ${host} (STRIPE_API_BASE)`);
    }
  });

  it("is Stripe in test or live mode, from the key's prefix", () => {
    const stripe = (key: string) =>
      described({ STRIPE_SECRET_KEY: key, STRIPE_WEBHOOK_SECRET: "whsec_x" }).phrase;
    expect(stripe("sk_test_abc")).toBe("Stripe (test mode)");
    expect(stripe("sk_live_abc")).toBe("Stripe (live mode)");
    expect(stripe("rk_test_abc")).toBe("Stripe (test mode, restricted key)");
    expect(stripe("rk_live_abc")).toBe("Stripe (live mode, restricted key)");
  });
});
