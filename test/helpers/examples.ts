// The example policy sets: the directories under examples/ that hold `.rein` files. Some examples
// (examples/openai-agent) are agents that use another example's policy and hold none of their own.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const EXAMPLES_DIR = fileURLToPath(new URL('../../examples/', import.meta.url));

/** Names of the example directories that are policy sets, sorted. */
export function exampleSetNames(): string[] {
  return readdirSync(EXAMPLES_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && readdirSync(join(EXAMPLES_DIR, d.name)).some((f) => f.endsWith('.rein')))
    .map((d) => d.name)
    .sort();
}
