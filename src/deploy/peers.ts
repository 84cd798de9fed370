/**
 * The packages `kiln deploy` needs besides Kiln's own dependencies: optional peer dependencies of the
 * kiln package (package.json, same pins; a test keeps them equal), named in install hints.
 */
export const PEER_VERSIONS = {
  wrangler: '4.86.0',
  'aws-cdk': '2.1148.1',
  'aws-cdk-lib': '2.276.0',
  constructs: '10.8.1',
  'cdk-nag': '3.0.2',
  '@aws-sdk/client-lambda': '3.1164.0',
  /** Dawn, copied into the GPU server folder (gpu-dawn.ts); the CLI's --backend webgpu names it too */
  webgpu: '0.6.2',
} as const;

export type PeerPackage = keyof typeof PEER_VERSIONS;

/** `npm install --save-dev a@1 b@2`, for a hint. */
export function installCommand(packages: readonly PeerPackage[]): string {
  return `npm install --save-dev ${packages.map((name) => `${name}@${PEER_VERSIONS[name]}`).join(' ')}`;
}
