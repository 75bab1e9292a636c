/**
 * Freeze: delete local copies of cold files the remote holds identically, each checked
 * again right before (the work is src/workers/freeze.ts).
 */
import { z } from 'zod';
import { email, FIELD_DOCS, flag, path } from '../../wire/fields.js';
import type { TaskKindDefinition } from '../kind.js';

/** `POST /freeze`'s body, Baricadr's fields. */
export const freezeBody = z.strictObject({ path, email, dry_run: flag.optional(), force: flag.optional() });

export const freezeKind: TaskKindDefinition = {
  name: 'freeze',
  runningStatus: 'freezing',
  words: { verb: 'freeze', ing: 'freezing', ed: 'frozen', bytesMeaning: 'freed' },
  writesRemote: false,
  // Only when a run has more to say than its counters: a watermark freeze's figures (marks,
  // usage before and after, missing_bytes), or the limit that stopped it early.
  resultField: 'freeze',
  // Refused at submission, naming the repo, rather than accepted and failed later by the
  // worker (which still refuses: a repos file may change between the two).
  refusedIn: (repo) =>
    repo.freezable ? undefined : `Freezing is disabled in repository ${repo.localPath} (freezable: false); pull works there, freeze does not`,
  // Loaded when a worker first runs one: the registry stays light for the CLI and the API,
  // which read it for names and words only.
  run: async (context) => (await import('../../workers/freeze.js')).runFreeze({ ...context, onFreezeStart: context.enterRunning }),
  submit: {
    path: '/freeze',
    body: freezeBody,
    toRequest: (body: z.output<typeof freezeBody>) => ({ path: body.path, email: body.email, dryRun: body.dry_run ?? false, force: body.force ?? false }),
    doc: {
      schemaName: 'FreezeRequest',
      title: 'Delete local copies of cold files the remote holds identically, under path',
      summary: 'Free local disk: delete cold files the remote holds identically',
      description:
        'Refused (400, naming the repository) unless the repository has freezable: true. Nothing local under path is nothing to do: the task finishes with files 0. The finished task has files, bytes (freed) and unprotected. A file is deleted only when the remote, asked again right before, holds it identically: see the README, "What freeze deletes".',
      fields: { path: FIELD_DOCS.path, email: FIELD_DOCS.email, dry_run: FIELD_DOCS.dry_run, force: 'true: ignore freeze_age (never the other freeze rules)' },
    },
  },
  metricsBytes: {
    name: 'glacis_freed_bytes',
    help: 'Local bytes freed by the finished freezes on record (dry runs left out). Drops when task records are removed.',
  },
};
