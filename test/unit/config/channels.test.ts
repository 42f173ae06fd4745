import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultSettings } from '../../../src/config/index.js';
import { channelNameFromUrl, resolveChannelUrls } from '../../../src/config/channels.js';

const defaults = defaultSettings();

test('channel names resolve through channel_alias, custom_channels and defaults', () => {
  const s = defaultSettings({ customChannels: { corp: 'https://conda.corp.example/' }, channelAlias: 'https://mirror.example/conda/' });
  assert.deepEqual(resolveChannelUrls('conda-forge', s), ['https://mirror.example/conda/conda-forge']);
  assert.deepEqual(resolveChannelUrls('corp', s), ['https://conda.corp.example/corp']);
  assert.deepEqual(resolveChannelUrls('corp/label/dev', s), ['https://conda.corp.example/corp/label/dev']);
  assert.deepEqual(resolveChannelUrls('defaults', s), ['https://repo.anaconda.com/pkgs/main', 'https://repo.anaconda.com/pkgs/r']);
  assert.deepEqual(resolveChannelUrls('https://x.example/ch/', s), ['https://x.example/ch']);
});

test('URLs map back to conda\'s canonical channel names', () => {
  const cases: Array<[string, string]> = [
    ['https://conda.anaconda.org/conda-forge/linux-64/repodata.json', 'conda-forge'],
    ['https://repo.anaconda.com/pkgs/main/linux-64/x-1-0.conda', 'defaults'],
    ['http://localhost:8000/mychan/noarch/repodata.json', 'http://localhost:8000/mychan'],
    ['file:///tmp/chan/linux-64/repodata.json', 'file:///tmp/chan'],
    ['s3://bucket/chan/noarch/repodata.json', 's3://bucket/chan'],
    ['https://conda.anaconda.org/t/tk-1/private/linux-64/repodata.json', 'private'],
    ['http://localhost', 'http://localhost'],
  ];
  for (const [url, name] of cases) assert.equal(channelNameFromUrl(url, defaults), name, url);
});

test('custom channels and a custom channel_alias are recognised in URLs', () => {
  const s = defaultSettings({ customChannels: { corp: 'https://conda.corp.example' }, channelAlias: 'https://mirror.example/conda' });
  assert.equal(channelNameFromUrl('https://conda.corp.example/corp/noarch/repodata.json', s), 'corp');
  assert.equal(channelNameFromUrl('https://mirror.example/conda/bioconda/osx-arm64/a-1-0.tar.bz2', s), 'bioconda');
  assert.equal(channelNameFromUrl('not a url', s), undefined);
});
