/**
 * API_KEYS, ADMIN_API_KEYS and TENANT_QUOTAS: comma-separated entries, each read on its own. A
 * malformed entry is ignored, never fatal: it is logged naming its position (its text may be, or
 * hold, a key) and noted as a problem of its variable; the other entries keep working.
 */
import { logEvent } from "../lib/log";
import type { Problems } from "./parse";

/** One key of API_KEYS or ADMIN_API_KEYS and whose it is. */
export interface KeyEntry {
	key: string;
	/** The name given as `name:key`; null for a bare key, whose name is bareKeyTenant(key). */
	tenant: string | null;
	/** From ADMIN_API_KEYS: reads and lists every tenant's tasks and usage. */
	admin: boolean;
}

export interface TenantQuotas {
	byTenant: ReadonlyMap<string, number>;
	/** `*:N`, for every tenant not listed; null = no quota for them. */
	others: number | null;
}

/** A tenant's name: 1 to 32 of a-z, 0-9, _ and -. */
export const TENANT_NAME = /^[a-z0-9_-]{1,32}$/;

/** Parsed once per distinct value, so each malformed entry is logged once per isolate rather than once per parse. */
const parsedLists = new Map<string, { parsed: unknown; problems: Problems }>();

function parsedOnce<T>(problems: Problems, variable: string, value: string | undefined, parse: (text: string, noted: Problems) => T): T {
	const cacheKey = `${variable}\n${value ?? ""}`;
	let cached = parsedLists.get(cacheKey);
	if (!cached) {
		if (parsedLists.size > 64) parsedLists.clear();
		const noted: Problems = [];
		cached = { parsed: parse(value ?? "", noted), problems: noted };
		parsedLists.set(cacheKey, cached);
	}
	problems.push(...cached.problems);
	return cached.parsed as T;
}

function ignoreEntry(noted: Problems, variable: string, position: number, reason: string): void {
	logEvent("warn", "config_entry_ignored", { variable, position, reason });
	noted.push({ variable, problem: `entry ${position} is ignored: ${reason}` });
}

/** Comma-separated `name:key` or bare `key` entries. */
export function keyList(problems: Problems, value: string | undefined, variable: string, admin: boolean): KeyEntry[] {
	return parsedOnce(problems, variable, value, (text, noted) => {
		const entries: KeyEntry[] = [];
		text.split(",").forEach((raw, index) => {
			const entry = raw.trim();
			if (!entry) return;
			const parts = entry.split(":");
			if (parts.length === 1) {
				entries.push({ key: entry, tenant: null, admin });
				return;
			}
			const [name = "", key = ""] = parts.map((part) => part.trim());
			if (parts.length > 2 || !TENANT_NAME.test(name) || !key || /\s/.test(key)) {
				ignoreEntry(noted, variable, index + 1, "not name:key with a name of 1 to 32 of a-z, 0-9, _, - and a key without ':'");
				return;
			}
			entries.push({ key, tenant: name, admin });
		});
		return entries;
	});
}

/** Comma-separated `name:N` (and `*:N`). */
export function quotaList(problems: Problems, value: string | undefined): TenantQuotas {
	return parsedOnce(problems, "TENANT_QUOTAS", value, (text, noted) => {
		const byTenant = new Map<string, number>();
		let others: number | null = null;
		text.split(",").forEach((raw, index) => {
			const entry = raw.trim();
			if (!entry) return;
			const match = /^([^:\s]+)\s*:\s*(\d{1,9})$/.exec(entry);
			const name = match?.[1] ?? "";
			if (!match || (name !== "*" && !TENANT_NAME.test(name))) {
				ignoreEntry(noted, "TENANT_QUOTAS", index + 1, "not name:N with a tenant name (or *) and a whole number");
				return;
			}
			if (name === "*") others = Number(match[2]);
			else byTenant.set(name, Number(match[2]));
		});
		return { byTenant, others };
	});
}
