/**
 * Push (issue 18): copy local files the remote lacks or holds differently to a pushable
 * repo's remote, each replaced remote file kept as a version (the work is
 * src/workers/push.ts, the rules src/push/).
 */
import { z } from 'zod';
import { email, FIELD_DOCS, flag, path } from '../../wire/fields.js';
import { pushRefusal } from '../../push/decision.js';
import type { TaskKindDefinition } from '../kind.js';

/** `POST /push`'s body. */
export const pushBody = z.strictObject({ path, email, dry_run: flag.optional(), force: flag.optional() });

export const pushKind: TaskKindDefinition = {
  name: 'push',
  runningStatus: 'pushing',
  words: { verb: 'push', ing: 'pushing', ed: 'pushed', bytesMeaning: 'transferred' },
  writesRemote: true,
  // Refused at submission (400) rather than failed by the worker, which refuses too.
  refusedIn: pushRefusal,
  resultField: 'push',
  resultSchema: z.object({
    new: z.int().min(0).describe('Files the remote lacked, pushed (or that would be)'),
    replaced: z.int().min(0).describe('Files the remote held differently, pushed; each remote copy kept as a version'),
    unchanged: z.int().min(0).describe('Files the remote already held identically'),
    held: z.int().min(0).describe('Files held by the shrink guard (named in the task log)'),
    remote_files: z.int().min(0).describe('Remote files under the path that push looked at (what push_change_limit is a share of)'),
    versions_dir: z.string().nullable().describe('Where this push kept the files it replaced, in the versions store beside the remote; null when it replaced none'),
    versions_removed: z.int().min(0).describe('Version directories past push_keep_versions_days that this push removed'),
  }),
  // Loaded when a worker first runs one, as pull and freeze: the registry stays light.
  run: async (context) => (await import('../../workers/push.js')).runPush(context),
  submit: {
    path: '/push',
    body: pushBody,
    toRequest: (body: z.output<typeof pushBody>) => ({ path: body.path, email: body.email, dryRun: body.dry_run ?? false, force: body.force ?? false }),
    doc: {
      schemaName: 'PushRequest',
      title: 'Copy local files the remote lacks or holds differently to the remote, under path',
      summary: 'Keep the remote copy current: copy new and changed local files to it',
      description:
        'Refused (400, naming the repository) unless the repository has pushable: true: elsewhere the remote is read-only. Never deletes on the remote: each replaced remote file is first kept as a version in "<remote path>.glacis-versions/<time>-<task>/", and versions older than push_keep_versions_days are all push removes. A file that became empty or shrank by more than push_shrink_limit % is held: the task fails naming it (MAIL_ADMIN is mailed) once the rest is pushed; a push replacing more than push_change_limit % of the remote files under path pushes nothing and fails. The finished task has files, bytes and push: {new, replaced, unchanged, held, remote_files, versions_dir, versions_removed}.',
      fields: { path: FIELD_DOCS.path, email: FIELD_DOCS.email, dry_run: FIELD_DOCS.dry_run, force: 'true: push what the anomaly guard holds (the replaced copies are still kept as versions)' },
    },
  },
  metricsBytes: {
    name: 'glacis_pushed_bytes',
    help: 'Bytes copied to remotes by the finished pushes on record (dry runs left out). Drops when task records are removed.',
  },
};
