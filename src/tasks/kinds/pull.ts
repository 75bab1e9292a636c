/**
 * Pull: bring back what the remote holds under a path and the local tree lacks, never
 * replacing a local file (the work is src/workers/pull.ts).
 */
import { z } from 'zod';
import { email, FIELD_DOCS, flag, path } from '../../wire/fields.js';
import type { TaskKindDefinition } from '../kind.js';

/** `POST /pull`'s body, Baricadr's fields. */
export const pullBody = z.strictObject({ path, email, dry_run: flag.optional() });

export const pullKind: TaskKindDefinition = {
  name: 'pull',
  runningStatus: 'pulling',
  words: { verb: 'pull', ing: 'pulling', ed: 'pulled', bytesMeaning: 'transferred' },
  writesRemote: false,
  // Loaded when a worker first runs one: the registry stays light for the CLI and the API,
  // which read it for names and words only.
  run: async (context) => (await import('../../workers/pull.js')).runPull(context),
  submit: {
    path: '/pull',
    body: pullBody,
    toRequest: (body: z.output<typeof pullBody>) => ({ path: body.path, email: body.email, dryRun: body.dry_run ?? false }),
    doc: {
      schemaName: 'PullRequest',
      title: 'Bring back what is missing locally under path',
      summary: 'Bring back files missing locally',
      description: 'Copies what the remote holds under path and the local tree lacks. Never overwrites a local file, never writes to the remote.',
      fields: { path: FIELD_DOCS.path, email: FIELD_DOCS.email, dry_run: FIELD_DOCS.dry_run },
    },
  },
  metricsBytes: {
    name: 'glacis_pulled_bytes',
    help: 'Bytes brought back by the finished pulls on record (dry runs left out). Drops when task records are removed.',
  },
};
