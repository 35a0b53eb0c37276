/**
 * readConfig runs on every request and object call, so it parses the environment again only when
 * a variable's value changed: the same values give the very same Config, and any change (tests
 * swap values, a deployment's secrets rotate) is seen at once.
 */
import { describe, expect, it } from "vitest";
import { readConfig } from "../../src/config/config";

const base = { POLL_MAX_PER_TICK: "40", API_KEYS: "acme:key-one", PUBLIC_URL: "https://gw.example" } as unknown as Env;

describe("readConfig", () => {
	it("gives the same Config for the same values, from any env object holding them", () => {
		const first = readConfig(base);
		expect(readConfig(base)).toBe(first);
		expect(readConfig({ ...base } as Env)).toBe(first);
	});

	it("parses again when any value changes, and back again when it changes back", () => {
		const before = readConfig(base);
		const changed = readConfig({ ...base, POLL_MAX_PER_TICK: "7" } as Env);
		expect(changed.pollMaxPerTick).toBe(7);
		expect(readConfig({ ...base, API_KEYS: "acme:key-two" } as Env).keyEntries.map((entry) => entry.key)).toEqual(["key-two"]);
		expect(readConfig(base).pollMaxPerTick).toBe(before.pollMaxPerTick);
		// An env object changed in place is seen too: the values are compared, not the object.
		const mutable = { ...base } as Env & Record<string, string>;
		readConfig(mutable);
		mutable.PUBLIC_URL = "https://other.example";
		expect(readConfig(mutable).publicUrl).toBe("https://other.example");
	});
});
