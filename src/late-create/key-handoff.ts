/**
 * After a task object claims a late create that came with an Idempotency-Key, that key's object
 * must learn the task, so a retry with the key replays it instead of paying again. Told from the
 * object's alarm until it hears (or the key's own window is over). Owns its table, `key_handoff`.
 */
import { IDEMPOTENCY_WINDOW_MS, idempotencyObject } from "../idempotency/idempotency-object";
import { logEvent } from "../log";
import { errorMessage } from "../error-message";

const RETRY_MS = 10_000;

export interface PendingHandoff {
	scope: string;
	ref: string;
}

export class KeyHandoff {
	constructor(private readonly sql: SqlStorage) {
		sql.exec(
			"CREATE TABLE IF NOT EXISTS key_handoff (id INTEGER PRIMARY KEY CHECK (id = 1), scope TEXT NOT NULL, ref TEXT NOT NULL, retry_at INTEGER)",
		);
	}

	/** The key `scope` (its create's ref `ref`) is to be told this task; due at once. */
	set(handoff: PendingHandoff): void {
		this.sql.exec("INSERT OR REPLACE INTO key_handoff (id, scope, ref, retry_at) VALUES (1, ?, ?, NULL)", handoff.scope, handoff.ref);
	}

	pending(): PendingHandoff | null {
		return this.sql.exec<{ scope: string; ref: string }>("SELECT scope, ref FROM key_handoff WHERE id = 1").toArray()[0] ?? null;
	}

	nextRun(now: number): number | null {
		const row = this.sql.exec<{ retry_at: number | null }>("SELECT retry_at FROM key_handoff WHERE id = 1").toArray()[0];
		return row ? (row.retry_at ?? now) : null;
	}

	/** Tells the key its task; on failure tries again later, unless the key's window is over. */
	async handOff(env: Env, taskId: string, createdAt: number): Promise<void> {
		const pending = this.pending();
		if (!pending) return;
		try {
			await idempotencyObject(env, pending.scope).adopt(pending.ref, taskId);
			this.sql.exec("DELETE FROM key_handoff");
		} catch (error) {
			logEvent("error", "idempotency_adopt_failed", { error: errorMessage(error) });
			// Pointless once the key's own window is over.
			if (Date.now() < createdAt + IDEMPOTENCY_WINDOW_MS) this.sql.exec("UPDATE key_handoff SET retry_at = ?", Date.now() + RETRY_MS);
			else this.sql.exec("DELETE FROM key_handoff");
		}
	}
}
