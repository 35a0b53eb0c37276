/** Tasks written straight to D1 by the task object's own write (upsertTask), at chosen times. */
import { env } from "cloudflare:workers";
import { upsertTask } from "../../src/db/task-writes";
import type { ResultSource, TaskStatus } from "../../src/domain/task-record";
import { type DeliveryState, newDelivery } from "../../src/domain/delivery";

export interface StoredTaskSpec {
	createdAt: number;
	status: TaskStatus;
	resultSource?: ResultSource | null;
	completedAt?: number | null;
	errorMessage?: string | null;
	callbackUrl?: string | null;
	/** The tenant; null for a task stored before tenants existed. */
	owner?: string | null;
	/** The delivery's state; "retrying" is pending after a failed attempt. */
	delivery?: DeliveryState | "retrying" | null;
	/** A task stored before: its later state, written over it (with a version above the last). */
	taskId?: string;
	version?: number;
}

let stored = 0;

/** Stores a task as its object would once it reached this state (in `db`, env.DB unless given); returns its taskId. */
export async function storeTask(spec: StoredTaskSpec, db: D1Database = env.DB): Promise<string> {
	stored += 1;
	const taskId = spec.taskId ?? `stats-fixture-${stored}-${crypto.randomUUID().slice(0, 8)}`;
	const delivery = spec.delivery ? newDelivery(taskId, spec.completedAt ?? spec.createdAt) : null;
	if (delivery && spec.delivery !== "pending") {
		delivery.attempts = 1;
		delivery.state = spec.delivery === "retrying" ? "pending" : spec.delivery!;
		delivery.lastError = spec.delivery === "delivered" ? null : "The endpoint answered HTTP 500.";
	}
	const failed = spec.status !== "PENDING" && spec.status !== "SUCCESS";
	await upsertTask(
		db,
		{
			taskId,
			prompt: `fixture ${stored}`,
			callbackUrl: spec.callbackUrl ?? (delivery ? "https://hooks.example.com/lyrics?token=secret" : null),
			status: spec.status,
			items: [],
			errorCode: failed ? 400 : null,
			errorMessage: spec.errorMessage ?? (failed ? "The lyrics could not be written." : null),
			resultSource: spec.resultSource ?? null,
			callbacksReceived: spec.resultSource === "callback" ? 1 : 0,
			polls: spec.resultSource === "poll" ? 1 : 0,
			nextPollAt: spec.createdAt,
			createdAt: spec.createdAt,
			updatedAt: spec.completedAt ?? spec.createdAt,
			completedAt: spec.completedAt ?? null,
			delivery,
			version: spec.version ?? 1,
			owner: spec.owner ?? null,
		},
		`ref-${taskId}`,
	);
	return taskId;
}
