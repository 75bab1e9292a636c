/**
 * The push kind (issue 18): copies new and changed local files to a pushable repo's
 * remote, keeping each replaced remote file as a version. See src/workers/push.ts.
 */
import { pushRefusal } from '../../push/decision.js';
import type { TaskKindDefinition } from '../kind.js';

export const pushKind: TaskKindDefinition = {
  name: 'push',
  runningStatus: 'pushing',
  words: { verb: 'push', ing: 'pushing', ed: 'pushed', bytesMeaning: 'transferred' },
  writesRemote: true,
  refusedIn: pushRefusal,
  resultField: 'push',
  // Loaded when a worker first runs one, as pull and freeze: the registry stays light.
  run: async (context) => (await import('../../workers/push.js')).runPush(context),
};
