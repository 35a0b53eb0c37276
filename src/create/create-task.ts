/**
 * Creating a task, as one sequence. Each step moves on or ends the create with a CreateFailure
 * (src/domain/create-failure.ts); nothing here throws to the route.
 *
 *   1. settings checked          (a missing secret: 503, nothing written)
 *   2. callback URL minted       (its ref names this create to its key and its journal entry)
 *   3. Idempotency-Key claimed   (a repeat replays the key's task, or waits for it)
 *   4. quota reserved            (the tenant's create for today, held for minutes)
 *   5. limiter permits           (KIE_CREATE_LIMIT in any 10 s, across every instance)
 *   6. create journalled         (D1: from here on, a task the upstream names cannot be lost)
 *   7. quota committed           (the reservation counts for the day)
 *   8. sent                      <- the credit is spent here, whatever the upstream answers
 *   9. upstream named the task   (no answer in time: the journal entry stays for adoption, the key in doubt)
 *  10. key learns the taskId
 *  11. registered                with the task's object; the journal entry goes, or stays for the cron
 *
 * Steps 3 to 7 reach Durable Objects and D1 before anything is sent: if one cannot be reached the
 * create ends as "unavailable" and costs nothing. The quota is settled in one place: counted once
 * committed, given back otherwise (or lapsing by itself). The route runs all of it under
 * waitUntil, so a client that hangs up mid-create does not leave a task the upstream charged for
 * unrecorded.
 */
import type { Config } from "../config/config";
import type { CreateOutcome } from "../domain/create-failure";
import { errorMessage } from "../lib/error-message";
import { logEvent } from "../lib/log";
import { type CallbackTarget, mintCallbackTarget } from "../security/callback-token";
import { reserveQuota } from "../tenants/quota";
import { createLyricsTask } from "../upstream/kie-client";
import { CreateJournalEntry } from "./create-journal";
import { createRateLimiter } from "./create-rate-limiter";
import { type CreateCredentials, createCredentials } from "./credentials";
import { coordinationUnavailable, overQuota, rateLimited } from "./failures";
import type { Background, CreateRequest } from "./create-request";
import { type KeyLease, claimKey } from "./key-lease";
import { registerTask } from "./register-task";

export async function createTask(env: Env, config: Config, request: CreateRequest, background: Background): Promise<CreateOutcome> {
	const credentials = createCredentials(config, request.callbackUrl);
	if ("kind" in credentials) return { ok: false, failure: credentials };
	const target = await mintCallbackTarget(credentials.publicUrl, credentials.tokenSecret);
	if (!request.idempotencyKey) return sendOnce(env, config, credentials, target, request, null, background);
	const key = await claimKey(env, request.idempotencyKey, target.ref);
	if (!key.proceed) return key.outcome;
	let outcome: CreateOutcome | null = null;
	try {
		outcome = await sendOnce(env, config, credentials, target, request, key.lease, background);
		return outcome;
	} finally {
		await key.lease.settle(outcome);
	}
}

/** Steps 4 to 11: at most one upstream create, paid for at most once. */
async function sendOnce(
	env: Env,
	config: Config,
	credentials: CreateCredentials,
	target: CallbackTarget,
	request: CreateRequest,
	key: KeyLease | null,
	background: Background,
): Promise<CreateOutcome> {
	const now = Date.now();
	let quota: Awaited<ReturnType<typeof reserveQuota>>;
	try {
		quota = await reserveQuota(env, config, request.owner, now);
	} catch (error) {
		return unavailable(error);
	}
	if (!quota.granted) {
		logEvent("warn", "create_over_quota", { tenant: request.owner });
		return { ok: false, failure: overQuota(request.owner, quota.quota, quota.resetsAt, now) };
	}
	let sent = false;
	try {
		let permit: Awaited<ReturnType<ReturnType<typeof createRateLimiter>["acquire"]>>;
		try {
			permit = await createRateLimiter(env).acquire(config.kieCreateLimit, request.owner);
		} catch (error) {
			return unavailable(error);
		}
		if (!permit.granted) {
			const seconds = Math.ceil(permit.retryAfterMs / 1000);
			logEvent("warn", "create_rate_limited", { limit: config.kieCreateLimit, retryAfterSeconds: seconds });
			return { ok: false, failure: rateLimited(config.kieCreateLimit, seconds, permit.share) };
		}
		let entry: CreateJournalEntry;
		try {
			entry = await CreateJournalEntry.open(env.DB, request, target.ref, now);
		} catch (error) {
			return unavailable(error);
		}
		const committed = await quota.claim.commit().catch((error: unknown) => error);
		if (committed !== true) {
			background(entry.close());
			return unavailable(committed === false ? new Error("the quota reservation lapsed and the quota is used up") : committed);
		}
		const started = Date.now();
		sent = true;
		key?.markSent();
		const created = await createLyricsTask(config, credentials.kieApiKey, { prompt: request.prompt, callBackUrl: target.url });
		if (!created.ok) {
			const { failure } = created;
			logEvent("warn", "create_failed", { upstream: failure.upstream, status: failure.status, ms: Date.now() - started });
			// Refused outright: nothing was made. Otherwise the upstream may have made (and charged
			// for) the task all the same: the entry stays for its callback.
			if (failure.kind !== "upstream-timeout" && !failure.mayHaveMade) background(entry.close());
			return failure.kind === "upstream-timeout" ? { ok: false, failure: { ...failure, ref: target.ref } } : created;
		}
		const { taskId } = created;
		// A key that could not learn the task is told by the task's object (its alarm retries).
		const keyTold = key ? await key.learn(taskId) : true;
		const keyToTell = keyTold || !request.idempotencyKey ? undefined : { scope: request.idempotencyKey.scope, ref: target.ref };
		const task = { taskId, ref: target.ref, prompt: request.prompt, callbackUrl: request.callbackUrl, createdAt: started, owner: request.owner };
		return await registerTask(env, task, { entry, keyToTell }, background);
	} finally {
		background(sent ? quota.claim.sent() : quota.claim.release());
	}
}

function unavailable(error: unknown): CreateOutcome {
	logEvent("error", "create_coordination_failed", { error: errorMessage(error) });
	return { ok: false, failure: coordinationUnavailable() };
}
