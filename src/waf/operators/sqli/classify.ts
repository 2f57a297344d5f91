/**
 * Decides from a folded token list whether a fragment is an SQL injection.
 *
 * An injection starts where the fragment starts: in a quote context it first closes the string the
 * application opened, in the bare context it continues a number or name. So every rule is anchored
 * at the first token. The list is read as
 *
 *   head  = an expression (operand (operator operand)*), then any `)`
 *   then one of:
 *     & condition        ' OR 1=1     1 AND SLEEP(5)     ') OR ('a'='a
 *     UNION SELECT ...   ' UNION ALL SELECT NULL--
 *     ; statement        '; DROP TABLE users--
 *     statement          ') WAITFOR DELAY '0:0:5'--   (MSSQL needs no `;`)
 *     clause             ' ORDER BY 3--   1 HAVING 1=1
 *     comment            admin'--
 *     nothing            '+SLEEP(5)+'  (the head re-opens the string the application closes)
 *
 * Prose fails these shapes because words are names, not literals: "cats and dogs" is name & name,
 * "O'Brien" in the quote context is string then name. A bare name as the head (`abc OR ...`) needs
 * literal evidence on the right. Every loop advances an index into the list, so the cost is linear.
 */
import { ATTACK_FUNCTIONS, STRONG_STATEMENTS } from './keywords.js'
import type { SqlContext, SqlToken } from './tokenizer.js'

interface Expr {
  end: number
  ops: number
  cmp: boolean
  func: boolean
  sub: boolean
  /** Calls an attack function (SLEEP, LOAD_FILE ...) with argument tokens that read as SQL. */
  attack: boolean
  lits: number
  vars: number
  names: number
  /** `<` and `>` operators: markup like `"<b>"` reads as string < name > string. */
  angles: number
}

interface Parens {
  end: number
  func: boolean
  sub: boolean
  attack: boolean
  /** Literal or function tokens inside, and no two operands side by side (`8 hours`). */
  sqlish: boolean
  empty: boolean
}

const CLAUSES = new Set(['WHERE', 'ORDER BY', 'GROUP BY', 'HAVING', 'LIMIT', 'PROCEDURE', 'INTO', 'OFFSET'])
const DDL_OBJECTS = new Set([
  'TABLE',
  'DATABASE',
  'VIEW',
  'PROCEDURE',
  'FUNCTION',
  'INDEX',
  'TRIGGER',
  'SCHEMA',
])
/** Keywords that may follow a select list. */
const SELECT_FOLLOW = new Set([
  'FROM',
  'INTO',
  'WHERE',
  'LIMIT',
  'ORDER BY',
  'GROUP BY',
  'HAVING',
  'AS',
  'OFFSET',
  'PROCEDURE',
])
const AFTER_ORDER = new Set([
  'ASC',
  'DESC',
  'LIMIT',
  'HAVING',
  'INTO',
  'PROCEDURE',
  'OFFSET',
  'ORDER BY',
  'GROUP BY',
])

class Classifier {
  readonly #t: readonly SqlToken[]
  readonly #truncated: boolean
  readonly #quoted: boolean
  /** The head is a bare name in the bare context: the weakest start, it needs literal evidence. */
  #weak = false
  /** The head is a number, variable or closes a parenthesis in the bare context. */
  #numeric = false
  /** The value starts with AND / OR / XOR (bare context). */
  #leadingLogic = false

  constructor(tokens: readonly SqlToken[], truncated: boolean, context: SqlContext) {
    this.#t = tokens
    this.#truncated = truncated
    this.#quoted = context !== ''
  }

  #type(i: number): string | undefined {
    return this.#t[i]?.type
  }

  #text(i: number): string | undefined {
    return this.#t[i]?.text
  }

  /** True at the end of the fragment or at a trailing comment (which cuts off the application's query). */
  #atEnd(i: number): boolean {
    if (i >= this.#t.length) return !this.#truncated
    return this.#t[i]?.type === 'c'
  }

  /** From an opening `(`, the index after its matching `)` (or the end), and what it holds. */
  #skipParens(i: number): Parens {
    let depth = 0
    let func = false
    let sub = false
    let attack = false
    let evidence = false
    let adjacent = false
    let prevOperand = false
    let j = i
    const done = (end: number): Parens => ({
      end,
      func,
      sub,
      attack,
      sqlish: evidence && !adjacent,
      empty: end === i + 2,
    })
    for (; j < this.#t.length; j++) {
      const ty = this.#type(j)
      const operand = ty === 's' || ty === '1' || ty === 'v' || ty === 'n'
      if (operand && prevOperand) adjacent = true
      prevOperand = operand
      if (ty === '(') depth++
      else if (ty === ')') {
        depth--
        if (depth === 0) return done(j + 1)
      } else if (ty === 'f') {
        func = true
        evidence = true
        if (ATTACK_FUNCTIONS.has(this.#text(j) ?? '')) attack = true
      } else if (ty === 'E' && this.#text(j) === 'SELECT') sub = true
      else if (ty === 's' || ty === '1' || ty === 'v') evidence = true
    }
    return done(j)
  }

  #expr(i: number): Expr | null {
    const e: Expr = {
      end: i,
      ops: 0,
      cmp: false,
      func: false,
      sub: false,
      attack: false,
      lits: 0,
      vars: 0,
      names: 0,
      angles: 0,
    }
    if (!this.#operand(i, e)) return null
    while (this.#type(e.end) === 'o') {
      const opAt = e.end
      const cmp = this.#t[opAt]?.cmp === true
      e.end = opAt + 1
      if (!this.#operand(e.end, e)) {
        e.end = opAt
        break
      }
      e.ops++
      const op = this.#text(opAt)
      if (op === '<' || op === '>') e.angles++
      if (cmp) e.cmp = true
    }
    return e
  }

  #operand(i: number, e: Expr): boolean {
    const ty = this.#type(i)
    switch (ty) {
      case 'v':
        e.vars++
        e.lits++
        e.end = i + 1
        return true
      case 's':
      case '1':
        e.lits++
        e.end = i + 1
        return true
      case 'n':
        e.names++
        e.end = i + 1
        return true
      case 'f': {
        e.func = true
        if (this.#type(i + 1) !== '(') {
          e.end = i + 1
          return true
        }
        const p = this.#skipParens(i + 1)
        if (p.sub) e.sub = true
        if (p.attack || (ATTACK_FUNCTIONS.has(this.#text(i) ?? '') && (p.sqlish || p.empty))) e.attack = true
        e.end = p.end
        return true
      }
      case '(': {
        const p = this.#skipParens(i)
        if (p.func) e.func = true
        if (p.sub) e.sub = true
        if (p.attack) e.attack = true
        if (this.#type(i + 1) === 'E' && this.#text(i + 1) === 'SELECT') e.sub = true
        if (!p.func && !p.sub) e.lits++
        e.end = p.end
        return true
      }
      default:
        return false
    }
  }

  run(): boolean {
    if (!this.#quoted && this.#type(0) === '&') {
      // `or 1=1--`: the value itself ends in the application's number
      this.#weak = true
      this.#leadingLogic = true
      return this.#condition(1)
    }
    if (!this.#quoted) {
      let p = 0
      while (this.#type(p) === '(') p++
      if (this.#type(p) === 'E') return this.#statement(p, true)
    }
    if (!this.#quoted && this.#type(0) === 'U') return this.#union(1, true) // `union select x from`
    if (!this.#quoted && this.#type(0) === ';') return this.#type(1) === 'E' && this.#statement(1, true)
    const head = this.#expr(0)
    if (head === null) return false
    const first = this.#type(0)
    this.#weak = !this.#quoted && first === 'n'
    let j = head.end
    // a value list the application opened: '1', '2', '3'); ...
    while (this.#quoted && this.#type(j) === ',') {
      const more = this.#expr(j + 1)
      if (more === null) break
      j = more.end
    }
    let closes = 0
    while (this.#type(j) === ')') {
      j++
      closes++
    }
    this.#numeric = !this.#quoted && (first === '1' || first === 'v' || closes > 0)
    const strong = this.#quoted || this.#numeric

    if (this.#atEnd(j)) {
      const n = this.#t.length
      const last = this.#t[n - 1]
      // '+SLEEP(5)+'  '||(SELECT 1)||'  " | x | "  : breaks out and re-opens the application's string
      // (a bare `'x' * 'prose with spaces` is prose quoting a symbol, so s o s needs a short tail)
      if (j >= n && this.#quoted && head.ops > head.angles && n >= 3 && last?.type === 's' && !last.closed) {
        if (n > 3 || !last.spaced) return true
      }
      // x" | type %SYSTEMROOT%\win.ini : an operator chain straight after the broken-out string
      if (j >= n && this.#quoted && head.ops - head.angles >= 2 && head.end === j) return true
      if (head.sub || head.attack || (this.#quoted && head.func)) return true
      if (this.#type(j) === 'c') return this.#quoted || (this.#numeric && closes > 0)
      return false
    }
    const t = this.#t[j]
    if (t === undefined) return false // reading stopped early: not enough to decide
    switch (t.type) {
      case '&':
        return this.#condition(j + 1)
      case 'U':
        return this.#union(j + 1, this.#weak)
      case ';':
        if (this.#atEnd(j + 1)) return strong && this.#type(j + 1) === 'c'
        if (this.#quoted && this.#type(j + 1) === 'f') return true
        return this.#type(j + 1) === 'E' && this.#statement(j + 1, this.#weak)
      case 'E':
        // MSSQL runs juxtaposed statements; elsewhere a statement needs `;`. Prose after an
        // apostrophe ("the boys' drop off") reads like this, so only strong words and SELECT count.
        if (!strong) return false
        if (STRONG_STATEMENTS.has(t.text)) return this.#statement(j, false)
        return t.text === 'SELECT' && (this.#quoted || closes > 0) && this.#statement(j, true)
      case 'k':
        return strong && this.#clause(j)
      case 'f':
        return this.#quoted && j === 1
      case '(': {
        // '/x' (SELECT LOAD_FILE('...')) '
        if (!this.#quoted || j !== 1) return false
        const p = this.#skipParens(j)
        return p.sub || p.attack
      }
      case ',': {
        if (!this.#quoted) return false
        let p = j + 1
        while (this.#type(p) === '(') p++
        return this.#type(p) === 'f' || (this.#type(p) === 'E' && this.#text(p) === 'SELECT')
      }
      default:
        return false
    }
  }

  /** A comparison after AND/OR: whether it reads as SQL rather than prose. */
  #comparisonHolds(e: Expr): boolean {
    // an operand right after the comparison is not SQL: 'OR 1=1' mean in SQL?
    const f = this.#type(e.end)
    if (f === 'n' || f === '1' || f === 'v' || (f === 's' && this.#t[e.end]?.spaced === true)) return false
    // after a bare name only a literal-only comparison counts: `x or 1=1`, not `x<5 or y>10`;
    // a value that opens with the connective (`OR name = '`) is SQL from its first word
    return !this.#weak || (e.lits > 0 && (e.names === 0 || this.#leadingLogic))
  }

  #condition(i: number): boolean {
    // A comparison of parenthesised operands: ') OR ('x')=('x   1) or (1)=(1
    if (this.#type(i) === '(') {
      const whole = this.#expr(i)
      if (whole !== null && whole.cmp && whole.lits >= 2 && this.#comparisonHolds(whole)) return true
    }
    let p = i
    while (this.#type(p) === '(') p++
    const ty = this.#type(p)
    if (ty === 'E') return this.#text(p) === 'SELECT'
    if (ty === 'k') return this.#text(p) === 'CASE' && !this.#weak
    const e = this.#expr(p)
    if (e === null) return false
    if (e.func || e.sub) return true
    if (e.cmp) return this.#comparisonHolds(e)
    let r = e.end
    while (this.#type(r) === ')') r++
    if (this.#atEnd(r)) {
      // ' OR 'x  (the application's quote closes it); a spaced string is prose: 'or' is a word
      if (this.#quoted) return e.lits > 0 && e.names === 0 && !this.#t[e.end - 1]?.spaced
      return this.#numeric && this.#type(r) === 'c' && e.lits > 0
    }
    switch (this.#type(r)) {
      case '&':
        return this.#condition(r + 1)
      case 'U':
        return this.#union(r + 1, this.#weak)
      case ';':
        return !this.#weak && this.#type(r + 1) === 'E' && this.#statement(r + 1, false)
      case 'k':
        return !this.#weak && e.lits > 0 && this.#clause(r)
      default:
        return false
    }
  }

  /** At the token after UNION (or at SELECT itself). `weak` asks for a select list that reads as SQL. */
  #union(i: number, weak: boolean): boolean {
    let p = i
    while (this.#type(p) === '(') p++
    if (this.#type(p) !== 'E' || this.#text(p) !== 'SELECT') return false
    const q = p + 1
    if (this.#atEnd(q)) return !weak
    const u = this.#t[q]
    if (u === undefined) return false
    if (u.type === 'o' && u.text === '*') {
      if (this.#atEnd(q + 1)) return !weak
      return this.#type(q + 1) === ',' || this.#text(q + 1) === 'FROM'
    }
    if (u.type === 'k') return !weak
    const e = this.#expr(q)
    if (e === null) return false
    if (this.#atEnd(e.end)) {
      // "Select" brand coffee: a bare literal only counts before a comment or as a variable (@@version)
      if (!weak || e.func || e.sub || e.vars > 0 || this.#text(e.end - 1) === 'HEX') return true
      return e.lits > 0 && this.#type(e.end) === 'c'
    }
    const w = this.#type(e.end)
    if (w === 'k') return SELECT_FOLLOW.has(this.#text(e.end) ?? '')
    if (w === '&') {
      let p = e.end + 1
      while (this.#type(p) === '(') p++
      return e.func || e.sub || (this.#type(p) === 'E' && this.#text(p) === 'SELECT')
    }
    return w === ',' || w === 'o' || w === ')' || w === 'U' || (w === ';' && !weak)
  }

  /** At a statement word. `strict` when nothing before it proves an injection (bare context, name head). */
  #statement(i: number, strict: boolean): boolean {
    const a = this.#t[i + 1]
    const b = this.#t[i + 2]
    const c = this.#t[i + 3]
    switch (this.#text(i)) {
      case 'SELECT':
        return this.#union(i, strict)
      case 'INSERT':
      case 'REPLACE':
        if (a?.type !== 'k' || a.text !== 'INTO') return false
        if (!strict) return true
        return (
          (b?.type === 'n' || b?.type === 'k') &&
          (c?.type === '(' || c?.text === 'VALUES' || c?.text === 'SELECT' || c?.text === 'SET')
        )
      case 'UPDATE':
        return a?.type === 'n' && b?.type === 'k' && b.text === 'SET'
      case 'DELETE':
        if (a?.type !== 'k' || a.text !== 'FROM') return false
        if (!strict) return true
        return b?.type === 'n' && (c?.text === 'WHERE' || c?.type === ';' || c?.type === 'c')
      case 'DROP':
      case 'CREATE':
      case 'ALTER':
      case 'TRUNCATE':
      case 'RENAME':
        if (a?.type === 'k' && DDL_OBJECTS.has(a.text)) {
          return !strict || (b?.type === 'n' && (this.#atEnd(i + 3) || c?.type === ';'))
        }
        return !strict && a?.type === 'n'
      case 'EXEC':
      case 'EXECUTE':
        if (a?.type === 'f') return true
        if (a?.type === 'n' && (a.text.includes('_') || a.text.includes('.'))) return true
        return !strict && (a?.type === 'n' || a?.type === 'v' || a?.type === 's' || a?.type === '(')
      case 'DECLARE':
        return a?.type === 'v'
      case 'WAITFOR':
        return a?.type === 's' || a?.type === '1'
      case 'SHUTDOWN':
        return !strict || a?.type === ';' || a?.type === 'c' || a?.text === 'WITH'
      case 'COPY':
        return !strict && (a?.type === '(' || a?.type === 'n')
      case 'GRANT':
      case 'REVOKE':
      case 'DBCC':
        return !strict && (a?.type === 'k' || a?.type === 'n' || a?.type === 'E')
      default:
        return false
    }
  }

  /** At ORDER BY, GROUP BY, HAVING, LIMIT, PROCEDURE, INTO, OFFSET right after the head. */
  #clause(i: number): boolean {
    const k = this.#text(i) ?? ''
    if (!CLAUSES.has(k)) return false
    const a = this.#t[i + 1]
    if (k === 'INTO') return a?.text === 'OUTFILE' || a?.text === 'DUMPFILE' || a?.type === 'v'
    if (k === 'PROCEDURE') return a?.type === 'n' || a?.type === 'f'
    const e = this.#expr(i + 1)
    if (e === null) return false
    if (k === 'HAVING' || k === 'WHERE') return e.cmp || e.func
    if (e.sub || e.attack) return true // GROUP BY CONCAT(0x71,(SELECT ...))
    const r = e.end
    if (this.#atEnd(r)) return this.#quoted || this.#type(r) === 'c'
    const w = this.#t[r]
    if (w === undefined) return false
    if (w.type === ',' || w.type === ';') return true
    if (w.type === 'k') return AFTER_ORDER.has(w.text)
    if (w.type === 'U') return this.#union(r + 1, false)
    return false
  }
}

/** True when the folded tokens read as an injection that starts at the first token. */
export function isSqlInjection(
  tokens: readonly SqlToken[],
  truncated: boolean,
  context: SqlContext,
): boolean {
  if (tokens.length === 0) return false
  return new Classifier(tokens, truncated, context).run()
}
