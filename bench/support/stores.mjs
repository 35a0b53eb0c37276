// What the local stack stores, read off its own files under a `--persist-to` folder: SQLite pages
// in use (not file sizes: freed pages are not counted) of D1 and of the task objects, and the
// archive's (R2's) object bytes.

import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

/**
 * Pages in use (not free) of every SQLite file under `dir` whose path passes `keep`. A database
 * with no table at all (an erased object's: SQLite keeps its one header page) holds nothing: 0.
 */
function liveSqliteBytes(dir, keep) {
  let bytes = 0;
  for (const file of filesUnder(dir).filter((path) => path.endsWith('.sqlite') && keep(path))) {
    const db = new DatabaseSync(file, { readOnly: true });
    try {
      const pragma = (name) => Object.values(db.prepare(`PRAGMA ${name}`).get())[0];
      const tables = Object.values(db.prepare("SELECT COUNT(*) FROM sqlite_master").get())[0];
      if (tables > 0) bytes += (pragma('page_count') - pragma('freelist_count')) * pragma('page_size');
    } finally {
      db.close();
    }
  }
  return bytes;
}

function filesUnder(dir) {
  try {
    return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const path = join(dir, entry.name);
      return entry.isDirectory() ? filesUnder(path) : [path];
    });
  } catch {
    return [];
  }
}

/** D1, the task objects and the archive's objects, in bytes. */
export function measureStores(persistTo) {
  const v3 = join(persistTo, 'v3');
  return {
    d1: liveSqliteBytes(join(v3, 'd1'), () => true),
    objects: liveSqliteBytes(join(v3, 'do'), (path) => path.includes('TaskObject')),
    // The other objects: Idempotency-Keys, the limiter, the quota counter, the held-callback budget.
    otherObjects: liveSqliteBytes(join(v3, 'do'), (path) => !path.includes('TaskObject')),
    // R2 keeps each object's bytes in a blob file beside a metadata database.
    archive: filesUnder(join(v3, 'r2')).filter((path) => path.includes(`${join('blobs', '')}`)).reduce((sum, path) => sum + statSync(path).size, 0),
  };
}

