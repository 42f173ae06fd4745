/** conda subdir names: this machine's subdir and the default platform selection. */

const ARCH: Record<string, string> = {
  x64: '64', arm64: 'arm64', ia32: '32', ppc64: 'ppc64le', s390x: 's390x', arm: 'armv7l',
};

/** The conda subdir of a Node platform/arch pair, e.g. linux-64, osx-arm64, win-64. */
export function condaSubdir(platform: string = process.platform, arch: string = process.arch): string {
  const os = platform === 'darwin' ? 'osx' : platform === 'win32' ? 'win' : platform;
  if (os === 'linux' && arch === 'arm64') return 'linux-aarch64';
  return `${os}-${ARCH[arch] ?? arch}`;
}

/** This machine's subdir plus noarch: what `--platform` means when not given. */
export function defaultPlatforms(): string[] {
  return [condaSubdir(), 'noarch'];
}
