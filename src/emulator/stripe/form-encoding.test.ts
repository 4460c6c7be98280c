import { describe, expect, it } from "vitest";
import { FormEncodingError, parseFormEncoded } from "./form-encoding.ts";

describe("parseFormEncoded", () => {
  it("builds nested hashes from bracketed keys", () => {
    expect(
      parseFormEncoded(
        "email=a%40b.co&invoice_settings[default_payment_method]=pm_1&metadata[plan]=pro&metadata[0]=x",
      ),
    ).toEqual({
      email: "a@b.co",
      invoice_settings: { default_payment_method: "pm_1" },
      metadata: { plan: "pro", "0": "x" },
    });
  });

  it("reads arrays in both the SDK's indexed form and curl's empty-bracket form", () => {
    expect(parseFormEncoded("expand[0]=a&expand[1]=b.c")).toEqual({ expand: ["a", "b.c"] });
    expect(parseFormEncoded("expand[]=a&expand[]=b")).toEqual({ expand: ["a", "b"] });
    expect(parseFormEncoded("expand%5B%5D=a")).toEqual({ expand: ["a"] });
  });

  it("keeps empty values, which mean 'unset'", () => {
    expect(parseFormEncoded("metadata=&description=")).toEqual({ metadata: "", description: "" });
  });

  it("refuses a key used both as a value and as a hash", () => {
    expect(() => parseFormEncoded("a=1&a[b]=2")).toThrow(FormEncodingError);
    expect(() => parseFormEncoded("a[b]=2&a=1")).toThrow(FormEncodingError);
  });
});
