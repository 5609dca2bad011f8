type RandomSource = Pick<Crypto, 'getRandomValues'> & { randomUUID?: () => string };

/**
 * A random (version 4) UUID as canonical text. `randomUUID` exists only in
 * secure contexts (https, localhost), so pages served over plain http get one
 * from `getRandomValues`, and very old browsers from Math.random.
 */
export function uuid(source: RandomSource | undefined = globalThis.crypto): string {
  if (source?.randomUUID) return source.randomUUID();
  const bytes = new Uint8Array(16);
  if (source) source.getRandomValues(bytes);
  else for (let i = 0; i < 16; i++) bytes[i] = Math.random() * 256;
  bytes[6] = (bytes[6] & 15) | 64;
  bytes[8] = (bytes[8] & 63) | 128;
  let text = '';
  for (let i = 0; i < 16; i++)
    text += (i == 4 || i == 6 || i == 8 || i == 10 ? '-' : '') + (bytes[i] + 256).toString(16).slice(1);
  return text;
}
