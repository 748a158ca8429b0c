import { DataSource } from 'typeorm';
import { rows, sql } from './sql';

const distributed = new WeakMap<DataSource, Promise<Set<string>>>();

/**
 * The tables Citus distributes by a column in this database (none on plain PostgreSQL), read once per DataSource:
 * the few statements whose single-node form Citus refuses (a row lock across shards) pick their other form by it.
 * docs/sharding.md
 */
export function citusDistributed(ds: DataSource): Promise<Set<string>> {
  let found = distributed.get(ds);
  if (!found) {
    found = (async () => {
      const [{ citus }] = await rows<{ citus: boolean }>(
        ds,
        sql`SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') AS citus`,
      );
      if (!citus) return new Set<string>();
      const tables = await rows<{ name: string }>(
        ds,
        sql`SELECT logicalrelid::regclass::text AS name FROM pg_dist_partition WHERE partmethod = 'h'`,
      );
      return new Set(tables.map((t) => t.name));
    })();
    // A failed read (the database not up yet) is asked again next time.
    found.catch(() => distributed.delete(ds));
    distributed.set(ds, found);
  }
  return found;
}
