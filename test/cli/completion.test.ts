// `rein completion bash|zsh|fish`: the bash script is run in a real bash and asked for completions;
// zsh and fish (not installed on CI) are checked for every command and option of the table.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { COMMANDS } from '../../cli/commands.js';
import { runMain } from './helpers.js';

function complete(script: string, words: string[]): string[] {
  const cword = words.length - 1;
  const shell = `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${cword}; _rein; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', shell], { encoding: 'utf8', cwd: process.cwd() });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

describe('rein completion', function () {
  this.timeout(30_000);
  it('bash: completes commands, options and --format values in a real bash', async () => {
    const r = await runMain(['completion', 'bash']);
    assert.equal(r.code, 0);
    assert.deepEqual(complete(r.stdout, ['rein', 'ch']), ['check']);
    assert.deepEqual(complete(r.stdout, ['rein', 'check', '--fo']), ['--format']);
    assert.deepEqual(complete(r.stdout, ['rein', 'check', '--format', '']).sort(), ['github', 'json', 'sarif', 'text']);
    assert.deepEqual(complete(r.stdout, ['rein', 'test', '--format', 'j']).sort(), ['json', 'junit']);
    assert.ok(complete(r.stdout, ['rein', 'eval', '--input', 'pack']).includes('package.json'), 'file names after --input');
  });

  it('zsh and fish: every command and every option of the table', async () => {
    for (const shell of ['zsh', 'fish']) {
      const r = await runMain(['completion', shell]);
      assert.equal(r.code, 0);
      for (const c of COMMANDS) {
        assert.ok(r.stdout.includes(c.name), `${shell}: ${c.name}`);
        for (const o of c.options) assert.ok(r.stdout.includes(shell === 'fish' ? `-l ${o.name}` : `--${o.name}`), `${shell}: ${c.name} --${o.name}`);
      }
    }
    assert.match((await runMain(['completion', 'zsh'])).stdout, /^#compdef rein/);
  });

  it('an unknown or missing shell is a usage error', async () => {
    const r = await runMain(['completion', 'powershell']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown shell `powershell` \(bash, zsh or fish\)/);
    assert.equal((await runMain(['completion'])).code, 2);
  });
});
