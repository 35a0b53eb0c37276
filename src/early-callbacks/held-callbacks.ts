/**
 * Held callbacks: early callbacks kept in their task's object until the task is stored (./index.ts
 * has the glossary). One row per callback URL (ref) with a count of deliveries: only the first
 * final outcome per ref can ever apply, so duplicates cost nothing. Owns the task object's table
 * `early_callbacks`, used only from its synchronous steps.
 */
import type { Outcome } from "../domain/task-record";
import type { ObjectTable } from "../lib/object-table";

/** Distinct refs for one task can only come from misdirected URLs; past this many, refuse. */
const MAX_REFS = 20;
/** Callbacks for a task the gateway never stored are dropped after this long. */
export const HOLD_TTL_MS = 24 * 60 * 60 * 1000;

export interface HeldCallback {
	ref: string;
	outcome: Outcome;
	deliveries: number;
	receivedAt: number;
}

export class HeldCallbacks {
	constructor(
		private readonly sql: SqlStorage,
		/** Made when the first callback is held: most tasks never hold one. */
		private readonly table: ObjectTable,
	) {}

	/** Counts the delivery and keeps its outcome if it is the ref's first final one; "full" refuses it. */
	hold(ref: string, outcome: Outcome, now: number): "held" | "full" {
		this.table.ensure();
		const held = this.sql.exec<{ final: number }>("SELECT final FROM early_callbacks WHERE ref = ?", ref).toArray()[0];
		if (held) {
			if (!held.final && outcome.final) {
				this.sql.exec(
					"UPDATE early_callbacks SET outcome = ?, final = 1, received_at = ?, deliveries = deliveries + 1 WHERE ref = ?",
					JSON.stringify(outcome),
					now,
					ref,
				);
			} else {
				this.sql.exec("UPDATE early_callbacks SET deliveries = deliveries + 1 WHERE ref = ?", ref);
			}
			return "held";
		}
		const refs = this.sql.exec("SELECT COUNT(*) AS n FROM early_callbacks").one().n as number;
		if (refs >= MAX_REFS) return "full";
		this.sql.exec(
			"INSERT INTO early_callbacks (ref, outcome, final, deliveries, received_at) VALUES (?, ?, ?, 1, ?)",
			ref,
			JSON.stringify(outcome),
			outcome.final ? 1 : 0,
			now,
		);
		return "held";
	}

	/** Everything held, oldest first, and forgets it. */
	takeAll(): HeldCallback[] {
		if (!this.table.exists) return [];
		const rows = this.sql
			.exec<{ ref: string; outcome: string; deliveries: number; received_at: number }>(
				"SELECT ref, outcome, deliveries, received_at FROM early_callbacks ORDER BY received_at",
			)
			.toArray();
		this.clear();
		return rows.map((row) => ({
			ref: row.ref,
			outcome: JSON.parse(row.outcome) as Outcome,
			deliveries: row.deliveries,
			receivedAt: row.received_at,
		}));
	}

	/** The callback URLs held callbacks came through. */
	refs(): string[] {
		if (!this.table.exists) return [];
		return this.sql.exec<{ ref: string }>("SELECT ref FROM early_callbacks").toArray().map((row) => row.ref);
	}

	/** Drops what one callback URL brought (the upstream refuted it). */
	forget(ref: string): void {
		if (this.table.exists) this.sql.exec("DELETE FROM early_callbacks WHERE ref = ?", ref);
	}

	/** Each held callback URL and the bytes its outcome takes. */
	sizes(): { ref: string; bytes: number }[] {
		if (!this.table.exists) return [];
		return this.sql.exec<{ ref: string; bytes: number }>("SELECT ref, LENGTH(CAST(outcome AS BLOB)) AS bytes FROM early_callbacks").toArray();
	}

	deliveries(): number {
		if (!this.table.exists) return 0;
		return this.sql.exec("SELECT COALESCE(SUM(deliveries), 0) AS n FROM early_callbacks").one().n as number;
	}

	/** When the oldest held callback is to be forgotten; null when none is held. */
	expiresAt(): number | null {
		if (!this.table.exists) return null;
		const oldest = this.sql.exec("SELECT MIN(received_at) AS at FROM early_callbacks").one().at as number | null;
		return oldest === null ? null : oldest + HOLD_TTL_MS;
	}

	clear(): void {
		if (this.table.exists) this.sql.exec("DELETE FROM early_callbacks");
	}
}
