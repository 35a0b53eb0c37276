/**
 * Callback URL tokens are keyed with CALLBACK_TOKEN_SECRET alone. Earlier versions keyed them
 * from KIE_API_KEY when it was unset; such tokens still verify for the tasks pending at the
 * upgrade (for 14 days after they were minted), but only where D1 already binds the URL to a
 * task or a timed-out create: the upstream key never mints a place to park callbacks.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { readConfig } from "../../src/config/config";
import { recordCreate } from "../../src/db/create-records";
import { CALLBACK_PATH_PREFIX, callbackToken, callbackTokenVerdict, mintCallbackTarget } from "../../src/security/callback-token";
import {
	callbackBody,
	callbackThrough,
	createTask,
	deliver,
	expectErrorEnvelope,
	inspectTask,
	recordInfo,
	simCallback,
	uniquePrompt,
	withBody,
} from "./helpers";

/** The key earlier versions derived from KIE_API_KEY (CALLBACK_TOKEN_SECRET unset). */
const LEGACY_KEY = `lyrics-gateway/callback-token/v1:${env.KIE_API_KEY}`;
const DAY_MS = 24 * 60 * 60 * 1000;

/** The task's own callback, through its URL re-keyed as an earlier version would have minted it. */
async function legacyCallbackOf(taskId: string) {
	const callback = await simCallback(taskId);
	const ref = (await inspectTask(taskId)).state?.ref as string;
	const url = `https://gateway.test${CALLBACK_PATH_PREFIX}${ref}?token=${await callbackToken(LEGACY_KEY, ref)}`;
	return { ...callback, url };
}

function madeUpCallback(url: string) {
	const taskId = crypto.randomUUID().replace(/-/g, "");
	return { taskId, request: callbackThrough(url, taskId) };
}

describe("callback URLs minted before CALLBACK_TOKEN_SECRET was required", () => {
	it("still deliver a pending task's result, before and after the secret is set", async () => {
		const before = await createTask(uniquePrompt("pending across the upgrade"));
		// The gateway has been upgraded but the operator has not set the secret yet.
		const ack = await deliver(await legacyCallbackOf(before), { CALLBACK_TOKEN_SECRET: "" });
		expect(await ack.json()).toMatchObject({ code: 200, data: { taskId: before, result: "applied" } });
		expect((await recordInfo(before)).data).toMatchObject({ status: "SUCCESS", resultSource: "callback" });

		const after = await createTask(uniquePrompt("pending across the upgrade, secret set"));
		const applied = await deliver(await legacyCallbackOf(after));
		expect(await applied.json()).toMatchObject({ code: 200, data: { taskId: after, result: "applied" } });
	});

	it("never reach another task through a pending task's URL", async () => {
		const a = await createTask(uniquePrompt("legacy url of a"));
		const b = await createTask(uniquePrompt("legacy url of b"));
		const throughA = await legacyCallbackOf(a);
		const bCallback = await simCallback(b);
		await expectErrorEnvelope(await deliver({ ...bCallback, url: throughA.url }), 401);
		expect((await recordInfo(b)).data.status).toBe("PENDING");
	});

	it("hold nothing for a made-up task id: the upstream key cannot mint parking spots", async () => {
		const minted = await mintCallbackTarget("https://gateway.test", LEGACY_KEY);
		const { taskId, request } = madeUpCallback(minted.url);
		await expectErrorEnvelope(await deliver(request), 401);
		expect(await inspectTask(taskId)).toEqual({ state: null, earlyCallbacks: 0 });

		// The same made-up callback through a URL minted with CALLBACK_TOKEN_SECRET may be one
		// that beat its create, and is held: the difference is the key alone.
		const current = await mintCallbackTarget("https://gateway.test", `lyrics-gateway/callback-token/v1:${env.CALLBACK_TOKEN_SECRET}`);
		const held = madeUpCallback(current.url);
		expect((await deliver(held.request)).status).toBe(200);
		expect((await inspectTask(held.taskId)).earlyCallbacks).toBe(1);
	});

	it("still reach a create that timed out before the upgrade, which D1 records", async () => {
		const mintedAt = Date.now() - 5 * 60_000;
		const target = await mintCallbackTarget("https://gateway.test", LEGACY_KEY, mintedAt);
		await recordCreate(env.DB, {
			ref: target.ref,
			prompt: uniquePrompt("timed out before the upgrade"),
			callbackUrl: null,
			createdAt: mintedAt,
			idempotencyScope: null,
			owner: null,
		});
		const { taskId, request } = madeUpCallback(target.url);
		const ack = await deliver(request);
		expect(await ack.json()).toMatchObject({ code: 200, data: { taskId, result: "held-until-task-stored" } });
	});

	it("stop verifying 14 days after they were minted, and never verify a changed token", async () => {
		const config = readConfig(env);
		const now = Date.now();
		const recent = await mintCallbackTarget("https://gateway.test", LEGACY_KEY, now - 13 * DAY_MS);
		const old = await mintCallbackTarget("https://gateway.test", LEGACY_KEY, now - 15 * DAY_MS);
		const tokenOf = (url: string) => new URL(url).searchParams.get("token") ?? undefined;
		expect(await callbackTokenVerdict(config, recent.ref, tokenOf(recent.url), now)).toBe("legacy");
		expect(await callbackTokenVerdict(config, old.ref, tokenOf(old.url), now)).toBe("invalid");
		expect(await callbackTokenVerdict(config, recent.ref, `${tokenOf(recent.url)?.slice(0, -2)}AA`, now)).toBe("invalid");
		// With the upstream key rotated, the old derivation is gone too.
		expect(await callbackTokenVerdict({ ...config, kieApiKey: "rotated" }, recent.ref, tokenOf(recent.url), now)).toBe("invalid");
		// Minted today with CALLBACK_TOKEN_SECRET: current, whatever the upstream key.
		const current = await mintCallbackTarget("https://gateway.test", `lyrics-gateway/callback-token/v1:${config.callbackTokenSecret}`);
		expect(await callbackTokenVerdict({ ...config, kieApiKey: undefined }, current.ref, tokenOf(current.url), now)).toBe("current");
	});
});

describe("a callback body with the wrong task under a legacy URL", () => {
	it("is refused once the task is stored, exactly like a current URL", async () => {
		const taskId = await createTask(uniquePrompt("legacy url, wrong body"));
		const legacy = await legacyCallbackOf(taskId);
		const body = callbackBody(legacy);
		const other = crypto.randomUUID().replace(/-/g, "");
		await expectErrorEnvelope(await deliver(withBody(legacy, { ...body, data: { ...body.data, task_id: other } })), 401);
		expect(await inspectTask(other)).toEqual({ state: null, earlyCallbacks: 0 });
	});
});

describe("rotating CALLBACK_TOKEN_SECRET (\"<new> <old>\")", () => {
	it("verifies URLs minted with the old secret while it is listed second, mints with the first, and refuses them once it is gone", async () => {
		const old = "the-old-callback-token-secret";
		const taskId = await createTask(uniquePrompt("pending across a rotation"), {}, { CALLBACK_TOKEN_SECRET: old });
		const callback = await simCallback(taskId);

		// Rotated: the new secret first, the old one second. The pending task's URL still verifies.
		const rotating = { CALLBACK_TOKEN_SECRET: `the-new-callback-token-secret ${old}` };
		const config = readConfig({ ...env, ...rotating });
		const ref = (await inspectTask(taskId)).state?.ref as string;
		const tokenOf = (url: string) => new URL(url).searchParams.get("token") ?? undefined;
		expect(await callbackTokenVerdict(config, ref, tokenOf(callback.url))).toBe("current");
		// New URLs are minted with the new secret alone.
		expect(config.callbackTokenSecret).toBe("the-new-callback-token-secret");
		const fresh = await createTask(uniquePrompt("created during a rotation"), {}, rotating);
		const freshUrl = (await simCallback(fresh)).url;
		const freshRef = (await inspectTask(fresh)).state?.ref as string;
		expect(await callbackTokenVerdict(readConfig({ ...env, CALLBACK_TOKEN_SECRET: "the-new-callback-token-secret" }), freshRef, tokenOf(freshUrl))).toBe("current");

		// The old secret dropped: its URLs are refused (the task is then recovered by the poller).
		await expectErrorEnvelope(await deliver(callback, { CALLBACK_TOKEN_SECRET: "the-new-callback-token-secret" }), 401);
		expect((await recordInfo(taskId)).data.status).toBe("PENDING");
		// While it was listed, the same callback is applied.
		const applied = await deliver(callback, rotating);
		expect(await applied.json()).toMatchObject({ code: 200, data: { taskId, result: "applied" } });
	});
});
