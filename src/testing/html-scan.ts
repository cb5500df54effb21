/**
 * The few things a simulated browser reads from server-rendered pages: a tag's attribute and the
 * message of an error card. Regular expressions suffice because the pages come from hitstate's
 * own servers, which always double-quote attribute values.
 *
 * @module
 */

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Decodes the character references an HTML escaper produces. */
export function decodeHtml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code =
        ref[1] === 'x' || ref[1] === 'X' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
      return Number.isFinite(code) ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

/** The value of `attribute` on the first `<tag>` that has it (and `where`, when given), decoded. */
export function attributeOf(
  html: string,
  tag: string,
  attribute: string,
  where?: { readonly attribute: string; readonly value: string },
): string | undefined {
  for (const match of html.matchAll(new RegExp(`<${tag}\\b[^>]*>`, 'gi'))) {
    const element = match[0];
    const read = (name: string): string | undefined => {
      const found = new RegExp(`\\s${name}="([^"]*)"`, 'i').exec(element);
      return found === null ? undefined : decodeHtml(found[1]!);
    };
    if (where !== undefined && read(where.attribute) !== where.value) continue;
    const value = read(attribute);
    if (value !== undefined) return value;
  }
  return undefined;
}

/** The text of an error page: the paragraphs of its error card, or of the body when there is none. */
export function pageMessage(html: string): string {
  const card = /<div class="card error">([\s\S]*?)<\/div>/i.exec(html)?.[1] ?? html;
  const paragraphs = [...card.matchAll(/<p[^>]*>([\s\S]*?)<\/p>/gi)].map((m) =>
    decodeHtml(m[1]!.replace(/<[^>]+>/g, '')).trim(),
  );
  const text = paragraphs.filter(Boolean).join(' ');
  return text !== ''
    ? text
    : decodeHtml(card.replace(/<[^>]+>/g, ' '))
        .replace(/\s+/g, ' ')
        .trim()
        .slice(0, 300);
}
