import { generate } from 'selfsigned';

/** PEMs for one simulated cluster: its CA (what a kubeconfig's `certificate-authority-data` holds) and the API server's key pair. */
export interface ClusterCertificates {
  caPem: string;
  caKeyPem: string;
  certPem: string;
  keyPem: string;
}

const HOUR_MS = 3_600_000;

/**
 * A CA generated on the spot and a serving certificate for 127.0.0.1 (and localhost) signed by it,
 * so a client that trusts only that CA can verify the server — as it would verify EKS with the CA
 * from `eks:DescribeCluster`. EC P-256 with SHA-256 (Node rejects SHA-1 signatures); about a second.
 * Generate once per test file and pass the bundle to each `startKubeSim` to save that second.
 */
export async function generateClusterCertificates(): Promise<ClusterCertificates> {
  // Valid from an hour ago, against clock skew between generation and use; for a day.
  const notBeforeDate = new Date(Date.now() - HOUR_MS);
  const notAfterDate = new Date(Date.now() + 24 * HOUR_MS);
  const ca = await generate([{ name: 'commonName', value: 'kube-sim-ca' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const server = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  });
  return { caPem: ca.cert, caKeyPem: ca.private, certPem: server.cert, keyPem: server.private };
}
