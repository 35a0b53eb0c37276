/**
 * A collaborator's one-row table, read from storage once per object lifetime and mirrored in
 * memory after that. Only its owner writes the table and the object runs one step at a time, so
 * the mirror is the table; each read it saves is a storage call (and, traced, a span) saved on
 * every callback and alarm. A new instance (after a restart) reads storage afresh.
 */
export class MirroredRow<Row> {
	/** undefined: not read yet; null: the table has no row. */
	private mirror: Row | null | undefined;

	constructor(private readonly readStored: () => Row | null) {}

	get(): Row | null {
		if (this.mirror === undefined) this.mirror = this.readStored();
		return this.mirror;
	}

	/** Call with what was just written to the table (null after deleting its row). */
	wrote(row: Row | null): void {
		this.mirror = row;
	}

	/** The storage was erased under it: read afresh next time. */
	forget(): void {
		this.mirror = undefined;
	}
}
