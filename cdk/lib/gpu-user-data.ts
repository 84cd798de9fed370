/**
 * Boot script of a Kiln GPU instance (Ubuntu Deep Learning AMI): Node.js 20, the Vulkan loader and the
 * NVIDIA Vulkan ICD (what the planned WebGPU backend drives), the bundle from S3, and `kiln serve` as a
 * systemd service that restarts on failure.
 */
import * as ec2 from 'aws-cdk-lib/aws-ec2';

export interface GpuUserDataOptions {
  /** s3:// URL of the zipped bundle asset. */
  readonly bundleUrl: string;
  readonly region: string;
  readonly port: number;
  readonly kilnPackage: string;
}

const NODE_VERSION = 'v20.19.5';
const MODEL_DIR = '/opt/kiln/model';

export function gpuUserData(options: GpuUserDataOptions): ec2.UserData {
  const userData = ec2.UserData.forLinux();
  userData.addCommands(
    'set -euo pipefail',
    'export DEBIAN_FRONTEND=noninteractive',
    'apt-get update',
    // the loader plus the ICD json that points it at the NVIDIA driver the AMI ships
    'apt-get install -y unzip curl xz-utils libvulkan1 vulkan-tools',
    'DRIVER=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -n1 | cut -d. -f1)',
    'apt-get install -y "libnvidia-gl-${DRIVER}-server" || apt-get install -y "libnvidia-gl-${DRIVER}"',
    `curl -fsSL https://nodejs.org/dist/${NODE_VERSION}/node-${NODE_VERSION}-linux-x64.tar.xz | tar -xJ -C /usr/local --strip-components=1`,
    `npm install -g ${options.kilnPackage}`,
    `mkdir -p ${MODEL_DIR}`,
    `aws s3 cp --region ${options.region} ${options.bundleUrl} /tmp/bundle.zip`,
    `unzip -o /tmp/bundle.zip -d ${MODEL_DIR}`,
    'useradd --system --no-create-home kiln || true',
    `cat > /etc/systemd/system/kiln.service <<'UNIT'`,
    '[Unit]',
    'Description=Kiln model server',
    'After=network-online.target',
    '[Service]',
    'User=kiln',
    'Environment=KILN_BACKEND=auto',
    `ExecStart=/usr/local/bin/kiln serve ${MODEL_DIR} --host 0.0.0.0 --port ${options.port}`,
    'Restart=on-failure',
    '[Install]',
    'WantedBy=multi-user.target',
    'UNIT',
    'systemctl daemon-reload',
    'systemctl enable --now kiln.service',
  );
  return userData;
}
