/**
 * Money is an integer count of the currency's minor unit (cents for usd, yen for jpy, fils for
 * kwd) plus a lowercase ISO 4217 code. Floats never hold an amount; they only appear at the edge
 * (a decimal a person typed), where `majorToMinor` reads them exactly.
 */
import { decimalFromNumber, decimalPlaces, scaleToInteger } from "./decimal.ts";

/** Thrown when an amount has more decimals than its currency's minor unit can hold. */
export class MoneyPrecisionError extends Error {
  readonly amount: number;
  readonly currency: string;
  readonly decimalsAllowed: number;

  constructor(amount: number, currency: string, decimalsAllowed: number) {
    const unit = decimalsAllowed === 0 ? "no decimals" : `at most ${decimalsAllowed} decimals`;
    super(
      `${String(amount)} ${currency.toUpperCase()} is not a whole number of minor units: ` +
        `${currency.toUpperCase()} allows ${unit}`,
    );
    this.name = "MoneyPrecisionError";
    this.amount = amount;
    this.currency = currency;
    this.decimalsAllowed = decimalsAllowed;
  }
}

// ISO 4217 minor-unit exponents that differ from the usual 2.
const zeroDecimalCurrencies = new Set([
  "bif",
  "clp",
  "djf",
  "gnf",
  "isk",
  "jpy",
  "kmf",
  "krw",
  "pyg",
  "rwf",
  "ugx",
  "uyi",
  "vnd",
  "vuv",
  "xaf",
  "xof",
  "xpf",
]);
const threeDecimalCurrencies = new Set(["bhd", "iqd", "jod", "kwd", "lyd", "omr", "tnd"]);

/** Digits after the decimal point in the currency's major unit: usd 2, jpy 0, kwd 3 (default 2). */
export const currencyExponent = (currency: string): number => {
  const code = currency.toLowerCase();
  if (zeroDecimalCurrencies.has(code)) return 0;
  if (threeDecimalCurrencies.has(code)) return 3;
  return 2;
};

/** Rounds to the nearest integer, ties away from zero (2.5 → 3, −2.5 → −3); never returns −0. */
export const roundHalfAwayFromZero = (x: number): number => {
  if (!Number.isFinite(x)) throw new RangeError(`${x} is not a finite number`);
  const magnitude = Math.round(Math.abs(x)); // Math.round alone sends −2.5 to −2
  return x < 0 && magnitude !== 0 ? -magnitude : magnitude;
};

/** Throws a RangeError unless `value` is a safe integer (a valid amount in minor units). */
export const assertMinorUnits = (value: number, what: string): void => {
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`${what} must be a whole number of minor units, got ${value}`);
  }
};

/** Converts an exact integer result back to a number, refusing values a number cannot hold. */
export const minorUnitsFromBigInt = (value: bigint, what: string): number => {
  const result = Number(value);
  if (!Number.isSafeInteger(result)) {
    throw new RangeError(`${what} (${value}) is beyond the safe integer range`);
  }
  return result;
};

/**
 * Converts a major-unit amount (12.5 dollars) to minor units (1250) exactly, from the amount's
 * decimal text rather than by multiplying floats. Throws `MoneyPrecisionError` when the amount
 * has more decimals than the currency (1.005 usd), because silently rounding a price is a bug.
 */
export const majorToMinor = (amount: number, currency: string): number => {
  const exponent = currencyExponent(currency);
  const decimal = decimalFromNumber(amount);
  if (decimalPlaces(decimal) > exponent) throw new MoneyPrecisionError(amount, currency, exponent);
  return minorUnitsFromBigInt(scaleToInteger(decimal, exponent), `${amount} ${currency}`);
};

/** The amount in major units as plain decimal text with every minor digit: 1250 usd → "12.50". */
export const minorToDecimalString = (amount: number, currency: string): string => {
  assertMinorUnits(amount, "amount");
  const exponent = currencyExponent(currency);
  const digits = Math.abs(amount)
    .toString()
    .padStart(exponent + 1, "0");
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = exponent === 0 ? "" : `.${digits.slice(-exponent)}`;
  return `${amount < 0 ? "-" : ""}${whole}${fraction}`;
};

const currencySymbols: Readonly<Record<string, string>> = {
  usd: "$",
  eur: "€",
  gbp: "£",
  jpy: "¥",
};

const groupThousands = (whole: string): string => whole.replace(/\B(?=(\d{3})+$)/g, ",");

/**
 * Display text for an amount: "$1,234.50" with a symbol where one is unambiguous, otherwise (or
 * with `display: "code"`) "1,234.50 USD". Built from integers so it never shows float artefacts.
 */
export const formatMinor = (
  amount: number,
  currency: string,
  options: { display?: "symbol" | "code" } = {},
): string => {
  const plain = minorToDecimalString(Math.abs(amount), currency);
  const [whole = "0", fraction] = plain.split(".");
  const number =
    fraction === undefined ? groupThousands(whole) : `${groupThousands(whole)}.${fraction}`;
  const sign = amount < 0 ? "-" : "";
  const symbol = currencySymbols[currency.toLowerCase()];
  if (symbol !== undefined && options.display !== "code") return `${sign}${symbol}${number}`;
  return `${sign}${number} ${currency.toUpperCase()}`;
};
