/**
 * The Asterisk prompts the exchange plays by default must exist in a stock Asterisk: the core sound pack
 * (asterisk-core-sounds-en). Issue 12: the old ARI_PROMPT_ERROR default, `an-error-has-occurred`, is not in it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../../app/config';
import { promptFiles } from '../../../app/switch/factory';

const stockSounds = new Set(
  readFileSync(join(__dirname, '..', '..', 'fixtures', 'asterisk', 'core-sounds-en-excerpt.txt'), 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith(';'))
    .map((line) => line.split(':')[0]),
);

describe('Asterisk default prompts', () => {
  it.each(Object.entries(promptFiles(loadConfig({}), 'asterisk')))('%s defaults to a sound of the stock core pack (%s)', (_prompt, file) => {
    expect(stockSounds.has(file)).toBe(true);
  });

  it('the fallback prompt of asterisk-conf/extensions.conf is one too', () => {
    const conf = readFileSync(join(__dirname, '..', '..', '..', 'asterisk-conf', 'extensions.conf'), 'utf8');
    const prompt = /Set\(CALLX_FALLBACK_PROMPT=([^)]*)\)/.exec(conf)?.[1];
    expect(stockSounds.has(prompt ?? '')).toBe(true);
  });
});
