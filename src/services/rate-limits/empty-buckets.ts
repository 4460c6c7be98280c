import type { BucketCharge, BucketState, Decision } from "./buckets.ts";

interface Empty {
  /** When (performance.now()) the bucket held `tokens` (< 1), at the latest. */
  at: number;
  tokens: number;
  rate: number;
  burst: number;
  /** When it will hold a whole token again. */
  until: number;
}

const entryLimit = 10_000;

const keyOf = (charge: BucketCharge) => `${charge.platformId}\u0000${charge.bucket}`;

/**
 * Request buckets this instance found empty, until they hold a token again. A client that
 * keeps sending after its 429 (a flood ignoring Retry-After) is then answered from here, without
 * a round trip to the store: a refused request must stay cheap, or the refusals themselves
 * become the load the limits are there to stop.
 *
 * This never refuses a request the store would have granted, so it is no state another
 * instance needs: only time adds tokens, so a bucket that had `tokens` < 1 holds no whole token
 * before `(1 - tokens) / rate` seconds have passed, whoever else spends from it. The wait is
 * counted from when the check was sent, before the store read the bucket. Two things could add
 * tokens sooner: the operator raising the platform's limit (`forgetPlatform` drops its entries
 * on the instance that took the change), and the store losing its buckets (a crash refills
 * them). Either way an entry outlives its reason by at most one token's time (10 ms at the
 * default 100/s). Only request buckets (cost 1) are kept: an event bucket's next batch may be
 * smaller than the one refused.
 */
export class EmptyBuckets {
  readonly #entries = new Map<string, Empty>();

  /** The charge as refused from memory, or undefined when the store must be asked. */
  refusal(charge: BucketCharge, now: number): Decision | undefined {
    if (charge.kind !== "requests" || charge.cost !== 1) return undefined;
    const key = keyOf(charge);
    const empty = this.#entries.get(key);
    if (!empty) return undefined;
    if (now >= empty.until) {
      this.#entries.delete(key);
      return undefined;
    }
    const state: BucketState = {
      charge,
      rate: empty.rate,
      burst: empty.burst,
      tokens: Math.min(empty.tokens + (empty.rate * (now - empty.at)) / 1000, 1),
      sufficient: false,
    };
    return { granted: false, buckets: [state] };
  }

  /** Remembers a request bucket the store refused; `sentAt`: when the check was sent. */
  remember(decision: Decision, sentAt: number) {
    const [state] = decision.buckets;
    if (decision.granted || decision.buckets.length !== 1 || !state) return;
    if (state.charge.kind !== "requests" || state.charge.cost !== 1) return;
    if (this.#entries.size >= entryLimit) this.#entries.clear();
    this.#entries.set(keyOf(state.charge), {
      at: sentAt,
      tokens: state.tokens,
      rate: state.rate,
      burst: state.burst,
      until: sentAt + ((1 - state.tokens) / state.rate) * 1000,
    });
  }

  /** The operator changed a platform's limits: its keys' buckets may fill sooner. */
  forgetPlatform(platformId: string) {
    for (const key of this.#entries.keys()) {
      if (key.startsWith(`${platformId}\u0000`)) this.#entries.delete(key);
    }
  }
}
