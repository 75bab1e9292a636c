/**
 * Zombie: the clean-up `GET /zombie` starts (src/services/zombies.ts). Run by the API
 * itself, never queued (no `run`); its result and log say which tasks it marked failed, as
 * Baricadr's clean-up task does.
 */
import type { TaskKindDefinition } from '../kind.js';

export const zombieKind: TaskKindDefinition = {
  name: 'zombie',
  // It has no running phase of its own: the API records it started, then ended.
  runningStatus: 'started',
  words: { verb: 'clean up', ing: 'cleaning up', ed: 'cleaned up', bytesMeaning: 'none' },
  writesRemote: false,
  mailsNobody: true,
};
