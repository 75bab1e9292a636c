// Runs s3rver in its own process, so a test can stop it (or kill it) and it never shares
// the test's event loop. Spawned by test/harness/s3.ts as:
//   node --openssl-legacy-provider s3-server-process.mjs <root-dir>
// --openssl-legacy-provider: s3rver encrypts ListObjectsV2 continuation tokens with DES,
// which OpenSSL 3 only has in its legacy provider (without it: HTTP 500 on every V2 list).
//
// Protocol: prints exactly one line `S3RVER_LISTENING <port>` on stdout once it accepts
// connections (it binds port 0, so there is no port race). Exits on SIGTERM/SIGINT after
// closing the server, and when its stdin closes, i.e. when the parent is gone.
import S3rver from 's3rver';

const root = process.argv[2];
if (!root) {
  console.error('usage: s3-server-process.mjs <root-dir>');
  process.exit(2);
}

const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  directory: root,
  // Per-request logging would swamp the output the harness keeps for error messages.
  silent: true,
  // Buckets are addressed by path (rclone's force_path_style), not by virtual host.
  vhostBuckets: false,
});

let closing = false;
async function shutdown(code) {
  if (closing) return;
  closing = true;
  try {
    await server.close();
  } finally {
    process.exit(code);
  }
}

process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(0));
process.stdin.on('close', () => void shutdown(0));
process.stdin.on('end', () => void shutdown(0));
process.stdin.resume();

try {
  const address = await server.run();
  process.stdout.write(`S3RVER_LISTENING ${address.port}\n`);
} catch (err) {
  console.error(`s3rver failed to start: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
}
