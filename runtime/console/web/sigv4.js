// AWS Signature Version 4 for the console's requests, with WebCrypto
// (crypto.subtle: available in secure contexts, i.e. HTTPS or a loopback
// address). The secret never leaves the page: only the signature is sent.

const encoder = new TextEncoder();

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');
}

async function sha256Hex(text) {
  return hex(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
}

async function hmac(key, text) {
  const raw = typeof key === 'string' ? encoder.encode(key) : key;
  const cryptoKey = await crypto.subtle.importKey(
    'raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return crypto.subtle.sign('HMAC', cryptoKey, encoder.encode(text));
}

// "20150830T123600Z" for a Date.
export function amzDate(date) {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

export function signingAvailable() {
  return Boolean(globalThis.crypto && crypto.subtle);
}

// The headers to send with a request: `headers` plus X-Amz-Date,
// X-Amz-Security-Token (with a session token) and Authorization. `host` is
// signed but not returned (the browser sends it).
export async function sign({ method, host, path, headers, body, region, service,
                             credentials, now = new Date() }) {
  const date = amzDate(now);
  const day = date.slice(0, 8);
  const signed = {};
  for (const [name, value] of Object.entries(headers)) signed[name.toLowerCase()] = value;
  signed.host = host;
  signed['x-amz-date'] = date;
  if (credentials.sessionToken) signed['x-amz-security-token'] = credentials.sessionToken;
  const names = Object.keys(signed).sort();
  const canonicalHeaders = names
    .map((n) => `${n}:${String(signed[n]).trim().replace(/\s+/g, ' ')}\n`).join('');
  const signedHeaders = names.join(';');
  const canonical = [method, path, '', canonicalHeaders, signedHeaders,
                     await sha256Hex(body)].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', date, scope, await sha256Hex(canonical)].join('\n');
  let key = await hmac(`AWS4${credentials.secretAccessKey}`, day);
  key = await hmac(key, region);
  key = await hmac(key, service);
  key = await hmac(key, 'aws4_request');
  const signature = hex(await hmac(key, toSign));
  const out = { ...headers, 'X-Amz-Date': date };
  if (credentials.sessionToken) out['X-Amz-Security-Token'] = credentials.sessionToken;
  out.Authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, ` +
    `SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return out;
}
