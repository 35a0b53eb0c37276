/**
 * API_KEYS, ADMIN_API_KEYS and TENANT_QUOTAS as readConfig reads them: named and bare keys, admin
 * keys, quotas, and malformed entries ignored with a log line that names the position only.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { readConfig } from "../../src/config/config";
import { bareKeyTenant, configuredTenants, quotaFor } from "../../src/tenants/tenant-names";
import { gateway } from "./helpers";

afterEach(() => vi.restoreAllMocks());

/** The warn lines logged while `run` reads the configuration. */
function warningsDuring(run: () => void): string[] {
	const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
	run();
	return warn.mock.calls.map((call) => String(call[0]));
}

describe("API_KEYS and ADMIN_API_KEYS", () => {
	it("read named keys, bare keys and admin keys; the same name in both lists is one tenant", async () => {
		const config = readConfig({ API_KEYS: " alpha:ka1 , bare-secret-1, alpha:ka2", ADMIN_API_KEYS: "ops:kadmin, alpha:kalpha-admin" } as Env);
		expect(config.keyEntries).toEqual([
			{ key: "ka1", tenant: "alpha", admin: false },
			{ key: "bare-secret-1", tenant: null, admin: false },
			{ key: "ka2", tenant: "alpha", admin: false },
			{ key: "kadmin", tenant: "ops", admin: true },
			{ key: "kalpha-admin", tenant: "alpha", admin: true },
		]);
		const bareName = await bareKeyTenant("bare-secret-1");
		expect(await configuredTenants(config)).toEqual(["alpha", bareName, "ops"].sort());
	});

	it("name a bare key's tenant stably, from the key but without its text, whatever the order", async () => {
		const name = await bareKeyTenant("bare-secret-1");
		expect(name).toMatch(/^key-[0-9a-f]{12}$/);
		expect(name).not.toContain("bare");
		expect(name).not.toBe(await bareKeyTenant("bare-secret-2"));
		// Even a key short enough to appear in a digest's hex, or in the prefix, is never spelled.
		for (const short of ["a", "e", "0", "k", "key", "ab1", "ey-"]) expect(await bareKeyTenant(short)).not.toContain(short);
		// Every key of one or two name characters, "-" (in every prefix) and "e-" among them.
		const nameCharacters = [..."abcdefghijklmnopqrstuvwxyz0123456789_-"];
		for (const short of [...nameCharacters, ...nameCharacters.flatMap((first) => nameCharacters.map((second) => first + second))]) {
			const shortName = await bareKeyTenant(short);
			expect(shortName).not.toContain(short);
			expect(shortName).toMatch(/^[a-z0-9_-]{1,32}$/);
		}
		const forward = await configuredTenants(readConfig({ API_KEYS: "bare-secret-1,bare-secret-2" } as Env));
		const backward = await configuredTenants(readConfig({ API_KEYS: "bare-secret-2,bare-secret-1" } as Env));
		expect(forward).toEqual(backward);
		expect(forward).toContain(name);
	});

	it("ignore malformed entries with a log line naming their position, never their text", () => {
		const value = "good:k-good-1, Bad Name:k-secret-2, toolong-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:k-secret-3, a:b:k-secret-4, empty:, ,ok_2:k-good-5";
		let entries: unknown;
		const lines = warningsDuring(() => {
			entries = readConfig({ API_KEYS: value } as Env).keyEntries;
		});
		expect(entries).toEqual([
			{ key: "k-good-1", tenant: "good", admin: false },
			{ key: "k-good-5", tenant: "ok_2", admin: false },
		]);
		const logged = lines.map((line) => JSON.parse(line) as { event: string; variable: string; position: number });
		expect(logged.map((line) => [line.event, line.variable, line.position])).toEqual([
			["config_entry_ignored", "API_KEYS", 2],
			["config_entry_ignored", "API_KEYS", 3],
			["config_entry_ignored", "API_KEYS", 4],
			["config_entry_ignored", "API_KEYS", 5],
		]);
		for (const line of lines) expect(line).not.toMatch(/k-secret|Bad Name|toolong/);
	});

	it("a malformed entry leaves the well-formed keys working over HTTP", async () => {
		vi.spyOn(console, "warn").mockImplementation(() => {});
		const overrides = { API_KEYS: "Not Valid:k-broken, fine:k-fine-1", ADMIN_API_KEYS: "ops:k-ops-1, also bad!:x" };
		for (const key of ["k-fine-1", "k-ops-1"]) {
			const response = await gateway("/api/v1/lyrics/tasks", { headers: { authorization: `Bearer ${key}` } }, overrides);
			expect(response.status, key).toBe(200);
		}
		for (const key of ["k-broken", "x"]) {
			const response = await gateway("/api/v1/lyrics/tasks", { headers: { authorization: `Bearer ${key}` } }, overrides);
			expect(response.status, key).toBe(401);
		}
	});

	it("admin keys alone let their holders in", async () => {
		const response = await gateway(
			"/api/v1/lyrics/tasks",
			{ headers: { authorization: "Bearer k-only-admin" } },
			{ API_KEYS: "", ADMIN_API_KEYS: "root:k-only-admin" },
		);
		expect(response.status).toBe(200);
	});
});

describe("TENANT_QUOTAS", () => {
	it("reads name:N and *:N, and no quota when unset", () => {
		const quotas = readConfig({ TENANT_QUOTAS: "alpha:3, beta:0, *:50" } as Env).tenantQuotas;
		expect(quotaFor(quotas, "alpha")).toBe(3);
		expect(quotaFor(quotas, "beta")).toBe(0);
		expect(quotaFor(quotas, "gamma")).toBe(50);
		expect(quotaFor(readConfig({} as Env).tenantQuotas, "alpha")).toBeNull();
		expect(quotaFor(readConfig({ TENANT_QUOTAS: "alpha:3" } as Env).tenantQuotas, "gamma")).toBeNull();
	});

	it("ignores malformed entries with a log line naming their position", () => {
		let quotas = readConfig({} as Env).tenantQuotas;
		const lines = warningsDuring(() => {
			quotas = readConfig({ TENANT_QUOTAS: "alpha:x, Beta:4, gamma:-1, delta:7" } as Env).tenantQuotas;
		});
		expect([...quotas.byTenant]).toEqual([["delta", 7]]);
		expect(lines.map((line) => (JSON.parse(line) as { position: number }).position)).toEqual([1, 2, 3]);
	});
});
