/**
 * GraphQL documents (`application/graphql` bodies, a `query` parameter, `{"query": ...}` in JSON),
 * parsed with the `graphql` package and flattened into arguments named by path: each argument value,
 * variable default, directive argument and string literal becomes one argument
 * (`query { user(id: "1' OR 1=1--") { name } }` → `<prefix>.query.user.id` = `1' OR 1=1--`).
 * Rules then see what the application will use, not the query syntax (braces, colons, field names
 * such as `exec` or `system`), which CRS's command-injection rules read as shell code. Introspection
 * meta-fields (`__schema`, `__type`) are kept as arguments too (`<prefix>.query.__schema` = `__schema`).
 * A document that does not parse, or that defines types, is left alone: the caller inspects it as
 * text. Comments (`# ...`) are not arguments; a caller keeps the text when the document has one.
 *
 * Input and output are byte strings. Never throws.
 */
import { createRequire } from 'node:module'
import type { ArgumentNode, DirectiveNode, DocumentNode, SelectionSetNode, ValueNode } from 'graphql'
import type { Pair } from './urlencoded.js'

/** Tokens a document may have (the parser's own DoS limit). */
const MAX_TOKENS = 20_000
/** Nesting of selections and values walked; deeper parts are not flattened. */
const MAX_DEPTH = 64

/** The meta-fields that read the schema itself (`__typename` only names an object's type). */
const INTROSPECTION = new Set(['__schema', '__type'])

/** Whether `text` could be a GraphQL document worth parsing (it selects something). */
function looksLikeGraphql(text: string): boolean {
  return text.includes('{') && text.includes('}')
}

/**
 * The arguments of the GraphQL document `text`, names starting with `prefix`, or `undefined` when
 * it is not a document that parses. At most `limit` arguments are returned.
 */
export function graphqlArgs(text: string, prefix: string, limit: number): Pair[] | undefined {
  if (!looksLikeGraphql(text)) return undefined
  let doc: DocumentNode
  try {
    doc = graphql().parse(Buffer.from(text, 'latin1').toString('utf8'), {
      noLocation: true,
      maxTokens: MAX_TOKENS,
    })
  } catch {
    return undefined
  }
  // Only operations and fragments: a type-system definition (`union A = B | C`) is not a request.
  if (doc.definitions.some((d) => d.kind !== 'OperationDefinition' && d.kind !== 'FragmentDefinition'))
    return undefined
  const out: Pair[] = []
  const push = (key: string, value: string): void => {
    if (out.length < limit) out.push({ key: toBytes(key), value: toBytes(value) })
  }
  const value = (v: ValueNode, path: string, depth: number): void => {
    if (depth > MAX_DEPTH) return
    switch (v.kind) {
      case 'StringValue':
      case 'IntValue':
      case 'FloatValue':
      case 'EnumValue':
        push(path, v.value)
        return
      case 'BooleanValue':
        push(path, String(v.value))
        return
      case 'ListValue':
        v.values.forEach((x, i) => value(x, `${path}.array_${i}`, depth + 1))
        return
      case 'ObjectValue':
        for (const f of v.fields) value(f.value, `${path}.${f.name.value}`, depth + 1)
        return
      default:
        return // variables ($id) come with the request's own variables; null has no text
    }
  }
  const args = (list: readonly ArgumentNode[] | undefined, path: string, depth: number): void => {
    for (const a of list ?? []) value(a.value, `${path}.${a.name.value}`, depth + 1)
  }
  const directives = (list: readonly DirectiveNode[] | undefined, path: string, depth: number): void => {
    for (const d of list ?? []) args(d.arguments, `${path}.@${d.name.value}`, depth)
  }
  const selections = (set: SelectionSetNode | undefined, path: string, depth: number): void => {
    if (set === undefined || depth > MAX_DEPTH) return
    for (const s of set.selections) {
      if (s.kind === 'Field') {
        const p = `${path}.${s.alias?.value ?? s.name.value}`
        // Introspection stays visible (rule 9500250): the meta-field, named by its path, even under an alias.
        if (INTROSPECTION.has(s.name.value)) push(`${path}.${s.name.value}`, s.name.value)
        args(s.arguments, p, depth)
        directives(s.directives, p, depth)
        selections(s.selectionSet, p, depth + 1)
      } else if (s.kind === 'InlineFragment') {
        directives(s.directives, path, depth)
        selections(s.selectionSet, path, depth + 1)
      } else {
        directives(s.directives, path, depth)
      }
    }
  }
  for (const d of doc.definitions) {
    if (d.kind === 'OperationDefinition') {
      const p = `${prefix}.${d.name?.value ?? d.operation}`
      for (const v of d.variableDefinitions ?? []) {
        if (v.defaultValue) value(v.defaultValue, `${p}.$${v.variable.name.value}`, 1)
      }
      directives(d.directives, p, 0)
      selections(d.selectionSet, p, 0)
    } else if (d.kind === 'FragmentDefinition') {
      const p = `${prefix}.${d.name.value}`
      directives(d.directives, p, 0)
      selections(d.selectionSet, p, 0)
    }
  }
  return out
}

function toBytes(s: string): string {
  if (/^[\x00-\x7f]*$/.test(s)) return s
  return Buffer.from(s, 'utf8').toString('latin1')
}

/** graphql, loaded at the first document (most traffic has none). */
function graphql(): typeof import('graphql') {
  return createRequire(import.meta.url)('graphql') as typeof import('graphql')
}

/**
 * `args` with every GraphQL document flattened: a `query` parameter (GET or form), `json.query` or
 * `json.array_N.query` (batched) from a JSON body. The document's own text is dropped unless it has
 * a `#` (a comment could hide a payload for an application that does not read GraphQL).
 */
export function expandGraphql<T extends Pair>(args: readonly T[], limit: number): Pair[] | undefined {
  let out: Pair[] | undefined
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (!isDocumentKey(a.key)) continue
    const flat = graphqlArgs(a.value, a.key, limit)
    if (flat === undefined) continue
    out ??= args.slice(0, i)
    if (a.value.includes('#')) out.push(a)
    out.push(...flat)
    for (let j = i + 1; j < args.length; j++) {
      const b = args[j]!
      if (!isDocumentKey(b.key)) {
        out.push(b)
        continue
      }
      const more = graphqlArgs(b.value, b.key, limit)
      if (more === undefined || b.value.includes('#')) out.push(b)
      if (more !== undefined) out.push(...more)
    }
    return out.slice(0, Math.max(limit, args.length))
  }
  return out
}

function isDocumentKey(key: string): boolean {
  return key === 'query' || key === 'json.query' || /^json\.array_\d+\.query$/.test(key)
}
