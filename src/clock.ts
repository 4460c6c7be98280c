/**
 * The only place the service reads wall-clock time. Domain code receives a `Clock` and never
 * calls `Date.now()` itself, so tests and the operator test clock control time completely.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = {
  now: () => new Date(),
};

/** A clock that stands still until moved; used by tests and the operator test clock. */
export class ManualClock implements Clock {
  #now: number;

  constructor(start: Date | string | number = Date.now()) {
    this.#now = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.#now);
  }

  set(to: Date | string | number): void {
    const next = new Date(to).getTime();
    if (next < this.#now) throw new RangeError("time never moves backwards");
    this.#now = next;
  }

  advance(ms: number): void {
    this.set(this.#now + ms);
  }
}
