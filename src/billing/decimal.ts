/**
 * Exact decimal and integer arithmetic, for the few places where a JavaScript number has to be read as the
 * decimal a person wrote (12.5 dollars, 0.3 GB) rather than as the binary double it is stored as.
 * Multiplying the double (0.29 * 100 = 28.999999999999996) is how money drifts; reading its
 * shortest round-trip text ("0.29") is exact.
 */

/** The value `coefficient × 10^exponent`, kept normalized (no trailing zeros in the coefficient). */
export interface Decimal {
  readonly coefficient: bigint;
  readonly exponent: number;
}

// `String(x)` for a finite number is always one of: 12, 12.5, 1e+21, 1.5e-7 (optionally signed).
const numberText = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/;

const normalize = (coefficient: bigint, exponent: number): Decimal => {
  if (coefficient === 0n) return { coefficient: 0n, exponent: 0 };
  let c = coefficient;
  let e = exponent;
  while (c % 10n === 0n) {
    c /= 10n;
    e += 1;
  }
  return { coefficient: c, exponent: e };
};

/** The exact decimal that `x` prints as (its shortest round-trip form): 0.29 → 29 × 10^-2. */
export const decimalFromNumber = (x: number): Decimal => {
  if (!Number.isFinite(x)) throw new RangeError(`${x} is not a finite number`);
  const match = numberText.exec(String(x));
  if (!match) throw new RangeError(`cannot read ${String(x)} as a decimal`);
  const [, sign = "", whole = "0", fraction = "", exponent = "0"] = match;
  return normalize(BigInt(`${sign}${whole}${fraction}`), Number(exponent) - fraction.length);
};

const decimalText = /^(-?)(\d+)(?:\.(\d*))?$/;

/** The decimal that plain text such as PostgreSQL's `numeric` output ("-12.500") writes, exactly. */
export const decimalFromString = (text: string): Decimal => {
  const match = decimalText.exec(text);
  if (!match) throw new RangeError(`cannot read '${text}' as a decimal`);
  const [, sign = "", whole = "0", fraction = ""] = match;
  return normalize(BigInt(`${sign}${whole}${fraction}`), -fraction.length);
};

/** `numerator / denominator` rounded to an integer, ties away from zero, exactly. */
export const divideRoundHalfAwayFromZero = (numerator: bigint, denominator: bigint): bigint => {
  if (denominator === 0n) throw new RangeError("division by zero");
  const negative = numerator < 0n !== denominator < 0n;
  const n = numerator < 0n ? -numerator : numerator;
  const d = denominator < 0n ? -denominator : denominator;
  // floor(n/d + 1/2) = floor((2n + d) / 2d) for non-negative n, d.
  const magnitude = (2n * n + d) / (2n * d);
  return negative ? -magnitude : magnitude;
};

/** `d` rounded to `places` digits after the point, ties away from zero. */
export const roundDecimal = (d: Decimal, places: number): Decimal => {
  if (d.exponent >= -places) return d;
  const divisor = 10n ** BigInt(-places - d.exponent);
  return normalize(divideRoundHalfAwayFromZero(d.coefficient, divisor), -places);
};

/** The number of digits after the decimal point (0 for whole numbers). */
export const decimalPlaces = (d: Decimal): number => Math.max(0, -d.exponent);

/** `d × 10^power` as an integer; the caller guarantees the result is whole. */
export const scaleToInteger = (d: Decimal, power: number): bigint => {
  const shift = d.exponent + power;
  if (shift < 0) throw new RangeError(`${decimalToString(d)} × 10^${power} is not whole`);
  return d.coefficient * 10n ** BigInt(shift);
};

/** `a − b`, exactly. */
export const subtractDecimals = (a: Decimal, b: Decimal): Decimal => {
  const exponent = Math.min(a.exponent, b.exponent);
  const scaled = (d: Decimal) => d.coefficient * 10n ** BigInt(d.exponent - exponent);
  return normalize(scaled(a) - scaled(b), exponent);
};

/** The smallest integer n with n × divisor ≥ d, for a positive integer divisor. */
export const ceilDivideDecimal = (d: Decimal, divisor: bigint): bigint => {
  if (divisor <= 0n) throw new RangeError("the divisor must be positive");
  const numerator = d.exponent >= 0 ? d.coefficient * 10n ** BigInt(d.exponent) : d.coefficient;
  const denominator = d.exponent >= 0 ? divisor : divisor * 10n ** BigInt(-d.exponent);
  const quotient = numerator / denominator; // BigInt division truncates toward zero
  const exact = quotient * denominator === numerator;
  return exact || numerator < 0n ? quotient : quotient + 1n;
};

/** Plain decimal text, e.g. "-0.0125" or "1500". */
export const decimalToString = (d: Decimal): string => {
  const sign = d.coefficient < 0n ? "-" : "";
  const digits = (d.coefficient < 0n ? -d.coefficient : d.coefficient).toString();
  if (d.exponent >= 0) return `${sign}${digits}${"0".repeat(d.exponent)}`;
  const places = -d.exponent;
  const padded = digits.padStart(places + 1, "0");
  return `${sign}${padded.slice(0, -places)}.${padded.slice(-places)}`;
};

/** The nearest number to `d`. */
export const decimalToNumber = (d: Decimal): number => Number(decimalToString(d));
