// Deterministic lyric generation for the simulated provider.
//
// Tests compare what the gateway stored with what the provider "generated", so the same prompt
// must always give the same lyrics: everything below is driven by a PRNG seeded with a hash of
// the prompt. No network, no Math.random.

import { createHash } from 'node:crypto';

/**
 * One generated variation, in neutral form; callbacks.mjs and provider.mjs rename the error
 * field to the provider's snake_case or camelCase spelling.
 * @typedef {{ title: string, text: string, status: 'complete', errorMessage: string }} LyricItem
 */

// Words that carry no theme; skipping them makes titles read like titles ("Small Town", not "About The").
const STOPWORDS = new Set(
  (
    'a an the and or but nor so yet about above after again against all am any are as at be because been ' +
    'before being below between both by can could did do does doing down during each few for from further ' +
    'had has have having he her here hers him his how i if in into is it its just me more most my no not ' +
    'now of off on once only other our ours out over own same she should some such than that their theirs ' +
    'them then there these they this those through to too under until up very was we were what when where ' +
    'which while who whom why will with would you your yours song songs lyric lyrics write make makes ' +
    'theme style mood story track please want like feel feeling kind sort something thing things using ' +
    'lot lots really get gets got one two three'
  ).split(' '),
);

const NOUNS = [
  'heart', 'river', 'city', 'light', 'road', 'window', 'rain', 'fire', 'morning', 'shadow', 'ocean',
  'radio', 'street', 'sky', 'dream', 'star', 'night', 'summer', 'highway', 'harbor', 'garden', 'echo',
  'thunder', 'candle', 'horizon', 'mountain', 'letter', 'moon', 'bridge', 'station',
];
const ADJECTIVES = [
  'golden', 'quiet', 'broken', 'silver', 'endless', 'gentle', 'restless', 'faded', 'electric', 'hollow',
  'burning', 'midnight', 'wild', 'tender', 'distant', 'crimson', 'lonely', 'shining',
];
const VERBS = [
  'chase', 'hold', 'carry', 'follow', 'remember', 'call', 'find', 'wake', 'cross', 'light', 'keep', 'guide',
];

// {K} a theme word from the prompt, {N} noun, {A} adjective, {V} verb (all from the banks above).
const VERSE_LINES = [
  'I {V} the {A} {N} tonight',
  'Underneath a {A} {N}',
  'We were {A} like the {N}',
  'Every {N} remembers {K}',
  'Running through the {A} {N}',
  'Hold on, the {N} is {A} again',
  "I can hear the {N} when it's dark",
  "There's a {A} {N} inside of me",
  'Whispers of {K} on the wind',
  'Where the {A} {N} meets the sky',
  'Nothing but {K} and the {N}',
  "And the {N} won't let me go",
  'Counting every {A} {N} I pass',
  'Your voice is a {A} {N}',
  'Streetlights paint the {N} in gold',
  'I wrote your name on a {A} {N}',
];
const CHORUS_LINES = [
  'Oh, {K}, carry me home',
  'Sing it loud, sing it {A}',
  "We'll {V} the {N} until the morning comes",
  '{K}, {K}, never let it fade',
  'Take my hand and {V} the {N}',
  "This {A} heart won't break tonight",
  'All we need is {K} and a {A} {N}',
  'Let the {N} carry us away',
];
const BRIDGE_LINES = [
  'Maybe we were never meant to stay',
  'But the {N} still knows the way',
  "If the {A} {N} falls, I'll be there",
  'Breathe in, breathe out, {K} is near',
  "So I'll {V} it one more time",
  'Slow down, the {N} is turning {A}',
];
const OUTRO_LINES = [
  'And the {N} fades into {K}',
  'Goodnight, {A} {N}',
  "{K}, I'm still here",
  'Just the {N} and me',
  'Softly now, the {A} {N}',
];
const TITLE_PATTERNS = ['{K1} {K2}', '{A} {K1}', '{K1} Nights', 'Songs of {K1}', 'The {K1} Road', '{K1} and the {N}'];

/** PRNG: mulberry32, tiny and good enough for picking words. @param {number} seed */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** @param {string} word */
const titleCase = (word) => (word ? word[0].toUpperCase() + word.slice(1) : word);

/**
 * Theme words of a prompt, in order, without stopwords, tokens containing digits (test markers such
 * as "run-4f2a" would read badly in a lyric) or duplicates.
 * @param {string} prompt
 * @returns {string[]}
 */
export function themeWords(prompt) {
  const out = [];
  for (const token of prompt.toLowerCase().split(/\s+/)) {
    if (/\d/.test(token)) continue;
    for (const raw of token.match(/[\p{L}']+/gu) ?? []) {
      const word = raw.replace(/^'+|'+$/g, '');
      if (word.length < 3 || STOPWORDS.has(word) || out.includes(word)) continue;
      out.push(word);
    }
  }
  return out;
}

/**
 * Two or three lyric variations for a prompt; the same prompt always gives the same result.
 * @param {string} prompt
 * @returns {LyricItem[]}
 */
export function generateLyrics(prompt) {
  const digest = createHash('sha256').update(prompt, 'utf8').digest();
  const rand = mulberry32(digest.readUInt32BE(0));
  /** @template T @param {readonly T[]} list @returns {T} */
  const pick = (list) => list[Math.floor(rand() * list.length)];

  const found = themeWords(prompt);
  // Prompts without usable words (all stopwords, or one long CJK run) still get a theme.
  const themes = found.length > 0 ? found : [pick(NOUNS), pick(NOUNS)];
  const count = 2 + Math.floor(rand() * 2);
  /** @type {LyricItem[]} */
  const items = [];
  for (let v = 0; v < count; v++) {
    // Each variation leans on a different theme word so the variations visibly differ.
    const k1 = themes[v % themes.length];
    const k2 = themes[(v + 1) % themes.length] !== k1 ? themes[(v + 1) % themes.length] : pick(NOUNS);
    /** @param {string} template */
    const fill = (template) =>
      template
        .replace(/\{K1\}/g, () => titleCase(k1))
        .replace(/\{K2\}/g, () => titleCase(k2))
        .replace(/\{K\}/g, () => (rand() < 0.7 ? k1 : pick(themes)))
        .replace(/\{N\}/g, () => pick(NOUNS))
        .replace(/\{A\}/g, () => pick(ADJECTIVES))
        .replace(/\{V\}/g, () => pick(VERBS));
    /** Four distinct lines from a pool (seeded partial shuffle), first letter capitalised. @param {string[]} pool */
    const section = (pool) => {
      const order = pool.map((_, i) => i);
      for (let i = 0; i < 4; i++) {
        const j = i + Math.floor(rand() * (order.length - i));
        [order[i], order[j]] = [order[j], order[i]];
      }
      return order.slice(0, 4).map((i) => titleCase(fill(pool[i]))).join('\n');
    };
    const title = fill(pick(TITLE_PATTERNS))
      .split(' ')
      .map((w) => (w === 'and' || w === 'of' || w === 'the' ? w : titleCase(w)))
      .join(' ');
    const chorus = section(CHORUS_LINES);
    const text = [
      `[Verse]\n${section(VERSE_LINES)}`,
      `[Chorus]\n${chorus}`,
      `[Verse 2]\n${section(VERSE_LINES)}`,
      `[Chorus]\n${chorus}`,
      `[Bridge]\n${section(BRIDGE_LINES)}`,
      `[Outro]\n${section(OUTRO_LINES)}`,
    ].join('\n\n');
    items.push({ title: titleCase(title), text, status: 'complete', errorMessage: '' });
  }
  return items;
}
