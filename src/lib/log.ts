/**
 * One JSON line per event, for `wrangler tail` and Workers observability. Callers pass only
 * identifiers and outcomes: never a secret, a token or a prompt. Each line carries `ts` (ISO 8601)
 * unless the caller gives its own, so lines copied out of `wrangler tail` still say when.
 */
export type LogLevel = "info" | "warn" | "error";

export function logEvent(level: LogLevel, event: string, fields: Record<string, unknown> = {}): void {
	const line = JSON.stringify({ ts: new Date().toISOString(), level, event, ...fields });
	if (level === "error") console.error(line);
	else if (level === "warn") console.warn(line);
	else console.log(line);
}
