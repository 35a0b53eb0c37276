/**
 * One JSON line per event, for `wrangler tail` and Workers observability. Callers pass only
 * identifiers and outcomes: never a secret, a token or a prompt.
 */
export type LogLevel = "info" | "warn" | "error";

export function logEvent(level: LogLevel, event: string, fields: Record<string, unknown> = {}): void {
	const line = JSON.stringify({ level, event, ...fields });
	if (level === "error") console.error(line);
	else if (level === "warn") console.warn(line);
	else console.log(line);
}
