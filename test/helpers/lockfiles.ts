/** Large, realistic lock files for scale tests and benchmarks (pixi.lock v6 and conda-lock v1 layouts). */
const CF = 'https://conda.anaconda.org/conda-forge';

const hex = (i: number, n: number): string => `a${i.toString(16).padStart(n - 1, '0')}`;

export function pixiLock(count: number): string {
  const out = ['version: 6', 'environments:', '  default:', '    channels:', `    - url: ${CF}/`, '    packages:', '      linux-64:'];
  for (let i = 0; i < count; i++) out.push(`      - conda: ${CF}/linux-64/pkg${i}-1.0-h${i}_0.conda`);
  out.push('packages:');
  for (let i = 0; i < count; i++) {
    out.push(`- conda: ${CF}/linux-64/pkg${i}-1.0-h${i}_0.conda`, `  sha256: ${hex(i, 64)}`, `  md5: ${hex(i, 32)}`, '  depends:',
      '  - libgcc >=13', '  - python >=3.12,<3.13.0a0', '  license: MIT', `  size: ${1000 + i}`, '  timestamp: 1700000000000');
  }
  return `${out.join('\n')}\n`;
}

export function condaLock(count: number): string {
  const out = ['version: 1', 'metadata:', '  platforms:', '  - linux-64', '  channels:', '  - url: conda-forge', '    used_env_vars: []', 'package:'];
  for (let i = 0; i < count; i++) {
    out.push(`- name: pkg${i}`, '  version: 1.0', '  manager: conda', '  platform: linux-64', '  dependencies:', '    libgcc: ">=13"',
      `  url: ${CF}/linux-64/pkg${i}-1.0-h${i}_0.conda`, '  hash:', `    md5: ${hex(i, 32)}`, `    sha256: ${hex(i, 64)}`,
      '  category: main', '  optional: false');
  }
  return `${out.join('\n')}\n`;
}
