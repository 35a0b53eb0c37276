/**
 * A gateway deployed without CALLBACK_TOKEN_SECRET, over HTTP: it mints no callback URL, so a
 * create answers 503 naming the secret, sends nothing upstream and stores nothing (the token key
 * is never derived from KIE_API_KEY). A gateway of its own, as the shared one has the secret.
 */
import { describe, expect, it } from "vitest";
import { DEV_ADMIN_API_KEY, DEV_API_KEY } from "../../scripts/local-stack.mjs";
import { gatewayOfItsOwn } from "../support/own-gateway";

// Blank is unset: the development default is overridden by a value the gateway ignores.
const stack = gatewayOfItsOwn("no-token-secret", { vars: { CALLBACK_TOKEN_SECRET: " " } });

describe("a gateway without CALLBACK_TOKEN_SECRET", () => {
	it("answers a create 503 naming the secret, with nothing sent upstream and nothing stored", async () => {
	const prompt = `A song about a missing key ${crypto.randomUUID().slice(0, 8)}`;
	const response = await fetch(`${stack().url}/api/v1/lyrics`, {
		method: "POST",
		headers: { authorization: `Bearer ${DEV_API_KEY}`, "content-type": "application/json" },
		body: JSON.stringify({ prompt }),
	});
	const body = (await response.json()) as { code: number; msg: string; data: unknown };
	expect(response.status).toBe(503);
	expect(body).toMatchObject({ code: 503, data: null });
	expect(body.msg).toMatch(/CALLBACK_TOKEN_SECRET/);

	const stats = (await (await fetch(`${stack().simulatorUrl}/__sim/stats?match=${encodeURIComponent(prompt)}`)).json()) as { creates: number };
	expect(stats.creates).toBe(0);
	const list = (await (
		await fetch(`${stack().url}/api/v1/lyrics/tasks`, { headers: { authorization: `Bearer ${DEV_ADMIN_API_KEY}` } })
	).json()) as { data: { items: unknown[] } };
	expect(list.data.items).toEqual([]);
	});
});
