/**
 * The list endpoint's opaque cursor: the position after a page (the insertion sequence of its last
 * task), sealed (src/security/sealed-cursor.ts) so it tells its holder nothing about other tenants'
 * tasks, bound to the list it came from. Sealed with CALLBACK_TOKEN_SECRET's secrets (rotating
 * them as it rotates), or, without one, with the gateway's API keys.
 */
import type { Config } from "../config/config";
import { openCursor, sealCursor } from "../security/sealed-cursor";
import { GatewayError } from "./http/errors";

/** Which list a cursor belongs to: whose tasks (an admin's "every tenant" too) and which status. */
export function listName(owner: string | undefined, status: string | undefined): string {
	return `${owner === undefined ? "*" : `owner:${owner}`}\n${status ?? "*"}`;
}

function sealingSecrets(config: Config): string[] {
	if (config.callbackTokenSecrets.length > 0) return config.callbackTokenSecrets;
	return [config.keyEntries.map((entry) => entry.key).sort().join("\n")];
}

export function encodeCursor(config: Config, seq: number, list: string): Promise<string> {
	return sealCursor(seq, list, sealingSecrets(config));
}

export async function decodeCursor(config: Config, cursor: string, list: string): Promise<number> {
	const seq = await openCursor(cursor, list, sealingSecrets(config));
	if (seq === null) {
		throw new GatewayError(400, "cursor is not valid. Pass data.nextCursor from the previous page unchanged, with the same status and owner.");
	}
	return seq;
}
