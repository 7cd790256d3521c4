// Options the shell passes to each reporting worker (piscina `workerData`). Part of the
// shell↔worker contract: plain data only.

export interface MqttSinkOptions {
  url: string;
  prefix: string;
  server: string;
  clientId?: string;
  username?: string;
  password?: string;
  tls?: { caFile?: string; certFile?: string; keyFile?: string; rejectUnauthorized?: boolean };
  reconnect: { minMs: number; maxMs: number };
}

export interface SqlSinkOptions {
  path: string;
  retentionDays: number;
  busyTimeoutMs: number;
  pruneEveryMs: number;
  pruneChunk: number;
}
