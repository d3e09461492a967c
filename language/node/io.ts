// The streams and environment a run of the CLI gets (`main(argv, io)` of `rein/node`). Declared here,
// beside the library's `main`, so the package's types need nothing from the CLI (top-level `cli/`).

export interface CliIO {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  stdin: AsyncIterable<string | Uint8Array>;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Whether the output is a terminal (colours). */
  isTTY: boolean;
}
