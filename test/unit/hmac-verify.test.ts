/**
 * hmacVerify remembers MACs that verified (every delivery of a task carries the same URL token), so
 * the memory must never make a wrong MAC pass: not one byte off, not under another key or message.
 */
import { describe, expect, it } from "vitest";
import { hmacSign, hmacVerify } from "../../src/security/hmac";

describe("hmacVerify", () => {
	it("verifies a right MAC again and again, and refuses every near miss before and after", async () => {
		const mac = await hmacSign("secret-a", "ref-1");
		const tampered = Uint8Array.from(mac, (byte, i) => (i === 31 ? byte ^ 1 : byte));
		expect(await hmacVerify("secret-a", "ref-1", tampered)).toBe(false);
		for (let i = 0; i < 3; i++) expect(await hmacVerify("secret-a", "ref-1", mac)).toBe(true);
		expect(await hmacVerify("secret-a", "ref-1", tampered)).toBe(false);
		expect(await hmacVerify("secret-b", "ref-1", mac)).toBe(false);
		expect(await hmacVerify("secret-a", "ref-2", mac)).toBe(false);
		expect(await hmacVerify("secret-a", "ref-1", mac.slice(0, 31))).toBe(false);
	});

	it("keeps verifying once it has forgotten the oldest of many", async () => {
		const first = await hmacSign("secret-c", "ref-0");
		expect(await hmacVerify("secret-c", "ref-0", first)).toBe(true);
		for (let i = 1; i <= 4200; i++) expect(await hmacVerify("secret-c", `ref-${i}`, await hmacSign("secret-c", `ref-${i}`))).toBe(true);
		expect(await hmacVerify("secret-c", "ref-0", first)).toBe(true);
		expect(await hmacVerify("secret-c", "ref-0", Uint8Array.from(first, (byte) => byte ^ 0xff))).toBe(false);
	});
});
