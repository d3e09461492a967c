// What the result phase reads of a CallToolResult (`result.text`) and how its transforms are put back
// (language/node/mcp/schema.ts). Regression (review h10r F17): `resource_link` blocks were never read,
// so a credential in a link's uri, name or description reached the model past a result-phase rule.
import { strict as assert } from 'node:assert';
import { maskResult, resultText } from '../../language/node/mcp/schema.js';
import { compile } from '../../language/policy.js';
import { MCP_INPUT_SCHEMA } from '../../language/node/mcp/schema.js';

const KEY = 'AKIAIOSFODNN7EXAMPLE';
const link = { type: 'resource_link', uri: `https://files.example/${KEY}`, name: `creds ${KEY}`, description: `key ${KEY}`, mimeType: 'text/plain' };

describe('rein mcp result text: resource links', () => {
  it("result.text reads a resource link's uri, name, title and description, in content order", () => {
    const r = { content: [{ type: 'text', text: 'see:' }, { ...link, title: 'T' }, { type: 'image', data: 'AAAA', mimeType: 'image/png' }] };
    assert.equal(resultText(r), ['see:', link.uri, link.name, 'T', link.description].join('\n'));
  });

  it('a result-phase rule sees them, and redact masks them in place (other fields kept)', () => {
    const policy = compile({
      'schema.rein': MCP_INPUT_SCHEMA,
      'a.rein': 'rule mask { when phase == "result" redact result.text using secrets.aws "[key]" }\nrule no_keys { when phase == "result" and secrets.any(result.text ?? "") deny "a key" }',
    });
    const result = { content: [{ type: 'text', text: 'see:' }, link] };
    const request = { phase: 'result', server: { name: 's' }, tool: { name: 't', annotations: {} }, arguments: {}, client: { name: 'c', version: '1' }, session: 'x', result: { isError: false, text: resultText(result) } };
    const d = policy.evaluate(request);
    assert.equal(d.effect, 'deny');
    const masked = maskResult(result, d.transforms) as { content: Record<string, unknown>[] };
    assert.deepEqual(masked.content[1], { type: 'resource_link', uri: 'https://files.example/[key]', name: 'creds [key]', description: 'key [key]', mimeType: 'text/plain' });
    assert.equal(masked.content[0].text, 'see:');
    assert.ok(!JSON.stringify(masked).includes(KEY));
    assert.equal(result.content[1], link, 'the original is not touched');
  });
});
