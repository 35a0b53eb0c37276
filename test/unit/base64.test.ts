/**
 * The base64 codec every callback's token and signature goes through: it must agree with a
 * reference implementation (the runtime's btoa) on every canonical text, and refuse every text that is
 * not the one canonical encoding of its bytes, or a forged token could verify in several spellings.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromBase64, toBase64, toBase64Url } from "../../src/security/base64";

const bytes = fc.uint8Array({ maxLength: 80 });
/** The reference: the platform's own encoder. */
const reference = (input: Uint8Array) => btoa(String.fromCharCode(...input));
const referenceUrl = (input: Uint8Array) => reference(input).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

describe("base64", () => {
	it("encodes as btoa does, standard and URL-safe", () => {
		fc.assert(
			fc.property(bytes, (input) => {
				expect(toBase64(input)).toBe(reference(input));
				expect(toBase64Url(input)).toBe(referenceUrl(input));
			}),
		);
	});

	it("decodes every spelling it produces: padded, unpadded, URL-safe", () => {
		fc.assert(
			fc.property(bytes, (input) => {
				const padded = reference(input);
				for (const text of [padded, padded.replace(/=+$/, ""), referenceUrl(input), ` ${padded} `]) {
					expect(fromBase64(text)).toEqual(input);
				}
			}),
		);
	});

	it("refuses a text whose last character carries bits its bytes do not have", () => {
		// "QQ==" is the one encoding of [0x41]; "QR" decodes to the same byte plus stray bits.
		expect(fromBase64("QQ==")).toEqual(new Uint8Array([0x41]));
		for (const text of ["QR", "QR==", "QUJ", "QUK="]) expect(fromBase64(text), text).toBeNull();
		fc.assert(
			fc.property(bytes.filter((input) => input.length % 3 !== 0), fc.integer({ min: 1, max: 15 }), (input, stray) => {
				const text = referenceUrl(input);
				const last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".indexOf(text.at(-1) as string);
				const unused = input.length % 3 === 1 ? 15 : 3;
				const altered = `${text.slice(0, -1)}${"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[last | (stray & unused)]}`;
				if (altered !== text) expect(fromBase64(altered)).toBeNull();
			}),
		);
	});

	it("refuses what is not base64: stray characters, a lone sixth bit, too much padding", () => {
		for (const text of ["QQ=A", "Q", "QUJD=", "QQ===", "Q===", "QU JD", "QUJD\u00e9", "QUJD!", "=QUJ"]) {
			expect(fromBase64(text), text).toBeNull();
		}
	});
});
