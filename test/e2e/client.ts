/** A small HTTP client for the gateway and simulator the e2e global setup started. */
import { inject } from "vitest";

export const gatewayUrl = inject("gatewayUrl");
export const simulatorUrl = inject("simulatorUrl");
const apiKey = inject("apiKey");

export interface Envelope<T = any> {
	code: number;
	msg: string;
	data: T;
}

export async function call<T = any>(path: string, init: RequestInit = {}, auth = true) {
	const headers = new Headers(init.headers);
	if (auth && !headers.has("authorization")) headers.set("authorization", `Bearer ${apiKey}`);
	const response = await fetch(`${gatewayUrl}${path}`, { ...init, headers });
	const text = await response.text();
	return { status: response.status, headers: response.headers, text, body: JSON.parse(text) as Envelope<T> };
}

export async function create(prompt: string, extra: Record<string, unknown> = {}) {
	return call<{ taskId: string }>("/api/v1/lyrics", {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ prompt, ...extra }),
	});
}

export async function recordInfo(taskId: string) {
	return call(`/api/v1/lyrics/record-info?taskId=${encodeURIComponent(taskId)}`);
}

export async function sim<T = any>(path: string, body?: unknown): Promise<T> {
	const response = await fetch(`${simulatorUrl}${path}`, {
		method: body === undefined ? "GET" : "POST",
		headers: { "content-type": "application/json" },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	return (await response.json()) as T;
}

export function unique(label: string): string {
	return `${label} ${crypto.randomUUID().slice(0, 12)}`;
}

/** Polls `check` until it returns a value, for at most `ms`. */
export async function eventually<T>(check: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
	const deadline = Date.now() + ms;
	for (;;) {
		const value = await check();
		if (value !== undefined) return value;
		if (Date.now() > deadline) throw new Error("condition not met in time");
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
}

export async function fireCron(): Promise<void> {
	const response = await fetch(`${gatewayUrl}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent("* * * * *")}`);
	if (!response.ok) throw new Error(`cron trigger answered ${response.status}`);
}
