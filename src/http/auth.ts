/** Bearer authentication of clients against API_KEYS, for everything under /api/*. */
import { createMiddleware } from "hono/factory";
import { readConfig } from "../config";
import { timingSafeEqualText } from "../security/hmac";
import { GatewayError } from "./errors";
import type { AppEnv } from "./router";

export const requireApiKey = createMiddleware<AppEnv>(async (c, next) => {
	const header = c.req.header("authorization") ?? "";
	const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
	const keys = readConfig(c.env).apiKeys;
	if (!match || !(await matchesAny(match[1] as string, keys))) {
		throw new GatewayError(
			401,
			keys.length === 0
				? "This gateway has no API keys configured (API_KEYS), so it accepts no calls yet."
				: match
					? "The bearer token is not valid for this gateway. Check the key you send."
					: "Missing bearer token. Send the header `Authorization: Bearer <your gateway API key>`.",
			401,
			{ "www-authenticate": 'Bearer realm="lyrics-gateway"' },
		);
	}
	// Idempotency keys are scoped to the client's key (src/idempotency).
	c.set("apiKey", match[1] as string);
	await next();
});

/** Checks every key, whatever matches first, so timing says nothing about which key or how many. */
async function matchesAny(token: string, keys: string[]): Promise<boolean> {
	const results = await Promise.all(keys.map((key) => timingSafeEqualText(token, key)));
	return results.includes(true);
}
