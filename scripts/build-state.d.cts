// Types of build-state.cjs (plain JavaScript, so that the build and bin/ run without a TypeScript loader).
export declare const STAMP: string;
export declare function newestInput(root: string): number;
export declare function distIsFresh(root: string): boolean;
export declare const BUILD_ID: string;
export declare const CLI_SCRIPT: string;
export declare const LAUNCHER: string;
