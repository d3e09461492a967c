// The host functions of this example's `extern def`s, as an ES module: `rein eval|serve|mcp
// --externs externs.js` loads it, and an embedding passes the same functions to
// `new Engine(policy, { externs })`.
//
// - `entities`: named entities from compromise (https://github.com/spencermountain/compromise), a
//   maintained, MIT-licensed NLP library that runs offline in Node and browsers, without a model
//   download: people, places and organisations.
// - `injection_score`: a small rule-based scorer (phrases typical of prompt injections). It stands
//   in for a real classifier (a hosted model, Llama Guard, …): the policy only sees a number.
import nlp from 'compromise';

/** People, places and organisations named in `text`. */
export function entities(text) {
  const doc = nlp(text);
  const out = [];
  if (doc.people().found) out.push('PERSON');
  if (doc.places().found) out.push('PLACE');
  if (doc.organizations().found) out.push('ORG');
  return out;
}

const SIGNALS = [
  [/\bignore (all |any )?(the )?(previous|prior|above) (instructions|prompts?)\b/i, 0.9],
  [/\b(system|hidden) prompt\b/i, 0.5],
  [/\byou are now\b|\bact as\b/i, 0.4],
  [/\bdisregard\b.*\b(rules|guidelines|instructions)\b/i, 0.8],
  [/\bjailbreak|\bDAN mode\b/i, 0.8],
];

/** A prompt-injection score in [0, 1]. */
export function injection_score(text) {
  let score = 0;
  for (const [re, weight] of SIGNALS) if (re.test(text)) score = 1 - (1 - score) * (1 - weight);
  return Math.round(score * 100) / 100;
}
