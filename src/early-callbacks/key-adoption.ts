/**
 * After a task object claims a late create that came with an Idempotency-Key, that key's object
 * must learn the task, so a retry with the key replays it instead of paying again. Told from the
 * object's alarm until it hears (or the key's own window is over). Owns its table, `key_handoff`.
 */
import { IDEMPOTENCY_WINDOW_MS, idempotencyObject } from "../idempotency/idempotency-object";
import { logEvent } from "../lib/log";
import { errorMessage } from "../lib/error-message";
import { MirroredRow } from "../lib/mirrored-row";

const RETRY_MS = 10_000;

export interface PendingHandoff {
	scope: string;
	ref: string;
}

type HandoffRow = { scope: string; ref: string; retry_at: number | null };

export class KeyHandoff {
	private readonly stored: MirroredRow<HandoffRow>;

	constructor(private readonly sql: SqlStorage) {
		sql.exec(
			"CREATE TABLE IF NOT EXISTS key_handoff (id INTEGER PRIMARY KEY CHECK (id = 1), scope TEXT NOT NULL, ref TEXT NOT NULL, retry_at INTEGER)",
		);
		this.stored = new MirroredRow(() => sql.exec<HandoffRow>("SELECT scope, ref, retry_at FROM key_handoff WHERE id = 1").toArray()[0] ?? null);
	}

	/** The key `scope` (its create's ref `ref`) is to be told this task; due at once. */
	set(handoff: PendingHandoff): void {
		this.sql.exec("INSERT OR REPLACE INTO key_handoff (id, scope, ref, retry_at) VALUES (1, ?, ?, NULL)", handoff.scope, handoff.ref);
		this.stored.wrote({ scope: handoff.scope, ref: handoff.ref, retry_at: null });
	}

	pending(): PendingHandoff | null {
		const row = this.stored.get();
		return row && { scope: row.scope, ref: row.ref };
	}

	nextRun(now: number): number | null {
		const row = this.stored.get();
		return row ? (row.retry_at ?? now) : null;
	}

	/** Tells the key its task; on failure tries again later, unless the key's window is over. */
	async handOff(env: Env, taskId: string, createdAt: number): Promise<void> {
		const pending = this.pending();
		if (!pending) return;
		try {
			await idempotencyObject(env, pending.scope).adopt(pending.ref, taskId);
			this.forget();
		} catch (error) {
			logEvent("error", "idempotency_adopt_failed", { error: errorMessage(error) });
			// Pointless once the key's own window is over.
			if (Date.now() < createdAt + IDEMPOTENCY_WINDOW_MS) {
				const retryAt = Date.now() + RETRY_MS;
				this.sql.exec("UPDATE key_handoff SET retry_at = ?", retryAt);
				this.stored.wrote({ ...pending, retry_at: retryAt });
			} else this.forget();
		}
	}

	private forget(): void {
		this.sql.exec("DELETE FROM key_handoff");
		this.stored.wrote(null);
	}
}
