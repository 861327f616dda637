/**
 * The one rule for "this body is JSON", shared by our 415 gate and the framework's validators.
 * @hono/zod-openapi refuses (415) any Content-Type outside
 * `application/[<tree>+]json` followed by `; name=value` parameters (case-insensitive, letters,
 * digits, dots and dashes in the suffix), and hono's validator parses only what passes that. A looser
 * gate of ours let e.g. `application/json;` or `application/x_y+json` through to the framework's own
 * 415, so the rule is the framework's, exactly: accepted here iff it is accepted there.
 */
const JSON_MEDIA_TYPE = /^application\/([a-z.-]+\+)?json(;\s*[a-zA-Z0-9-]+=([^;]+))*$/i;

export const isJsonMediaType = (contentType: string | undefined) =>
  contentType !== undefined && JSON_MEDIA_TYPE.test(contentType);

/**
 * RFC 9110 If-None-Match: `*` or a comma-separated list of (weak) entity tags. Anything else is
 * malformed and ignored (served as if absent), never handed to storage, whose conditional read throws.
 */
const ENTITY_TAG = /(W\/)?"[\x21\x23-\x7e\x80-\xff]*"/;
const IF_NONE_MATCH = new RegExp(`^\\s*(\\*|${ENTITY_TAG.source}(\\s*,\\s*${ENTITY_TAG.source})*)\\s*$`);

export const wellFormedIfNoneMatch = (value: string | undefined) =>
  value !== undefined && IF_NONE_MATCH.test(value) ? value : undefined;
