// A push in a process of its own: killed mid-transfer by test/push/crash.test.ts, run with
// a small heap by test/push/memory.test.ts. Runs the built code (npm run build). The repos
// YAML comes in the environment: it holds the SFTP password, which never goes on a command
// line. Prints the push's outcome as JSON when it ends.
import { parseRepos } from '../../dist/src/config/repos.js';
import { Rclone } from '../../dist/src/rclone/index.js';
import { runPush } from '../../dist/src/workers/push.js';

const [localPath, taskId] = process.argv.slice(2);
const repo = parseRepos(process.env.PUSH_CHILD_REPOS ?? '', 'repos.yaml', '/')[0];
let events = 0;
const result = await runPush({
  task: { taskId, type: 'push', path: localPath, dryRun: false, force: false },
  repo,
  rclone: new Rclone({ executable: '/usr/bin/rclone' }),
  log: { line: () => undefined, event: () => void events++, flush: async () => undefined, close: async () => undefined },
  signal: new AbortController().signal,
  progress: () => undefined,
  enterRunning: async () => undefined,
  atime: undefined,
});
console.log(JSON.stringify({ files: result.files, events }));
