/**
 * One table of a Durable Object's SQLite storage, as its owner sees it: made only when the owner
 * first writes to it (making a table costs rows written, as any write does), so an object makes
 * only the tables it needs; until then there is nothing to read.
 */
export interface ObjectTable {
	/** Whether it exists: with no table there is nothing to read. */
	readonly exists: boolean;
	/** Makes it (at the current version) unless it exists: before its owner's first write. */
	ensure(): void;
}
