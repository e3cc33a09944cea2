/**
 * The Sec-WebSocket-Extensions grammar of RFC 6455 §9.1 read by the model, in another way than
 * src/protocol/extensions/extension-header.ts (a tokenizer and a small grammar over its tokens):
 *   extension-list = 1#extension   extension = extension-token *( ";" extension-param )
 *   extension-param = token [ "=" (token | quoted-string) ]   (a quoted value must be a token)
 * With RFC 9110 §5.6.1's list rules (empty elements allowed) and OWS (spaces and tabs) around
 * the separators. Names are lowercased, values kept.
 */
import { isToken } from './http-token.js';

export interface ModelExtension {
  readonly name: string;
  readonly params: Array<[string, string | true]>;
}

type Piece = { kind: 'token'; text: string } | { kind: 'quoted'; text: string } | { kind: 'sep'; text: ',' | ';' | '=' };

function tokenize(header: string): Piece[] | null {
  const pieces: Piece[] = [];
  // token | quoted-string (with quoted-pairs) | separator | OWS
  const pattern = /([!#$%&'*+\-.^_`|~0-9A-Za-z]+)|"((?:[^"\\]|\\[\s\S])*)"|([,;=])|([ \t]+)/y;
  let at = 0;
  while (at < header.length) {
    pattern.lastIndex = at;
    const match = pattern.exec(header);
    if (match === null) return null;
    at = pattern.lastIndex;
    if (match[1] !== undefined) pieces.push({ kind: 'token', text: match[1] });
    else if (match[2] !== undefined) pieces.push({ kind: 'quoted', text: match[2].replace(/\\([\s\S])/g, '$1') });
    else if (match[3] !== undefined) pieces.push({ kind: 'sep', text: match[3] as ',' | ';' | '=' });
  }
  return pieces;
}

/** The list, or null when the header is malformed. */
export function readExtensionList(header: string): ModelExtension[] | null {
  const pieces = tokenize(header);
  if (pieces === null) return null;
  const list: ModelExtension[] = [];
  let i = 0;
  const next = (): Piece | undefined => pieces[i];
  while (i < pieces.length) {
    const piece = next()!;
    if (piece.kind === 'sep' && piece.text === ',') {
      i++; // an empty list element
      continue;
    }
    if (piece.kind !== 'token') return null;
    const extension: ModelExtension = { name: piece.text.toLowerCase(), params: [] };
    i++;
    while (next()?.kind === 'sep' && next()!.text === ';') {
      i++;
      const name = next();
      if (name?.kind !== 'token') return null;
      i++;
      let value: string | true = true;
      if (next()?.kind === 'sep' && next()!.text === '=') {
        i++;
        const given = next();
        if (given === undefined || given.kind === 'sep' || !isToken(given.text)) return null;
        value = given.text;
        i++;
      }
      extension.params.push([name.text.toLowerCase(), value]);
    }
    list.push(extension);
    const after = next();
    if (after === undefined) break;
    if (after.kind !== 'sep' || after.text !== ',') return null;
    i++;
  }
  return list;
}
