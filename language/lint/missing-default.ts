// REIN304 (hint): the policy header does not say `default allow` or `default deny`, so the
// implicit `default allow` applies. Also reported when there is no `policy` header at all.

import type { LintRule } from './registry.js';

export const missingDefault: LintRule = {
  code: 'REIN304',
  name: 'missing-default',
  description: 'no `default` in the policy header',
  kinds: [],
  finish(ctx, accept) {
    const files = ctx.program.files;
    if (files.length === 0) return;
    for (const f of files)
      for (const d of f.decls) {
        if (d.kind !== 'PolicyDecl') continue;
        if (d.items.some((i) => i.kind === 'PolicyDefault')) return;
        accept({
          file: f.file,
          range: d.name?.range ?? { start: d.range.start, end: d.range.start },
          message: `policy \`${d.name?.text ?? ''}\` has no \`default\`; \`default allow\` applies`,
          help: 'write `default allow` or `default deny` in the policy header',
        });
        return;
      }
    const at = files[0].range.start;
    accept({
      file: files[0].file,
      range: { start: at, end: at },
      message: 'the policy set has no `policy` header, so `default allow` applies',
      help: 'add `policy NAME { default deny }` (or `default allow`)',
    });
  },
};
