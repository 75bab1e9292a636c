/** Types of scripts/build-web.mjs, for the TypeScript that imports it (the test setup). */
export declare const PAGE_BUDGET_BYTES: number;
export declare function buildWebPage(): Promise<{ file: string; bytes: number; gzipBytes: number; sha256: string }>;
