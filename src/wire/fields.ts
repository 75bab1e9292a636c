/**
 * The request fields every body shares, in Baricadr's value forms: the API's schemas
 * (src/api/requests.ts) and the task kinds' submission bodies (src/tasks/kinds/) both build on
 * these. No express here, and nothing that imports the task registry (which imports the kinds).
 * With the wire shapes rather than in src/api: the kinds are a lower layer than the API
 * (test/architecture.test.ts).
 */
import { z } from 'zod';
import { BOOLEAN_PATTERN, parseBoolean } from '../text/values.js';

/**
 * A flag, in every form Baricadr's clients send: booleans, 1/0, and the strings
 * true/false/1/0/yes/no (and on/off, as the config reads them: src/text/values.ts) in any
 * case (Baricadr reads "1" and "yes" as true for `dry_run`).
 * Other strings are refused, not read as false: a mistyped `dry_run` must never turn into
 * a real freeze. `null` means "not given" (barique sends `"max_depth": null`): the default.
 */
export const flag = z
  .union([z.boolean(), z.literal(0), z.literal(1), z.string().regex(BOOLEAN_PATTERN), z.null()])
  .transform((v) => (v === null ? undefined : parseBoolean(v) === true));

// `path` stays unknown here: src/paths owns its rules and its error messages, and the
// services answer a missing one with Baricadr's `Missing "path"`. Optional, because zod 4
// makes a bare `z.unknown()` key required and would report it as an invalid path.
export const path = z.unknown().optional();
export const email = z.union([z.string().max(1000), z.null()]).optional();


/** What the shared fields mean, for the OpenAPI document (src/api/openapi.ts) and the kinds' bodies. */
export const FIELD_DOCS = {
  path: 'Absolute path of a file or directory inside a repository',
  email: 'Mailed when the task ends (null or absent: nobody)',
  dry_run: 'true: copy or delete nothing, report what would be (true/false, also "True"/"False", 1/0, yes/no and on/off)',
} as const;
