/**
 * TCP port helpers for the test services: every service listens on 127.0.0.1 on a
 * port chosen free at run time, so parallel test files and parallel runs never clash.
 * One implementation, shared with `glacis up`.
 */
export { LOOPBACK, freePort, isPortOpen, waitForPort } from '../../src/cli/ports.js';
