// Types of build-state.mjs (plain JavaScript, so that the build and bin/ run without a TypeScript loader).
export declare const STAMP: string;
export declare function newestInput(root: string): number;
export declare function distIsFresh(root: string): boolean;
