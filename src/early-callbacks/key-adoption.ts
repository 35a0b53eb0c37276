/**
 * After a task object adopts a timed-out create that came with an Idempotency-Key, or registers a
 * task from the create journal whose key did not hear of it, that key's object must learn the
 * task too, so a retry with the key replays it instead of paying again.
 * Told from the object's alarm until it hears (or the key's own window is over). Owns the task
 * object's table `key_adoption`.
 */
import { IDEMPOTENCY_WINDOW_MS, idempotencyObject } from "../idempotency/idempotency-object";
import { errorMessage } from "../lib/error-message";
import { logEvent } from "../lib/log";
import { MirroredRow } from "../lib/mirrored-row";
import type { ObjectTable } from "../lib/object-table";

const RETRY_MS = 10_000;

export interface KeyToTell {
	/** The key's object (src/idempotency/idempotency-key.ts). */
	scope: string;
	/** The ref of the create's callback URL: how the key knows the create. */
	ref: string;
}

type KeyAdoptionRow = { scope: string; ref: string; retry_at: number | null };

export class KeyAdoption {
	private readonly stored: MirroredRow<KeyAdoptionRow>;

	constructor(
		private readonly sql: SqlStorage,
		private readonly table: ObjectTable,
	) {
		this.stored = new MirroredRow(() =>
			table.exists ? (sql.exec<KeyAdoptionRow>("SELECT scope, ref, retry_at FROM key_adoption WHERE id = 1").toArray()[0] ?? null) : null,
		);
	}

	/** The object's storage was erased. */
	reset(): void {
		this.stored.forget();
	}

	/** The key is to learn this task; due at once. */
	expect(key: KeyToTell): void {
		this.table.ensure();
		this.sql.exec("INSERT OR REPLACE INTO key_adoption (id, scope, ref, retry_at) VALUES (1, ?, ?, NULL)", key.scope, key.ref);
		this.stored.wrote({ scope: key.scope, ref: key.ref, retry_at: null });
	}

	nextRun(now: number): number | null {
		const row = this.stored.get();
		return row ? (row.retry_at ?? now) : null;
	}

	/** Tells the key its task; on failure tries again later, unless the key's window is over. */
	async tell(env: Env, taskId: string, createdAt: number): Promise<void> {
		const pending = this.stored.get();
		if (!pending) return;
		try {
			await idempotencyObject(env, pending.scope).adopt(pending.ref, taskId);
			this.forget();
		} catch (error) {
			logEvent("error", "idempotency_adopt_failed", { error: errorMessage(error) });
			// Pointless once the key's own window is over.
			if (Date.now() < createdAt + IDEMPOTENCY_WINDOW_MS) {
				const retryAt = Date.now() + RETRY_MS;
				this.sql.exec("UPDATE key_adoption SET retry_at = ?", retryAt);
				this.stored.wrote({ ...pending, retry_at: retryAt });
			} else this.forget();
		}
	}

	private forget(): void {
		this.sql.exec("DELETE FROM key_adoption");
		this.stored.wrote(null);
	}
}
