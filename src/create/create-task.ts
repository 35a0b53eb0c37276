/**
 * Creating a task: claim one of the tenant's daily creates, take a slot under the upstream's
 * rate limit, mint the callback URL, ask the
 * upstream, and register the task with its object. Runs under waitUntil from the route, so a client that hangs up mid-create does not
 * leave a task the upstream has already charged for unrecorded.
 */
import type { Config } from "../config/config";
import { rememberUnansweredCreate } from "./record-timed-out-create";
import { logEvent } from "../lib/log";
import { mintCallbackTarget } from "../security/callback-token";
import { type Permit, createRateLimiter } from "./create-rate-limiter";
import { type Backoff, withRetries } from "../lib/retry";
import { claimQuota } from "../tenants/quota";
import type { CreateFailure } from "../upstream/create-failure";
import { type CreateResult, createLyricsTask } from "../upstream/kie-client";
import type { RegisterVerdict } from "../task/task-object";
import type { NewTask } from "../task/task-state";
import { taskObject } from "../task/stub";
import { errorMessage } from "../lib/error-message";

export interface CreateRequest {
	prompt: string;
	/** The client's own webhook, if any; never sent upstream. */
	callbackUrl: string | null;
	/** The Idempotency-Key object's name, when the create came with a key. */
	idempotencyScope?: string;
	/** The tenant whose key sent the create: the task's owner. */
	owner: string;
}

/** Configuration a create cannot go without; the route checks it before calling. */
export interface CreateCredentials {
	kieApiKey: string;
	publicUrl: string;
	tokenSecret: string;
}

/**
 * `background` keeps work alive after the answer (the route passes its waitUntil): a task whose
 * object cannot be reached right now is still answered with its taskId, and registered there.
 */
export async function createTask(
	env: Env,
	config: Config,
	credentials: CreateCredentials,
	request: CreateRequest,
	background: (work: Promise<unknown>) => void,
	/** Told the taskId the moment the upstream names it, before the task is registered. */
	onUpstreamCreated: (taskId: string) => Promise<void> = async () => {},
): Promise<CreateResult> {
	const quota = await claimQuota(env, config, request.owner);
	if (!quota.granted) {
		logEvent("warn", "create_over_quota", { tenant: request.owner });
		return { ok: false, failure: quota.failure };
	}
	let permit: Permit;
	try {
		permit = await (await createRateLimiter(env, credentials.kieApiKey)).acquire(config.kieCreateLimit);
	} catch (error) {
		// Nothing was sent: the tenant's create is not spent.
		background(quota.claim.release());
		throw error;
	}
	if (!permit.granted) {
		const seconds = Math.ceil(permit.retryAfterMs / 1000);
		logEvent("warn", "create_rate_limited", { limit: config.kieCreateLimit, retryAfterSeconds: seconds });
		background(quota.claim.release());
		return { ok: false, failure: rateLimited(config.kieCreateLimit, seconds) };
	}
	const target = await mintCallbackTarget(credentials.publicUrl, credentials.tokenSecret);
	const started = Date.now();
	const created = await createLyricsTask(config, credentials.kieApiKey, {
		prompt: request.prompt,
		callBackUrl: target.url,
	});
	// Sent: it counts whatever the upstream answered (it may have made the task and charged for it).
	background(quota.claim.sent());
	if (!created.ok) {
		logEvent("warn", "create_failed", {
			upstream: created.failure.upstream,
			status: created.failure.status,
			ms: Date.now() - started,
		});
		if (created.failure.upstream === "timeout") {
			// The upstream may have made (and charged for) the task all the same.
			const recorded = await rememberUnansweredCreate(env.DB, {
				ref: target.ref,
				prompt: request.prompt,
				callbackUrl: request.callbackUrl,
				createdAt: started,
				idempotencyScope: request.idempotencyScope ?? null,
				owner: request.owner,
			});
			if (recorded) return { ok: false, failure: { ...created.failure, ref: target.ref } };
		}
		return created;
	}
	await onUpstreamCreated(created.taskId);
	const task: NewTask = {
		taskId: created.taskId,
		ref: target.ref,
		prompt: request.prompt,
		callbackUrl: request.callbackUrl,
		createdAt: started,
		owner: request.owner,
	};
	// Pauses of 100 and 200 ms: the create's answer waits on these.
	const registered = await registerWithRetry(env, task, 2, { firstMs: 100, maxMs: 200 });
	if (registered === "taken") {
		return {
			ok: false,
			failure: {
				status: 502,
				code: 502,
				msg: `The upstream answered with task id ${created.taskId}, which an earlier task already has, so this task cannot be tracked. Try again.`,
				upstream: "task id reused",
			},
		};
	}
	if (registered === "failed") {
		// The credit is spent: answering an error would have the client create (and pay) again.
		// Answer the taskId and keep registering after the answer; record-info finds it once done.
		logEvent("error", "task_register_deferred", { taskId: created.taskId });
		background(registerWithRetry(env, task, 4, { firstMs: 1000, maxMs: 8000 }));
	}
	logEvent("info", "task_created", { taskId: created.taskId, ms: Date.now() - started });
	return { ok: true, taskId: created.taskId };
}

/** Refused before anything is sent: the upstream would refuse it too, or count it against us. */
function rateLimited(limit: number, retryAfterSeconds: number): CreateFailure {
	return {
		status: 429,
		code: 429,
		msg:
			`The gateway sends the upstream at most ${limit} creates in any 10 seconds, and that many were just sent. ` +
			`Nothing was created or charged; retry in ${retryAfterSeconds} s.`,
		upstream: "not sent: gateway rate limit",
		retryAfter: String(retryAfterSeconds),
	};
}

/**
 * The upstream has already spent a credit on this task: a passing failure to reach its object is
 * retried, `retries` times after the first try.
 */
function registerWithRetry(env: Env, input: NewTask, retries: number, backoff: Backoff): Promise<RegisterVerdict | "failed"> {
	return withRetries(() => taskObject(env, input.taskId).register(input), {
		retries,
		backoff,
		gaveUp: "failed" as const,
		onError: (error, attempt) =>
			logEvent("error", "register_failed", {
				taskId: input.taskId,
				attempt,
				error: errorMessage(error),
			}),
	});
}
