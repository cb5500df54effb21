/** The package root. */
export declare const PACKAGE_ROOT: string;
/** The dist/ counterpart of a source file under the package root. */
export declare function distPathOf(sourcePath: string): string;
/** Why the compiled file of `sourcePath` cannot be used, or undefined when it can. */
export declare function staleReason(sourcePath: string): string | undefined;
/** The compiled file to run for `sourcePath`, or undefined to run the source with tsx. */
export declare function compiledFor(sourcePath: string): string | undefined;
