/**
 * How each kind of variable is read from its text, with the contract's defaults. A value that is
 * set but does not parse is never replaced silently: the default is used, and the problem is noted
 * (the config logs it once and /healthz names it until it is fixed). Pure: no env, no I/O.
 */

/** What is wrong with one variable, in words that never quote its value (it may be near a secret). */
export interface ConfigProblem {
	variable: string;
	problem: string;
}

export type Problems = ConfigProblem[];

export function nonEmpty(value: string | undefined): string | undefined {
	const trimmed = value?.trim();
	return trimmed ? trimmed : undefined;
}

/** The trimmed, non-empty entries of a separated list. */
export function list(value: string | undefined, separator: string | RegExp): string[] {
	return (value ?? "")
		.split(separator)
		.map((entry) => entry.trim())
		.filter((entry) => entry.length > 0);
}

/** A whole number (at least 1, or 0 too with allowZero); the fallback when unset. */
export function wholeNumber(
	problems: Problems,
	variable: string,
	value: string | undefined,
	fallback: number,
	{ allowZero = false } = {},
): number {
	const text = nonEmpty(value);
	if (text === undefined) return fallback;
	const parsed = /^\d+$/.test(text) ? Number(text) : Number.NaN;
	if (!Number.isSafeInteger(parsed) || (parsed === 0 && !allowZero)) {
		problems.push({ variable, problem: `is not a whole number of at least ${allowZero ? 0 : 1}; the default ${fallback} is used` });
		return fallback;
	}
	return parsed;
}

/** "true" or "false"; false when unset. */
export function flag(problems: Problems, variable: string, value: string | undefined): boolean {
	const text = nonEmpty(value);
	if (text === undefined || text === "false") return false;
	if (text === "true") return true;
	problems.push({ variable, problem: 'is neither "true" nor "false"; false is used' });
	return false;
}

/** An http(s) URL as an origin (and path) to build on, without trailing slashes; undefined when not one. */
export function httpUrl(value: string): string | undefined {
	try {
		const url = new URL(value);
		if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
		return `${url.origin}${url.pathname}`.replace(/\/+$/, "");
	} catch {
		return undefined;
	}
}

/** An http(s) URL; `fallback` when unset (undefined: none), and when set to something else, noted. */
export function urlVariable(problems: Problems, variable: string, value: string | undefined, fallback: string | undefined): string | undefined {
	const text = nonEmpty(value);
	if (text === undefined) return fallback;
	const url = httpUrl(text);
	if (url === undefined) {
		const instead = fallback === undefined ? "it is treated as unset" : `${fallback} is used`;
		problems.push({ variable, problem: `is not an http(s) URL; ${instead}` });
	}
	return url ?? fallback;
}

/** "5, 300, 1800" as seconds; the fallback when unset or when any entry is not a whole number. */
export function secondsList(problems: Problems, variable: string, value: string | undefined, fallback: number[]): number[] {
	const text = nonEmpty(value);
	if (!text) return fallback;
	const parts = text.split(",").map((part) => part.trim());
	if (!parts.every((part) => /^\d+$/.test(part))) {
		problems.push({ variable, problem: "is not a comma-separated list of whole numbers of seconds; the default schedule is used" });
		return fallback;
	}
	return parts.map(Number);
}
