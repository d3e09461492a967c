// A CORS preflight (`OPTIONS` with `Origin` and `Access-Control-Request-*`) sent as a browser sends it.
import { request } from 'node:http';

export function preflight(port: number | string, path: string, origin: string, requestHeaders: string): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': requestHeaders } },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}
