/**
 * `/dashboard`: the page from dashboard-page.ts, served without a token (it holds no data; the
 * script reads the API with the operator's token). Its Content-Security-Policy allows exactly the
 * inline script and style of this build (by hash), requests to this origin only, and nothing
 * else: no other script, frame, form target or external resource, even if an attacker got markup
 * into the page.
 */
import { createHash } from 'node:crypto';
import { DASHBOARD_CSS, DASHBOARD_JS, dashboardHtml } from './dashboard-page.js';
import type { AdminRoute } from './route.js';

const sha256 = (s: string): string => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

export const DASHBOARD_CSP = [
  "default-src 'none'",
  `script-src ${sha256(DASHBOARD_JS)}`,
  `style-src ${sha256(DASHBOARD_CSS)}`,
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function dashboardRoutes(): AdminRoute[] {
  const html = dashboardHtml();
  return [
    {
      method: 'GET', url: '/dashboard', access: 'public', produces: 'text/html',
      summary: 'The dashboard page (self-contained; it asks for a token and reads the API with it).',
      schema: { response: { 200: { type: 'string' } } },
      handler: (_ctx, _req, reply) => {
        reply.header('content-security-policy', DASHBOARD_CSP);
        reply.type('text/html; charset=utf-8');
        return html;
      },
    },
  ];
}
