/** The server version reported by GET /v2; tests/serve keep it equal to package.json's version. */
export const SERVER_VERSION = '0.1.0';
