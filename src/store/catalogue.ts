/**
 * The catalogue of frozen files (issue 16 §1): every file a freeze deleted, with what it
 * was (size, mtime, hash when known), when and by which task. It is what lets a report
 * notice that the remote lost the only copy left of a file; a pull that brings a file
 * back removes it. Rows are keyed by repo (its local path) and repo-relative path.
 *
 * Millions of rows are the expected case: writes are batched (one statement per
 * {@link CATALOGUE_WRITE_ROWS}), and reads are streamed page by page in path order
 * (keyset paging on the primary key), never loaded whole.
 */
import type { Kysely } from 'kysely';
import { subtree as rangeOf } from '../paths/index.js';
import type { Database, FrozenFileRow } from './schema.js';

/** Rows per INSERT or DELETE: 8 parameters a row stays far below SQLite's and PostgreSQL's limits. */
export const CATALOGUE_WRITE_ROWS = 1_000;
/** Rows read per query by {@link FrozenCatalogue.stream}. */
export const CATALOGUE_READ_PAGE = 5_000;

/** One frozen file, as recorded. */
export interface FrozenFile {
  /** Repo-relative path of the local file that was deleted. */
  readonly path: string;
  /** A symlink is frozen as its `.rclonelink` on the remote. */
  readonly kind: 'file' | 'symlink';
  readonly size: number;
  readonly mtimeMs: number;
  /** The local hash judged equal to the remote's (`verify: hash`), as `type:hex`; null when not computed. */
  readonly hash: string | null;
  /** ISO 8601, UTC. */
  readonly frozenAt: string;
  readonly taskId: string;
}

/** Files and bytes catalogued under a path. */
export interface CatalogueTotals {
  readonly files: number;
  readonly bytes: number;
}

/**
 * @example
 * ```ts
 * await store.catalogue.record('/data/lab1', [{ path: 'raw/a.dat', kind: 'file', size: 10, mtimeMs, hash: null, frozenAt, taskId }]);
 * for await (const file of store.catalogue.stream('/data/lab1', 'raw')) check(file);
 * await store.catalogue.remove('/data/lab1', ['raw/a.dat']);
 * ```
 */
export interface FrozenCatalogue {
  /** Records files just deleted by a freeze; a path already catalogued is replaced (frozen again). */
  record(repo: string, files: readonly FrozenFile[]): Promise<void>;
  /** Forgets files brought back (paths not catalogued are ignored). */
  remove(repo: string, paths: readonly string[]): Promise<void>;
  /** The files catalogued at `subtree` (repo-relative; '' for the whole repo) or below it, in path order, paged. */
  stream(repo: string, subtree: string): AsyncGenerator<FrozenFile>;
  /** Files and bytes catalogued at `subtree` or below it, counted by the database. */
  totals(repo: string, subtree: string): Promise<CatalogueTotals>;
}

export class KyselyFrozenCatalogue implements FrozenCatalogue {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly readPage = CATALOGUE_READ_PAGE,
  ) {}

  async record(repo: string, files: readonly FrozenFile[]): Promise<void> {
    for (let i = 0; i < files.length; i += CATALOGUE_WRITE_ROWS) {
      const rows: FrozenFileRow[] = files.slice(i, i + CATALOGUE_WRITE_ROWS).map((file) => ({
        repo,
        path: file.path,
        kind: file.kind,
        size: file.size,
        mtime_ms: file.mtimeMs,
        hash: file.hash,
        frozen_at: file.frozenAt,
        task_id: file.taskId,
      }));
      // The same path twice in one statement would make PostgreSQL refuse the upsert.
      const unique = [...new Map(rows.map((row) => [row.path, row])).values()];
      await this.db
        .insertInto('frozen_files')
        .values(unique)
        .onConflict((oc) =>
          oc.columns(['repo', 'path']).doUpdateSet((eb) => ({
            kind: eb.ref('excluded.kind'),
            size: eb.ref('excluded.size'),
            mtime_ms: eb.ref('excluded.mtime_ms'),
            hash: eb.ref('excluded.hash'),
            frozen_at: eb.ref('excluded.frozen_at'),
            task_id: eb.ref('excluded.task_id'),
          })),
        )
        .execute();
    }
  }

  async remove(repo: string, paths: readonly string[]): Promise<void> {
    for (let i = 0; i < paths.length; i += CATALOGUE_WRITE_ROWS) {
      await this.db
        .deleteFrom('frozen_files')
        .where('repo', '=', repo)
        .where('path', 'in', paths.slice(i, i + CATALOGUE_WRITE_ROWS))
        .execute();
    }
  }

  async *stream(repo: string, subtree: string): AsyncGenerator<FrozenFile> {
    let after: string | undefined;
    for (;;) {
      let query = this.inScope(repo, subtree).selectAll();
      if (after !== undefined) query = query.where('path', '>', after);
      const rows = (await query.orderBy('path', 'asc').limit(this.readPage).execute()) as FrozenFileRow[];
      for (const row of rows) yield toFrozenFile(row);
      if (rows.length < this.readPage) return;
      after = rows.at(-1)!.path;
    }
  }

  async totals(repo: string, subtree: string): Promise<CatalogueTotals> {
    const row = await this.inScope(repo, subtree)
      .select((eb) => [eb.fn.countAll<number>().as('files'), eb.fn.sum<number | null>('size').as('bytes')])
      .executeTakeFirst();
    return { files: Number(row?.files ?? 0), bytes: Number(row?.bytes ?? 0) };
  }

  /** The rows of one repo at a subtree: the path itself, or the byte range ['s/', 's0') below it ('/' + 1 is '0'). */
  private inScope(repo: string, subtree: string) {
    const query = this.db.selectFrom('frozen_files').where('repo', '=', repo);
    if (subtree === '') return query;
    // A range instead of LIKE: no escaping of % and _, and it uses the primary key (byte order on both dialects).
    const { self, below, end } = rangeOf(subtree);
    return query.where((eb) => eb.or([eb('path', '=', self), eb.and([eb('path', '>=', below), eb('path', '<', end)])]));
  }
}

function toFrozenFile(row: FrozenFileRow): FrozenFile {
  return {
    path: row.path,
    kind: row.kind === 'symlink' ? 'symlink' : 'file',
    size: Number(row.size),
    mtimeMs: Number(row.mtime_ms),
    hash: row.hash,
    frozenAt: row.frozen_at,
    taskId: row.task_id,
  };
}
